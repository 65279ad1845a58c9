"""MNIST as in-memory tensors.

The data directory comes from `--data-dir` or the `VAE_DATA_DIR` environment
variable. Without either, torchvision downloads MNIST into `./data` (needs internet).
"""
import os
from pathlib import Path

import torch


def resolve_data_dir(data_dir: str | None = None) -> tuple[str, bool]:
    """(root, download): an explicit or VAE_DATA_DIR root is read as is, never downloaded into."""
    root = data_dir or os.environ.get("VAE_DATA_DIR")
    if root:
        return root, False
    return "data", True


def mnist_available(data_dir: str | None = None) -> bool:
    root, download = resolve_data_dir(data_dir)
    raw = Path(root) / "MNIST" / "raw"
    return all((raw / f).exists() for f in ("train-images-idx3-ubyte", "t10k-images-idx3-ubyte"))


def load_mnist(split: str = "train", data_dir: str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(images float32 [N, 1, 28, 28] in [0, 1], labels int64 [N]) for split 'train' or 'test'."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    from torchvision.datasets import MNIST  # here, not above: importing torchvision takes seconds

    root, download = resolve_data_dir(data_dir)
    try:
        ds = MNIST(root, train=split == "train", download=download)
    except RuntimeError as e:
        raise FileNotFoundError(
            f"MNIST not found under {Path(root).resolve()}/MNIST/raw ({e}). "
            "Pass --data-dir or set VAE_DATA_DIR to the folder that holds MNIST/raw/."
        ) from None
    return ds.data.unsqueeze(1).float().div_(255), ds.targets.long()
