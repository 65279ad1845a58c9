"""Your own checkpoints beside the committed models: which ones the app was asked to show, and the
figures of one that `python -m vae.evaluate` has not measured.

    python app.py --checkpoint mine=runs/x.pt [--checkpoint other=runs/y.pt] [--only-mine]
    VAE_CHECKPOINTS="mine=runs/x.pt,other=runs/y.pt" VAE_ONLY_MINE=1 gradio app.py

The environment variables do for `gradio app.py` and a Hugging Face Space what the options do for
`python app.py`; both may be given, and name different models. The first own model is the page's
first model (and the API's default).

A model's figures (its metrics.json and test_latents.pt) are used only where vae.evaluate wrote them
for this very checkpoint, as the SHA-256 they record says: two checkpoints evaluated in one folder
overwrite each other's files, and a retrained one keeps its old name. A model without its own are
measured here at start-up, in seconds: its codes of the MNIST test digits where VAE_DATA_DIR holds
them (else of the first 100, which the app carries), the ELBO's terms on those with one sample of z
each, and how legible its prior samples are (vae.classifier); the exact log p(x) and the IWAE bound,
minutes of quadrature, are left "not evaluated".
"""
import argparse
import json
import os
import re
from functools import cache
from pathlib import Path
from typing import NamedTuple

import torch

from vae.classifier import DEFAULT_CLASSIFIER, legibility, load_classifier
from vae.data import DATASETS, DEFAULT_DATASET, load_mnist, mnist_available
from vae.model import VAE, checkpoint_sha256, elbo

ENV_CHECKPOINTS = "VAE_CHECKPOINTS"  # "NAME=PATH,NAME=PATH"
ENV_ONLY_MINE = "VAE_ONLY_MINE"  # "1": the committed models stay out
NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")  # an address (?model=NAME) and the API carry it as it is
MESSAGE_LENGTH = 300  # a message stays one readable line, whatever torch said


class CheckpointError(ValueError):
    """A checkpoint the app cannot show, or a request it cannot read: one line that says which and why."""


class Request(NamedTuple):
    """The own checkpoints asked for, by name in the order given, and whether to leave the committed models out."""

    checkpoints: dict[str, Path]
    only_mine: bool


NONE = Request({}, False)


def one_line(message: str) -> str:
    flat = " ".join(message.split())
    return flat if len(flat) <= MESSAGE_LENGTH else flat[:MESSAGE_LENGTH - 1] + "…"


def parse_request(argv: list[str], environ: dict[str, str], committed: list[str]) -> Request:
    """The own checkpoints that app.py's options and the environment name; CheckpointError for a bad
    NAME=PATH, a name given twice or a committed model's, or --only-mine without a checkpoint."""
    parser = argparse.ArgumentParser(prog="app.py", description="The VAE explorer; serves on GRADIO_SERVER_NAME:GRADIO_SERVER_PORT.")
    parser.add_argument("--checkpoint", action="append", default=[], metavar="NAME=PATH",
                        help=f"show the checkpoint at PATH as model NAME (repeatable; also ${ENV_CHECKPOINTS}=\"NAME=PATH,...\")")
    parser.add_argument("--only-mine", action="store_true", help=f"leave the committed models out (also ${ENV_ONLY_MINE}=1)")
    args = parser.parse_args(argv)
    given = [item for item in environ.get(ENV_CHECKPOINTS, "").split(",") if item.strip()] + args.checkpoint
    checkpoints: dict[str, Path] = {}
    for item in given:
        name, equals, path = (part.strip() for part in item.partition("="))
        if not equals or not path:
            raise CheckpointError(f"--checkpoint {item!r}: write NAME=PATH, e.g. mine=runs/vae.pt")
        if not NAME.fullmatch(name):
            raise CheckpointError(f"--checkpoint {item!r}: a NAME is 1 to 32 letters, digits, '_' or '-'")
        if name in committed or name in checkpoints:
            taken = "a committed model's" if name in committed else "given twice"
            raise CheckpointError(f"--checkpoint {item!r}: the name {name!r} is {taken}; pick another")
        checkpoints[name] = Path(path)
    only_mine = args.only_mine or environ.get(ENV_ONLY_MINE, "").strip().lower() in ("1", "true", "yes")
    if only_mine and not checkpoints:
        raise CheckpointError(f"--only-mine needs at least one --checkpoint NAME=PATH (or ${ENV_CHECKPOINTS})")
    return Request(checkpoints, only_mine)


def own_figures(checkpoint: Path) -> tuple[dict, dict] | None:
    """vae.evaluate's metrics and test latents beside the checkpoint, if it wrote both for this checkpoint."""
    metrics_path, latents_path = checkpoint.parent / "metrics.json", checkpoint.parent / "test_latents.pt"
    if not (metrics_path.is_file() and latents_path.is_file()):
        return None
    sha = checkpoint_sha256(checkpoint)
    metrics = json.loads(metrics_path.read_text())
    latents = torch.load(latents_path, map_location="cpu", weights_only=True)
    if metrics.get("checkpoint_sha256") != sha or latents.get("checkpoint_sha256") != sha:
        return None
    return metrics, latents


class TestDigits(NamedTuple):
    images: torch.Tensor  # [N, 1, 28, 28] in [0, 1]
    labels: torch.Tensor  # [N]
    words: str  # which digits, as the page says it


@cache
def test_digits(committed_latents: Path, dataset: str = DEFAULT_DATASET) -> TestDigits:
    """The dataset's test digits where VAE_DATA_DIR (or ./data) holds them; else, for MNIST, the first 100,
    which the committed test_latents.pt carries with the 10,000 labels (FileNotFoundError for another dataset)."""
    if mnist_available(dataset=dataset):
        images, labels = load_mnist("test", dataset=dataset)
        return TestDigits(images, labels, f"the {len(images):,} {DATASETS[dataset].torchvision_class} test images")
    if dataset != DEFAULT_DATASET:
        raise FileNotFoundError(f"trained on {dataset}, whose test images are not under VAE_DATA_DIR; set it to their folder, "
                                "or run python -m vae.evaluate --checkpoint PATH once")
    first = torch.load(committed_latents, map_location="cpu", weights_only=True)
    images = first["images"].float().div(255).unsqueeze(1)
    return TestDigits(images, first["labels"][:len(images)],
                      f"the first {len(images)} test digits only (MNIST was not found: set VAE_DATA_DIR to its folder for all 10,000)")


def start_up_figures(model: VAE, digits: TestDigits, legible: bool = True) -> tuple[dict, dict]:
    """What vae.evaluate would write, as far as seconds allow: (metrics, latents). The ELBO's terms with
    one z per digit (seeded, without touching the app's random state); legibility where the classifier is.
    On every core: at start-up no request waits yet (load() then serves on one thread)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(os.cpu_count() or 1)
    try:
        return measure(model, digits, legible)
    finally:
        torch.set_num_threads(threads)


@torch.inference_mode()
def measure(model: VAE, digits: TestDigits, legible: bool = True, batch: int = 1000) -> tuple[dict, dict]:
    parts, codes = [], []
    with torch.random.fork_rng():
        torch.manual_seed(0)
        for start in range(0, len(digits.images), batch):
            x = digits.images[start:start + batch]
            parts.append(elbo(model, x, L=1))
            codes.append(model.encode(x))
    terms = {key: torch.cat([getattr(p, key) for p in parts]).mean().item() for key in ("elbo", "reconstruction", "kl")}
    metrics = {"digits": len(digits.images), "digits_words": digits.words, "neg_elbo": -terms["elbo"],
               "reconstruction_nll": -terms["reconstruction"], "kl": terms["kl"], "L": 1}
    if legible and DEFAULT_CLASSIFIER.is_file():  # the classifier knows MNIST's digits only
        accuracy = torch.load(DEFAULT_CLASSIFIER, map_location="cpu", weights_only=True)["test_accuracy"]
        metrics.update(legibility(model, load_classifier()), classifier_test_accuracy=accuracy)
    latents = {"mu": torch.cat([mu for mu, _ in codes]), "logvar": torch.cat([logvar for _, logvar in codes]),
               "labels": digits.labels.to(torch.uint8)}
    return metrics, latents
