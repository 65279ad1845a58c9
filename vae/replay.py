"""Training replay: the latent space forming epoch by epoch.

vae.train records, after every epoch, where the encoder puts a fixed set of test digits (their
posterior means) and, at a few epochs, a small decoded manifold; `save_replay` writes them beside
the checkpoint as <checkpoint>.replay.pt, compact (means in float16, digits as uint8), with the
run's per-epoch metrics. A page can scrub through the epochs with it.
"""
from pathlib import Path

import numpy as np
import torch

from vae.latent import decode_images, grid_points
from vae.model import VAE

MANIFOLD_EPOCHS = (1, 2, 3, 5, 10, 20, 40)  # and the last epoch of the run
MANIFOLD_N = 10  # a 10 x 10 grid of decodes...
MANIFOLD_SPAN = 4.0  # ...from -2 to 2 on both axes, even in the prior's CDF (as Kingma & Welling's figure)


def replay_path(checkpoint: str | Path) -> Path:
    """Where the replay of a checkpoint lives: runs/vae.pt -> runs/vae.replay.pt."""
    checkpoint = Path(checkpoint)
    return checkpoint.with_name(checkpoint.stem + ".replay.pt")


def new_replay(labels: torch.Tensor) -> dict:
    """An empty replay for digits with these labels."""
    return {"labels": labels.to(torch.uint8), "epochs": [], "mu": [], "manifold_epochs": [], "manifolds": []}


@torch.no_grad()
def record(replay: dict, model: VAE, digits: torch.Tensor, epoch: int, last: bool) -> None:
    """Add epoch `epoch`'s posterior means of `digits` [N, 1, 28, 28], and its manifold if the epoch
    is one of MANIFOLD_EPOCHS or the `last`."""
    model.eval()
    replay["epochs"].append(epoch)
    replay["mu"].append(model.encode(digits)[0].half().cpu())
    if epoch in MANIFOLD_EPOCHS or last:
        replay["manifold_epochs"].append(epoch)
        replay["manifolds"].append(torch.from_numpy(decode_images(model, manifold_points())))


def save_replay(path: str | Path, replay: dict, history: list[dict]) -> None:
    """Write the replay (and the run's per-epoch metrics) in a file torch.load(weights_only=True) reads."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"labels": replay["labels"], "epochs": torch.tensor(replay["epochs"]), "mu": torch.stack(replay["mu"]),
                "manifold_epochs": torch.tensor(replay["manifold_epochs"]),
                "manifolds": torch.stack(replay["manifolds"]) if replay["manifolds"] else torch.zeros(0, dtype=torch.uint8),
                "history": history}, tmp)
    tmp.replace(path)


def load_replay(path: str | Path, upto: int | None = None) -> dict:
    """A replay as save_replay wrote it, its lists back as lists so that a resumed run can go on
    adding; with `upto`, only its epochs up to that one (those of the checkpoint it resumes)."""
    saved = torch.load(path, map_location="cpu", weights_only=True)
    upto = upto if upto is not None else max(saved["epochs"].tolist(), default=0)
    keep = [i for i, e in enumerate(saved["epochs"].tolist()) if e <= upto]
    keep_manifolds = [i for i, e in enumerate(saved["manifold_epochs"].tolist()) if e <= upto]
    return {"labels": saved["labels"], "epochs": [int(saved["epochs"][i]) for i in keep], "mu": [saved["mu"][i] for i in keep],
            "manifold_epochs": [int(saved["manifold_epochs"][i]) for i in keep_manifolds],
            "manifolds": [saved["manifolds"][i] for i in keep_manifolds]}


def manifold_points() -> np.ndarray:
    """The latent points of a replay's manifold, in the row-major order of its digits. [MANIFOLD_N ** 2, 2]"""
    return grid_points(0.0, 0.0, MANIFOLD_SPAN, MANIFOLD_N, "cdf")[2]
