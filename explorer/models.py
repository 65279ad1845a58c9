"""The models the page shows and the test digits, loaded once by `load()`, and the files the page draws with.

Nothing is loaded at import: app.py calls `load()` before it lays the page out (so do scripts and
tests that call the endpoints directly); until then MODELS is empty and DEFAULT None. `load()`
reads the three committed checkpoints (the same networks trained with the KL term weighed 0, 1 and
5) and any of your own that the request names (explorer/own.py: `python app.py --checkpoint
NAME=PATH`), makes for each a copy for drawing pictures fast and its latent map, reads the first
100 test digits, and writes the files the page decodes and draws with (explorer/assets.py). The
first own model, if any, is the default. Calling it again changes nothing.

`named(name)` is how an endpoint or event finds the model its `model` input names.
"""
import json
import threading
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from PIL import Image

from explorer import assets, own
from explorer.own import CheckpointError, Request
from vae import draw, latent
from vae.data import DEFAULT_DATASET, class_names
from vae.inputs import InputError
from vae.model import VAE, load_checkpoint
from vae.model import LATENT_DIM
from vae.replay import replay_path

ROOT = Path(__file__).resolve().parent.parent
CHECKPOINTS = ROOT / "checkpoints"
# The example digit the README and the API page upload, as a client names it from the repository's root: test digit
# #0, a 7, as a person's picture shows it (dark ink on white).
EXAMPLE_DIGIT = "examples/digit.png"
# The committed models in the picker's order, each folder as vae.train, vae.fit_encoder and vae.evaluate
# left it: vae.pt, vae.replay.pt, metrics.json and test_latents.pt. The names are the API's `model` values.
MODEL_FOLDERS = {"beta0": CHECKPOINTS / "beta0", "beta1": CHECKPOINTS, "beta5": CHECKPOINTS / "beta5"}
DEFAULT_MODEL = "beta1"  # the VAE, trained on the ELBO itself: the default unless your own are shown
CHECKPOINT = MODEL_FOLDERS[DEFAULT_MODEL] / "vae.pt"
# Not in the picker, shown by the Story (explorer/story.py): the same networks with a 20-D latent space, which no
# grid integrates; and the figures (metrics.json alone) of the same networks trained on digits binarized anew each
# batch, whose log p(x) is a true log-probability.
WIDE_FOLDER = CHECKPOINTS / "z20"
BINARIZED_FOLDER = CHECKPOINTS / "binarized"

MAP = draw.MapFrame()
# The sliders span exactly the latent map, so the marker never leaves it; the API takes
# any z and clamps it to [-inputs.Z_LIMIT, inputs.Z_LIMIT].
Z_RANGE = MAP.half
DIGIT_REGION = 4.0  # |z| beyond this: p(z) puts < 1e-4 of its mass there, and hardly any digit is encoded there
_CHECK_Z = [[0.3, -0.7], [-2.0, 1.5], [3.5, 3.5]]  # where the page compares its decoder with the server's


class Model(NamedTuple):
    """A model the page shows and what the app draws from it, made once by `load()`."""

    name: str
    checkpoint: Path
    model: VAE  # every number
    display: VAE  # pictures only: latent.display_decoder's copy
    mu: np.ndarray  # the posterior means of the test digits on its map [N, 2] (N = 10,000 but for some own models)
    labels: np.ndarray  # those digits' labels [N]
    base_map: Image.Image  # the latent map without overlays
    classes: list[str]  # the names of its dataset's classes, by label, as the map writes them (vae/data.py)
    # vae.evaluate's test-set figures (for an own model nobody evaluated, explorer/own.py's; "evaluated" says
    # which), the networks' size (config), and: "beta", the KL term's weight in its training objective;
    # "epochs", how long it was trained; "sigma", the test digits' median posterior standard deviation;
    # "radius", the distance from the origin within which 99% of their codes lie; "outside", the share of
    # them beyond the latent map's window; "path", an own checkpoint's path as given
    facts: dict
    history: list[dict]  # its training's per-epoch metrics (vae.train)
    assets: dict[str, Path]  # the page's files: decoder, points, the empty map, and the replay where it has one


# Filled by load(), read as models.<NAME> (never imported by name: they change when load() runs).
MODELS: dict[str, Model] = {}  # by name: the committed in MODEL_FOLDERS' order, then your own in the order given
DEFAULT: Model | None = None  # the first own model, else MODELS[DEFAULT_MODEL]
test_labels: np.ndarray | None = None  # the 10,000 test digits' labels
test_images: np.ndarray | None = None  # uint8 [100, 28, 28], the first 100 test digits
# The folder of the page's files: every server runs from the same one, which holds nothing else and is the
# only folder the app serves as it is (app.py).
ASSET_FOLDER: Path | None = None
PAGE_MODULES: dict[str, Path] = {}  # the page's JavaScript, by module name ("page" is the entry)
_loading = threading.Lock()


def read_checkpoint(name: str, path: Path) -> tuple[VAE, dict]:
    """The model and file of a checkpoint to show; CheckpointError, one line, if it is none the page can draw."""
    try:
        model, checkpoint = load_checkpoint(path)
    except (FileNotFoundError, ValueError) as e:
        raise CheckpointError(own.one_line(f"model {name}: {e}")) from None
    if checkpoint["config"].get("latent_dim") != LATENT_DIM:
        raise CheckpointError(f"model {name}: {path} has a {checkpoint['config'].get('latent_dim')}-D latent space; "
                              f"the explorer draws {LATENT_DIM}-D ones")
    if not isinstance(checkpoint.get("meta"), dict) or not checkpoint["meta"].get("history"):
        raise CheckpointError(f"model {name}: {path} records no training history (meta.history): vae.train did not write it")
    return model, checkpoint


def read_metrics(folder: Path) -> dict:
    """A committed model's vae.evaluate figures."""
    return json.loads((folder / "metrics.json").read_text())


def load_model(name: str, path: Path, committed: bool) -> Model:
    """A model from its checkpoint, with its map, its facts and its files for the page (written to
    ASSET_FOLDER: call after load() has set it, as load() does). A committed model's figures are the
    files beside it; an own model's, those vae.evaluate wrote for it, else explorer/own.py's."""
    model, checkpoint = read_checkpoint(name, path)
    if committed:
        figures = read_metrics(path.parent), torch.load(path.parent / "test_latents.pt", map_location="cpu", weights_only=True)
    else:
        figures = own.own_figures(path)
    evaluated = figures is not None
    if not evaluated:
        dataset = checkpoint["meta"].get("dataset", DEFAULT_DATASET)
        try:
            digits = own.test_digits(CHECKPOINTS / "test_latents.pt", dataset)
        except FileNotFoundError as e:
            raise CheckpointError(own.one_line(f"model {name}: {e}")) from None
        figures = own.start_up_figures(model, digits, legible=dataset == DEFAULT_DATASET)
    metrics, latents = figures
    mu, labels = latents["mu"].double().numpy(), latents["labels"].numpy()
    classes = class_names(checkpoint["meta"])
    base_map = draw.to_palette(draw.render_map(MAP, mu, labels, classes))
    check = {"z": _CHECK_Z, "pixels": latent.decode_images(model, _CHECK_Z).reshape(len(_CHECK_Z), -1).tolist()}
    replay_file = replay_path(path)
    replay = torch.load(replay_file, map_location="cpu", weights_only=True) if replay_file.is_file() else None
    files = assets.write_assets(ASSET_FOLDER, checkpoint, check, mu, labels, test_images, replay)
    files["map"] = assets.write_asset(ASSET_FOLDER, "map", ".png", draw.png_bytes(base_map))  # the Reconstruct tab's empty map
    facts = {**metrics, **checkpoint["config"], "evaluated": evaluated,
             "beta": checkpoint["meta"].get("beta", 1.0), "epochs": checkpoint["meta"]["epochs"],
             "sigma": latents["logvar"].mul(0.5).exp().median().item(),
             "radius": float(np.quantile(np.hypot(mu[:, 0], mu[:, 1]), 0.99)),
             "outside": float((np.abs(mu) > MAP.half).any(axis=1).mean()),
             **({} if committed else {"path": str(path)})}
    history = replay["history"] if replay else checkpoint["meta"]["history"]
    return Model(name, path, model, latent.display_decoder(model), mu, labels, base_map, classes, facts, history, files)


def load(request: Request = own.NONE) -> dict[str, Model]:
    """Load the committed models (unless request.only_mine), the own checkpoints the request names and the
    test digits, and write the page's files, once; MODELS. CheckpointError for an own checkpoint it cannot show."""
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
        # Your own first: a checkpoint the app cannot show stops it before the committed ones cost seconds.
        mine = {name: load_model(name, path, committed=False) for name, path in request.checkpoints.items()}
        committed = {} if request.only_mine else {name: folder / "vae.pt" for name, folder in MODEL_FOLDERS.items()}
        loaded = {**{name: load_model(name, path, committed=True) for name, path in committed.items()}, **mine}
        DEFAULT = loaded[next(iter(mine), DEFAULT_MODEL)]
        MODELS.update(loaded)  # last: a MODELS that is not empty is a finished load
        return MODELS


def named(name: object) -> Model:
    """The model an endpoint's `model` names (None or "": the default); InputError for any other value."""
    if not MODELS:
        raise RuntimeError("explorer.models.load() has not run: nothing is loaded at import")
    if name is None or name == "":
        return DEFAULT
    if not isinstance(name, str) or name not in MODELS:
        raise InputError(f"model must be one of {', '.join(map(repr, MODELS))}, not {str(name)[:40]}.")
    return MODELS[name]
