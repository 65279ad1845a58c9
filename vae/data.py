"""MNIST and the MNIST-format datasets (Fashion-MNIST, KMNIST) as in-memory tensors.

The data directory comes from `--data-dir` or the `VAE_DATA_DIR` environment
variable. Without either, torchvision downloads the dataset into `./data` (needs internet).
All three are 28 x 28 grey images in ten classes, in the same IDX files, which torchvision's
own classes read from <root>/<class name>/raw/ (MNIST/raw, FashionMNIST/raw, KMNIST/raw).
"""
import os
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # imported where the data is loaded: the explorer's pictures read DATASETS without torch
    import torch


class Dataset(NamedTuple):
    """An MNIST-format dataset: the name of torchvision's class for it (by name: importing torchvision
    takes seconds), which is also the folder under the root that holds its raw/ files, and its ten
    classes' names as the latent map writes them."""

    torchvision_class: str
    classes: tuple[str, ...]


# The names are the labels the explorer's map writes on each class's cluster and in its legend: MNIST's
# are its digits (torchvision's "0 - zero" would crowd the map); the others' are torchvision's `classes`.
DATASETS = {
    "mnist": Dataset("MNIST", tuple(str(d) for d in range(10))),
    "fashion-mnist": Dataset("FashionMNIST", ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                              "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")),
    "kmnist": Dataset("KMNIST", ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")),
}
DEFAULT_DATASET = "mnist"


def class_names(meta: dict) -> list[str]:
    """The class names a checkpoint's meta records; those of MNIST for a checkpoint from before datasets were recorded."""
    return list(meta.get("classes") or DATASETS[DEFAULT_DATASET].classes)


def resolve_data_dir(data_dir: str | None = None) -> tuple[str, bool]:
    """(root, download): an explicit or VAE_DATA_DIR root is read as is, never downloaded into."""
    root = data_dir or os.environ.get("VAE_DATA_DIR")
    if root:
        return root, False
    return "data", True


def mnist_available(data_dir: str | None = None, dataset: str = DEFAULT_DATASET) -> bool:
    root, download = resolve_data_dir(data_dir)
    raw = Path(root) / DATASETS[dataset].torchvision_class / "raw"
    return all((raw / f).exists() for f in ("train-images-idx3-ubyte", "t10k-images-idx3-ubyte"))


def load_mnist(split: str = "train", data_dir: str | None = None, dataset: str = DEFAULT_DATASET
               ) -> tuple["torch.Tensor", "torch.Tensor"]:
    """(images float32 [N, 1, 28, 28] in [0, 1], labels int64 [N]) of MNIST or another dataset of
    DATASETS, for split 'train' or 'test'."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, not {dataset!r}")
    import torchvision.datasets  # here, not above: importing torchvision takes seconds

    spec = DATASETS[dataset]
    root, download = resolve_data_dir(data_dir)
    try:
        ds = getattr(torchvision.datasets, spec.torchvision_class)(root, train=split == "train", download=download)
    except RuntimeError as e:
        raise FileNotFoundError(
            f"{spec.torchvision_class} not found under {Path(root).resolve()}/{spec.torchvision_class}/raw ({e}). "
            f"Pass --data-dir or set VAE_DATA_DIR to the folder that holds {spec.torchvision_class}/raw/."
        ) from None
    return ds.data.unsqueeze(1).float().div_(255), ds.targets.long()


def binarize(images: "torch.Tensor", seed: int = 0) -> "torch.Tensor":
    """One fixed black-and-white draw of grey digits: each pixel 1 with probability its grey level,
    from a generator seeded with `seed` (on the CPU, so every device gets the same digits)."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    return torch.bernoulli(images.cpu(), generator=generator).to(images.device)
