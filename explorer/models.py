"""The committed models and the test digits, loaded once by `load()`, and the files the page draws with.

Nothing is loaded at import: app.py calls `load()` before it lays the page out (so do scripts and
tests that call the endpoints directly); until then MODELS is empty and DEFAULT None. `load()`
reads the three checkpoints (the same networks trained with the KL term weighed 0, 1 and 5), makes
for each a copy for drawing pictures fast and its latent map, reads the first 100 test digits,
and writes the files the page decodes and draws with (explorer/assets.py). Calling it again
changes nothing.

`committed(name)` is how an endpoint or event finds the model its `model` input names.
"""
import json
import threading
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from PIL import Image

from explorer import assets
from vae import draw, latent
from vae.data import class_names
from vae.inputs import InputError
from vae.model import VAE, load_checkpoint
from vae.replay import replay_path

ROOT = Path(__file__).resolve().parent.parent
CHECKPOINTS = ROOT / "checkpoints"
# The example digit the README and the API page upload, as a client names it from the repository's root: test digit
# #0, a 7, as a person's picture shows it (dark ink on white).
EXAMPLE_DIGIT = "examples/digit.png"
# The committed models in the picker's order, each folder as vae.train, vae.fit_encoder and vae.evaluate
# left it: vae.pt, vae.replay.pt, metrics.json and test_latents.pt. The names are the API's `model` values.
MODEL_FOLDERS = {"beta0": CHECKPOINTS / "beta0", "beta1": CHECKPOINTS, "beta5": CHECKPOINTS / "beta5"}
DEFAULT_MODEL = "beta1"  # the VAE, trained on the ELBO itself
CHECKPOINT = MODEL_FOLDERS[DEFAULT_MODEL] / "vae.pt"

MAP = draw.MapFrame()
# The sliders span exactly the latent map, so the marker never leaves it; the API takes
# any z and clamps it to [-inputs.Z_LIMIT, inputs.Z_LIMIT].
Z_RANGE = MAP.half
DIGIT_REGION = 4.0  # |z| beyond this: p(z) puts < 1e-4 of its mass there, and hardly any digit is encoded there
_CHECK_Z = [[0.3, -0.7], [-2.0, 1.5], [3.5, 3.5]]  # where the page compares its decoder with the server's


class Committed(NamedTuple):
    """A committed model and what the app draws from it, made once by `load()`."""

    name: str
    model: VAE  # every number
    display: VAE  # pictures only: latent.display_decoder's copy
    mu: np.ndarray  # the test digits' posterior means [10000, 2], the latent map's points
    base_map: Image.Image  # the latent map without overlays
    classes: list[str]  # the names of its dataset's classes, by label, as the map writes them (vae/data.py)
    # vae.evaluate's test-set figures, the networks' size (config), and: "beta", the KL term's weight in its
    # training objective; "epochs", how long it was trained; "sigma",
    # the test digits' median posterior standard deviation; "radius", the distance from the origin within
    # which 99% of their codes lie; "outside", the share of them beyond the latent map's window
    facts: dict
    history: list[dict]  # its training's per-epoch metrics (vae.train), as its replay stores them
    assets: dict[str, Path]  # the page's files: decoder, points, replay, and the empty map


# Filled by load(), read as models.<NAME> (never imported by name: they change when load() runs).
MODELS: dict[str, Committed] = {}  # by name, in MODEL_FOLDERS' order
DEFAULT: Committed | None = None  # MODELS[DEFAULT_MODEL]
test_labels: np.ndarray | None = None  # the 10,000 test digits' labels
test_images: np.ndarray | None = None  # uint8 [100, 28, 28], the first 100 test digits
# The folder of the page's files: every server runs from the same one, which holds nothing else and is the
# only folder the app serves as it is (app.py).
ASSET_FOLDER: Path | None = None
PAGE_MODULES: dict[str, Path] = {}  # the page's JavaScript, by module name ("page" is the entry)
_loading = threading.Lock()


def load_committed(name: str, folder: Path) -> Committed:
    """One committed model from its folder, with its map, its facts and its files for the page
    (written to ASSET_FOLDER: call after load() has set it, as load() does)."""
    model, checkpoint = load_checkpoint(folder / "vae.pt")
    latents = torch.load(folder / "test_latents.pt", map_location="cpu", weights_only=True)
    mu = latents["mu"].double().numpy()
    classes = class_names(checkpoint["meta"])
    base_map = draw.to_palette(draw.render_map(MAP, mu, test_labels, classes))
    check = {"z": _CHECK_Z, "pixels": latent.decode_images(model, _CHECK_Z).reshape(len(_CHECK_Z), -1).tolist()}
    replay = torch.load(replay_path(folder / "vae.pt"), map_location="cpu", weights_only=True)
    files = assets.write_assets(ASSET_FOLDER, checkpoint, check, mu, test_labels, test_images, replay)
    files["map"] = assets.write_asset(ASSET_FOLDER, "map", ".png", draw.png_bytes(base_map))  # the Reconstruct tab's empty map
    facts = {**json.loads((folder / "metrics.json").read_text()), **checkpoint["config"],
             "beta": checkpoint["meta"].get("beta", 1.0), "epochs": checkpoint["meta"]["epochs"],
             "sigma": latents["logvar"].mul(0.5).exp().median().item(),
             "radius": float(np.quantile(np.hypot(mu[:, 0], mu[:, 1]), 0.99)),
             "outside": float((np.abs(mu) > MAP.half).any(axis=1).mean())}
    return Committed(name, model, latent.display_decoder(model), mu, base_map, classes, facts, replay["history"], files)


def load() -> dict[str, Committed]:
    """Load the committed models and the test digits and write the page's files, once; MODELS."""
    global DEFAULT, test_labels, test_images, ASSET_FOLDER
    with _loading:
        if MODELS:
            return MODELS
        # One thread per request: two requests then run side by side on two cores instead of
        # four threads fighting over them.
        torch.set_num_threads(1)
        test = torch.load(CHECKPOINTS / "test_latents.pt", map_location="cpu", weights_only=True)
        test_labels, test_images = test["labels"].numpy(), test["images"].numpy()
        ASSET_FOLDER = assets.asset_folder()
        PAGE_MODULES.update(assets.write_modules(ASSET_FOLDER))
        loaded = {name: load_committed(name, folder) for name, folder in MODEL_FOLDERS.items()}
        DEFAULT = loaded[DEFAULT_MODEL]
        MODELS.update(loaded)  # last: a MODELS that is not empty is a finished load
        return MODELS


def committed(name: object) -> Committed:
    """The committed model an endpoint's `model` names (None or "": the default); InputError for any other value."""
    if not MODELS:
        raise RuntimeError("explorer.models.load() has not run: nothing is loaded at import")
    if name is None or name == "":
        return DEFAULT
    if not isinstance(name, str) or name not in MODELS:
        raise InputError(f"model must be one of {', '.join(map(repr, MODEL_FOLDERS))}, not {str(name)[:40]}.")
    return MODELS[name]
