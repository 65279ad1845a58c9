"""What every control and endpoint of the explorer does: thin functions over vae/.

Loaded once, at import: the committed models (the same networks trained with the KL term
weighed 0, 1 and 5: MODELS), for each a copy for drawing pictures fast and the latent means of
the 10,000 test digits for its map, and the first 100 test digits; the files the page decodes
and draws with are written then too. Every endpoint takes an optional `model`, DEFAULT_MODEL
if left out. The decoded coarse grid that log p(x) needs is built on first use, or ahead of
it by `warm_up`, which ExplorerBlocks.launch runs in the background.

Public functions are the API endpoints (decode, reconstruct, grid, sample, interpolate,
elbo) and the page's events that need the server; what follows a slider or the pointer is
drawn by the page itself (explorer/static/explorer.js). Bad input raises gr.Error carrying the message of
vae.inputs or vae.preprocess, which the page shows as a toast and the API as its error.
"""
import base64
import binascii
import json
import threading
from functools import lru_cache, wraps
from pathlib import Path
from typing import NamedTuple

import gradio as gr
import numpy as np
import pandas as pd
import torch
from PIL import Image

from explorer import assets
from explorer import text
from vae import draw, inputs, latent
from vae.anatomy import elbo_anatomy
from vae.likelihood import (TOL, BestGaussian, CoarseGrid, TruePosterior, best_gaussian, coarse_grid,
                            log_marginal_quadrature, posterior_reconstruction, true_posterior)
from vae.model import VAE, load_checkpoint
from vae.replay import replay_path
from vae.preprocess import MAX_UPLOAD_BYTES, ImageError, open_image, prepare_image

ROOT = Path(__file__).resolve().parent.parent
CHECKPOINTS = ROOT / "checkpoints"
# The committed models in the picker's order, each folder as vae.train, vae.fit_encoder and vae.evaluate
# left it: vae.pt, vae.replay.pt, metrics.json and test_latents.pt. The names are the API's `model` values.
MODEL_FOLDERS = {"beta0": CHECKPOINTS / "beta0", "beta1": CHECKPOINTS, "beta5": CHECKPOINTS / "beta5"}
DEFAULT_MODEL = "beta1"  # the VAE, trained on the ELBO itself
CHECKPOINT = MODEL_FOLDERS[DEFAULT_MODEL] / "vae.pt"

# One thread per request: two requests then run side by side on two cores instead of
# four threads fighting over them.
torch.set_num_threads(1)

DIGIT_SCALE = 4  # a decoded digit goes over the wire at 112x112; CSS enlarges it crisply
MAP = draw.MapFrame()
# The sliders span exactly the latent map, so the marker never leaves it; the API takes
# any z and clamps it to [-inputs.Z_LIMIT, inputs.Z_LIMIT].
Z_RANGE = MAP.half
BEST_Q = (0, 150, 60)  # green: q*, the best diagonal Gaussian, on the ELBO tab's map
SAMPLE_DOTS = (30, 30, 200)  # blue: the reparameterized samples on the ELBO tab's map
DIGIT_REGION = 4.0  # |z| beyond this: p(z) puts < 1e-4 of its mass there, and hardly any digit is encoded there

_test = torch.load(CHECKPOINTS / "test_latents.pt", map_location="cpu", weights_only=True)
test_labels = _test["labels"].numpy()
test_images = _test["images"].numpy()  # uint8 [100, 28, 28], the first 100 test digits
# The page decodes and draws with these files (explorer/assets.py); every server runs from the same
# folder, which holds nothing else and is the only one the app serves as it is (app.py).
ASSET_FOLDER = assets.asset_folder()
_CHECK_Z = [[0.3, -0.7], [-2.0, 1.5], [3.5, 3.5]]
# The API page's example upload: test digit #0 (a 7) as a person's picture would show it, dark ink on white.
ASSETS = {"script": assets.write_asset(ASSET_FOLDER, "explorer", ".js", (assets.STATIC / "explorer.js").read_bytes()),
          "example": assets.write_asset(ASSET_FOLDER, "digit", ".png",
                                        draw.png_bytes(Image.fromarray(255 - draw.enlarge(test_images[0], 4))))}


class Committed(NamedTuple):
    """A committed model and what the app draws from it, made once at start-up."""

    name: str
    model: VAE  # every number
    display: VAE  # pictures only: latent.display_decoder's copy
    mu: np.ndarray  # the test digits' posterior means [10000, 2], the latent map's points
    base_map: Image.Image  # the latent map without overlays
    # vae.evaluate's test-set figures, the networks' size (config), and: "beta", the KL term's weight in its
    # training objective; "epochs", how long it was trained; "sigma",
    # the test digits' median posterior standard deviation; "radius", the distance from the origin within
    # which 99% of their codes lie; "outside", the share of them beyond the latent map's window
    facts: dict
    history: list[dict]  # its training's per-epoch metrics (vae.train), as its replay stores them
    assets: dict[str, Path]  # the page's files: decoder, points, replay, and the empty map


def load_committed(name: str, folder: Path) -> Committed:
    model, checkpoint = load_checkpoint(folder / "vae.pt")
    latents = torch.load(folder / "test_latents.pt", map_location="cpu", weights_only=True)
    mu = latents["mu"].double().numpy()
    base_map = draw.to_palette(draw.render_map(MAP, mu, test_labels))
    check = {"z": _CHECK_Z, "pixels": latent.decode_images(model, _CHECK_Z).reshape(len(_CHECK_Z), -1).tolist()}
    replay = torch.load(replay_path(folder / "vae.pt"), map_location="cpu", weights_only=True)
    files = assets.write_assets(ASSET_FOLDER, checkpoint, check, mu, test_labels, test_images, replay)
    files["map"] = assets.write_asset(ASSET_FOLDER, "map", ".png", draw.png_bytes(base_map))  # the Reconstruct tab's empty map
    facts = {**json.loads((folder / "metrics.json").read_text()), **checkpoint["config"],
             "beta": checkpoint["meta"].get("beta", 1.0), "epochs": checkpoint["meta"]["epochs"],
             "sigma": latents["logvar"].mul(0.5).exp().median().item(),
             "radius": float(np.quantile(np.hypot(mu[:, 0], mu[:, 1]), 0.99)),
             "outside": float((np.abs(mu) > MAP.half).any(axis=1).mean())}
    return Committed(name, model, latent.display_decoder(model), mu, base_map, facts, replay["history"], files)


MODELS = {name: load_committed(name, folder) for name, folder in MODEL_FOLDERS.items()}
DEFAULT = MODELS[DEFAULT_MODEL]


def committed(name: object) -> Committed:
    """The committed model an endpoint's `model` names (None or "": the default); InputError for any other value."""
    if name is None or name == "":
        return DEFAULT
    if not isinstance(name, str) or name not in MODELS:
        raise inputs.InputError(f"model must be one of {', '.join(map(repr, MODELS))}, not {str(name)[:40]}.")
    return MODELS[name]


DIGIT_CHOICES = [(f"test digit #{i} (a {test_labels[i]})", i) for i in range(len(test_images))]


# ---------------------------------------------------------------- shared helpers


def user_errors(fn):
    """Show ImageError / InputError messages to the user (UI toast and API error) instead of a stack trace."""

    @wraps(fn)  # keeps the signature: the API page names the parameters after it
    def wrapped(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ImageError, inputs.InputError) as e:
            raise gr.Error(str(e), print_exception=False) from None

    return wrapped


def digit_image(pixels: np.ndarray) -> np.ndarray:
    """A uint8 28x28 digit as sent to the browser: DIGIT_SCALE x enlarged, still small on the wire."""
    return draw.enlarge(pixels, DIGIT_SCALE)


def map_with_overlay(m: Committed, overlay) -> Image.Image:
    """A copy of the model's latent map with overlay(image) drawn on it."""
    image = m.base_map.copy()
    overlay(image)
    return image


def slider_value(z: float) -> float:
    """A latent coordinate the sliders can show: inside their range, on their 0.01 step."""
    return round(float(np.clip(z, -Z_RANGE, Z_RANGE)), 2)


def uploaded_pixels(image: str | bytes | None, notes: list[str] | None = None) -> np.ndarray:
    """The uint8 28x28 digit the model sees for an uploaded file; ImageError with the reason if there is none.
    Every number shown for an upload, in the page and the API, is computed from these pixels. What was
    done with a doubtful picture is appended to `notes` (vae.preprocess.prepare_image)."""
    if image is None:
        raise ImageError("Upload an image of a digit first.")
    return latent.to_uint8(prepare_image(open_image(image), notes))[0]


def posterior_of(pixels: np.ndarray, m: Committed = DEFAULT) -> dict:
    """q(z|x) of a digit as the page and the API show it: {"mu": [2], "sigma": [2]}, rounded to 4 decimals."""
    mu, sigma = latent.posterior(m.model, latent.from_uint8(pixels))
    return {"mu": mu.round(4).tolist(), "sigma": sigma.round(4).tolist()}


# ---------------------------------------------------------------- the model picker and the Training tab


def model_words(model: str):
    """What the page says about a model when it is picked: its paragraph under the picker, the ELBO
    tab's reading of the numbers, and the Training tab's epoch slider, which spans its epochs."""
    m = committed(model)
    return (text.model_text(m.name, m.facts), text.elbo_reading(m.facts, m.facts["beta"], TOL),
            gr.update(maximum=len(m.history)))


CURVES = {"test −ELBO": "neg_elbo", "training −ELBO (5,000 digits)": "train_sample_neg_elbo"}
KL_CURVES = {"test KL": "kl", "training KL (5,000 digits)": "train_sample_kl"}
EPOCH_MARK = "the epoch shown"


def training_curves(epoch, model: str = DEFAULT_MODEL) -> tuple:
    """The Training tab's loss curves, in nats per digit over the epochs (the test reconstruction term
    beside the negative ELBO; the KL term apart, on its own scale), each with a vertical line at `epoch`."""
    m = committed(model)
    epoch = int(np.clip(round(float(epoch or 1)), 1, len(m.history)))
    elbo_rows = [(h["epoch"], h[key], curve) for h in m.history for curve, key in CURVES.items()]
    elbo_rows += [(h["epoch"], -h["reconstruction"], "test reconstruction −E log p(x|z)") for h in m.history]
    kl_rows = [(h["epoch"], h[key], curve) for h in m.history for curve, key in KL_CURVES.items()]

    def marked(rows):
        values = [value for _, value, _ in rows]
        return pd.DataFrame(rows + [(epoch, min(values), EPOCH_MARK), (epoch, max(values), EPOCH_MARK)],
                            columns=["epoch", "nats", "curve"])

    return marked(elbo_rows), marked(kl_rows)


# ---------------------------------------------------------------- explorer


@user_errors
@torch.inference_mode()
def decode(z1: float, z2: float, model: str = DEFAULT_MODEL) -> np.ndarray:
    """Decode the latent point (z1, z2) into a digit.

    Args:
        z1: the first latent coordinate; a value beyond ±6 counts as ±6
        z2: the second latent coordinate; a value beyond ±6 counts as ±6
        model: which committed model: "beta1", the VAE (the default), "beta0" (trained on the reconstruction term alone) or "beta5" (the KL term weighed 5)
    Returns:
        the decoded digit, white ink on black, 112 x 112 pixels (28 x 28 enlarged 4x), PNG
    """
    m, z1, z2 = committed(model), inputs.check_z(z1, "z1"), inputs.check_z(z2, "z2")
    return digit_image(latent.decode_images(m.display, [[z1, z2]])[0])


# ---------------------------------------------------------------- reconstruct


def reconstruction_of(pixels: np.ndarray, m: Committed = DEFAULT) -> tuple[np.ndarray, np.ndarray, dict]:
    """(the digit as the model sees it, its reconstruction, q(z|x) with "mode"), pictures enlarged. The
    reconstruction is the decoder's digits averaged around q(z|x), weighted by the tempered posterior;
    "mode" is the most probable z there (vae.likelihood.posterior_reconstruction)."""
    read = posterior_reconstruction(m.model, latent.from_uint8(pixels))
    post = {**posterior_of(pixels, m), "mode": read.mode[0].double().numpy().round(4).tolist()}
    return digit_image(pixels), digit_image(latent.to_uint8(read.image)[0]), post


@user_errors
def reconstruct(image: str, model: str = DEFAULT_MODEL) -> tuple[np.ndarray, np.ndarray, dict]:
    """Encode a picture of one digit and decode it again.

    Args:
        image: a picture of one handwritten digit, PNG, JPEG, GIF, WebP, BMP or TIFF up to 20 MB: a photo, a scan, a drawing
        model: which committed model: "beta1", the VAE (the default), "beta0" (trained on the reconstruction term alone) or "beta5" (the KL term weighed 5)
    Returns:
        the digit as the model sees it: 28 x 28, centred, white on black, enlarged 4x, PNG
        its reconstruction: the decoder's digits averaged around q(z|x), weighted by p(z|x) ** 0.1, enlarged 4x, PNG
        q(z|x) = N(mu, diag sigma^2) and the most probable z near it as {"mu": [z1, z2], "sigma": [s1, s2], "mode": [z1, z2]}, with "note" when the picture is doubtful
    """
    m, notes = committed(model), []
    prepared, recon, post = reconstruction_of(uploaded_pixels(image, notes), m)
    return prepared, recon, {**post, "note": " ".join(notes)} if notes else post


def posterior_map(post: dict | None, m: Committed = DEFAULT) -> Image.Image:
    """The model's latent map with the reconstruction's z marked and q(z|x)'s 1- and 2-sigma ellipses."""
    if not post:
        return m.base_map
    mu, sigma = np.array(post["mu"]), np.array(post["sigma"])

    def overlay(image):
        draw.draw_marker(image, MAP, np.array(post["mode"]), radius=10)  # the rings are often only a few pixels wide
        draw.draw_ellipses(image, MAP, mu, sigma)

    return map_with_overlay(m, overlay)


def nothing_to_reconstruct(m: Committed) -> tuple:
    return None, None, "", m.base_map, None, None


def reconstruction_view(pixels: np.ndarray, m: Committed, notes: list[str] = ()):
    """Everything the Reconstruct tab shows for a digit (q(z|x) in words, after what was done with a
    doubtful picture), and the digit and its q(z|x) for the other tabs."""
    prepared, recon, post = reconstruction_of(pixels, m)
    return prepared, recon, text.posterior_text(post, " ".join(notes)), posterior_map(post, m), pixels, post


@user_errors
def reconstruct_upload(image: str | None, model: str = DEFAULT_MODEL):
    m = committed(model)
    if image is None:
        return nothing_to_reconstruct(m)
    notes: list[str] = []
    return reconstruction_view(uploaded_pixels(image, notes), m, notes)


def reconstruct_again(pixels: np.ndarray | None, model: str):
    """The Reconstruct tab when another model is picked: the same digit, through that model."""
    m = committed(model)
    return nothing_to_reconstruct(m) if pixels is None else reconstruction_view(pixels, m)


PNG_DATA_URL = "data:image/png;base64,"


def drawing_bytes(drawing: object) -> bytes:
    """The PNG file inside the data URL the page's drawing pad sends; ImageError if it is anything else."""
    if not isinstance(drawing, str) or not drawing.startswith(PNG_DATA_URL):
        raise ImageError("The drawing did not arrive as a PNG picture: reload the page and draw again.")
    if len(drawing) > len(PNG_DATA_URL) + 4 * (MAX_UPLOAD_BYTES // 3 + 1):
        raise ImageError(f"The drawing is larger than {MAX_UPLOAD_BYTES // 2**20} MB.")
    try:
        return base64.b64decode(drawing[len(PNG_DATA_URL):], validate=True)
    except binascii.Error:
        raise ImageError("The drawing did not arrive as a PNG picture: reload the page and draw again.") from None


@user_errors
def reconstruct_drawing(drawing: str | None, model: str = DEFAULT_MODEL):
    """Live reconstruction of the drawing pad (a PNG data URL of black strokes on transparent);
    an empty pad ("") clears the outputs instead of complaining."""
    m = committed(model)
    if not drawing:
        return nothing_to_reconstruct(m)
    rgba = np.asarray(open_image(drawing_bytes(drawing)).convert("RGBA"))
    if not (rgba[..., 3] > 0).any():
        return nothing_to_reconstruct(m)
    notes: list[str] = []
    return reconstruction_view(latent.to_uint8(prepare_image(rgba, notes))[0], m, notes)


# ---------------------------------------------------------------- manifold


@user_errors
@torch.inference_mode()
def grid(z1: float, z2: float, span: float, n: int, spacing: str, model: str = DEFAULT_MODEL) -> Image.Image:
    """An n x n grid of decoded digits: the latent space's manifold, as in Kingma & Welling's figure.

    Args:
        z1: the first coordinate of the grid's centre; a value beyond ±6 counts as ±6
        z2: the second coordinate of the grid's centre; a value beyond ±6 counts as ±6
        span: the distance in z from the first to the last column (and row), 0.1 to 12
        n: digits per side, a whole number from 1 to 30
        spacing: "linear" (points even in z) or "cdf" (even in the prior's CDF Phi(z), denser near the origin)
        model: which committed model: "beta1", the VAE (the default), "beta0" (trained on the reconstruction term alone) or "beta5" (the KL term weighed 5)
    Returns:
        the grid with its z1 and z2 axes, PNG
    """
    m, z1, z2 = committed(model), inputs.check_z(z1, "centre z1"), inputs.check_z(z2, "centre z2")
    span, n, spacing = inputs.check_span(span), inputs.check_grid_n(n), inputs.check_spacing(spacing)
    cols, rows, points = latent.grid_points(z1, z2, span, n, spacing)
    return draw.render_grid(latent.decode_images(m.display, points), cols, rows)


def window_note(m: Committed) -> str:
    """What the page says under the grid when its window reaches beyond |z| = DIGIT_REGION, where no digit lives."""
    outside = int((np.abs(m.mu) > DIGIT_REGION).any(axis=1).sum())
    return (f"Part of this window lies beyond |z| = {DIGIT_REGION:g}, where the prior puts almost no mass (under "
            f"1 in 10,000) and the encoder puts {outside} of the {len(m.mu):,} test digits: the decoder was hardly "
            "ever taught to draw there, so what it draws at the edge need not look like a digit.")


# ---------------------------------------------------------------- samples and interpolation


@user_errors
@torch.inference_mode()
def sample(n: int, seed: int, model: str = DEFAULT_MODEL) -> np.ndarray:
    """Digits decoded from z drawn from the prior N(0, I): what the VAE generates.

    Args:
        n: how many digits, a whole number from 1 to 100
        seed: the seed of the draws, a whole number from 0 to 2^32 - 1: the same seed gives the same digits, and the page's too
        model: which committed model: "beta1", the VAE (the default), "beta0" (trained on the reconstruction term alone) or "beta5" (the KL term weighed 5)
    Returns:
        the digits tiled in a near-square sheet, enlarged 2x, PNG
    """
    m, n, seed = committed(model), inputs.check_samples_n(n), inputs.check_seed(seed)
    return draw.sample_sheet(latent.decode_images(m.display, latent.prior_samples(n, seed)))


@user_errors
@torch.inference_mode()
def interpolate(a1: float, a2: float, b1: float, b2: float, steps: int, model: str = DEFAULT_MODEL) -> np.ndarray:
    """Decode evenly spaced points on the straight line from A = (a1, a2) to B = (b1, b2) in the latent space.

    Args:
        a1: A's first coordinate; a value beyond ±6 counts as ±6
        a2: A's second coordinate
        b1: B's first coordinate
        b2: B's second coordinate
        steps: how many digits, both ends included, a whole number from 2 to 30
        model: which committed model: "beta1", the VAE (the default), "beta0" (trained on the reconstruction term alone) or "beta5" (the KL term weighed 5)
    Returns:
        the digits in one strip from A to B, enlarged 3x, PNG
    """
    a = [inputs.check_z(a1, "A z1"), inputs.check_z(a2, "A z2")]
    b = [inputs.check_z(b1, "B z1"), inputs.check_z(b2, "B z2")]
    m, steps = committed(model), inputs.check_steps(steps)
    return draw.strip(latent.decode_images(m.display, latent.interpolation_points(a, b, steps)))


def test_digit_mu(index: int, m: Committed = DEFAULT) -> tuple[float, float]:
    """Where the model's q(z|x) puts test digit #index, as the sliders can show it."""
    mu = posterior_of(test_images[int(index)], m)["mu"]
    return slider_value(mu[0]), slider_value(mu[1])


def move_endpoint(z: tuple[float, float], a1, a2, b1, b2, which: str, picked: int | None = None):
    """Set end A or B of the interpolation to z: the four sliders, and the A and B test-digit pickers,
    the moved end's showing `picked` (None: z is not a test digit's). The page draws the rest."""
    a1, a2, b1, b2 = (*z, b1, b2) if which == "A" else (a1, a2, *z)
    pickers = (picked, gr.skip()) if which == "A" else (gr.skip(), picked)
    return a1, a2, b1, b2, *pickers


def endpoint_from_digit(index, a1, a2, b1, b2, which: str, model: str = DEFAULT_MODEL):
    if index is None:
        return (gr.skip(),) * 6
    return move_endpoint(test_digit_mu(index, committed(model)), a1, a2, b1, b2, which, picked=int(index))


def ends_again(pick_a, pick_b, a1, a2, b1, b2, model: str):
    """The interpolation's ends when another model is picked: an end that is a test digit moves to where
    that model encodes it; an end set by hand stays where it is."""
    m = committed(model)
    (a1, a2), (b1, b2) = [test_digit_mu(pick, m) if pick is not None else z for pick, z in ((pick_a, (a1, a2)), (pick_b, (b1, b2)))]
    return a1, a2, b1, b2


def endpoint_from_my_digit(post, a1, a2, b1, b2, which: str):
    if not post:
        raise gr.Error("Upload or draw a digit in the Reconstruct tab first.", print_exception=False)
    return move_endpoint((slider_value(post["mode"][0]), slider_value(post["mode"][1])), a1, a2, b1, b2, which)


# ---------------------------------------------------------------- ELBO anatomy

_coarse: dict[str, CoarseGrid] = {}
_coarse_lock = threading.Lock()


def coarse(m: Committed = DEFAULT) -> CoarseGrid:
    """The decoded coarse grid that log p(x) and p(z|x) share (~120 MB a model), built once for each."""
    with _coarse_lock:
        if m.name not in _coarse:
            _coarse[m.name] = coarse_grid(m.model)
        return _coarse[m.name]


def input_of(pixels: bytes) -> torch.Tensor:
    """The model's input for a digit given as the bytes of uint8 28x28 pixels, the per-digit caches' key."""
    return latent.from_uint8(np.frombuffer(pixels, dtype=np.uint8).reshape(28, 28))


class ExactTerms(NamedTuple):
    """What a digit's ELBO anatomy needs that depends on the digit alone, not on L, K or the seed."""

    log_px: float
    best: BestGaussian
    posterior: TruePosterior  # p(z|x) on a 64 x 64 grid around its mass


@lru_cache(maxsize=64)
@torch.inference_mode()
def exact_terms(pixels: bytes, name: str = DEFAULT_MODEL) -> ExactTerms:
    """log p(x) by quadrature, p(z|x) on a grid and the best diagonal Gaussian q* of a digit
    (uint8 28x28 as bytes) under a model, computed once per digit and model."""
    m, x = MODELS[name], input_of(pixels)
    log_px = log_marginal_quadrature(m.model, x, coarse=coarse(m))[0].item()
    posterior = true_posterior(m.model, x, size=64, coarse=coarse(m))
    return ExactTerms(log_px, best_gaussian(m.model, x, log_px, posterior), posterior)


def anatomy_of(pixels: np.ndarray, L, K, seed, m: Committed = DEFAULT) -> dict:
    """Every term of the ELBO for a uint8 28x28 digit (vae.anatomy.elbo_anatomy): the one path to
    these numbers for the ELBO tab and the /elbo endpoint alike."""
    L, K, seed = inputs.check_L(L), inputs.check_K(K), inputs.check_seed(seed)
    exact = exact_terms(pixels.tobytes(), m.name)
    return elbo_anatomy(m.model, latent.from_uint8(pixels), L, K, seed, log_px=exact.log_px, best=exact.best)


@user_errors
@torch.inference_mode()
def elbo(image: str, L: int, K: int, seed: int = 0, model: str = DEFAULT_MODEL) -> dict:
    """Every term of the ELBO for a picture of a digit, next to the exact log p(x), in nats.

    Args:
        image: a picture of one handwritten digit, as for /reconstruct
        L: samples z = mu + sigma * eps for the reconstruction term, a whole number from 1 to 1000
        K: importance samples for the IWAE bound, a whole number from 1 to 5000
        seed: the seed of the samples, a whole number from 0 to 2^32 - 1
        model: which committed model: "beta1", the VAE (the default), "beta0" (trained on the reconstruction term alone) or "beta5" (the KL term weighed 5)
    Returns:
        {reconstruction, kl, elbo, iwae (each with a *_stderr), log_px, gap, approximation_gap, amortization_gap, mu, sigma, ...}
    """
    m = committed(model)
    return anatomy_of(uploaded_pixels(image), L, K, seed, m)


def elbo_frame(posterior: TruePosterior, gaussians: list[tuple[np.ndarray, np.ndarray]]) -> draw.MapFrame:
    """A map window around where p(z|x) is above 1/1000 of its peak and the 3-sigma boxes of the
    Gaussians (mu, sigma) given: posteriors are ~0.1 wide, invisible on the full map."""
    z1, z2, density = posterior.z1.numpy(), posterior.z2.numpy(), posterior.log_density.exp().numpy()
    rows, cols = np.nonzero(density >= density.max() / 1000)
    lo, hi = np.array([z1[cols.min()], z2[rows.min()]]), np.array([z1[cols.max()], z2[rows.max()]])
    for mu, sigma in gaussians:
        lo, hi = np.minimum(lo, mu - 3 * sigma), np.maximum(hi, mu + 3 * sigma)
    centre = (lo + hi) / 2
    return draw.MapFrame(centre=(float(centre[0]), float(centre[1])), half=float(max(hi - lo) / 2 * 1.25))


@lru_cache(maxsize=64)
@torch.inference_mode()
def posterior_picture(pixels: bytes, name: str = DEFAULT_MODEL) -> tuple[draw.MapFrame, Image.Image]:
    """The zoomed map of a digit's ELBO tab without its samples: p(z|x) as a red wash, q(z|x)'s
    1- and 2-sigma rings and q*'s 1-sigma ring, over the test digits, and the window it shows.
    Computed once per digit and model."""
    m, exact = MODELS[name], exact_terms(pixels, name)
    x = input_of(pixels)
    mu, sigma = latent.posterior(m.model, x)
    best_mu, best_sigma = exact.best.mu.numpy(), exact.best.sigma.numpy()
    post = exact.posterior  # its grid spans the mass within MASS_NATS of the peak: wider than the frame, and fine enough
    frame = elbo_frame(post, [(mu, sigma), (best_mu, best_sigma)])
    image = draw.render_map(frame, m.mu, test_labels)
    draw.draw_heatmap(image, frame, post.z1.numpy(), post.z2.numpy(), post.log_density.exp().numpy())
    draw.draw_ellipses(image, frame, best_mu, best_sigma, ks=(1.0,), colour=BEST_Q)
    draw.draw_ellipses(image, frame, mu, sigma)
    return frame, image


def elbo_view(pixels: np.ndarray | None, L: int, K: int, seed: int, model: str = DEFAULT_MODEL):
    """The whole ELBO tab for a digit: numbers panel, JSON, zoomed map, decoded samples, the digit."""
    if pixels is None:
        raise gr.Error("Pick a test digit, or upload or draw one.", print_exception=False)
    m = user_errors(committed)(model)
    terms = user_errors(anatomy_of)(pixels, L, K, seed, m)
    z = np.array(terms["z_samples"])
    frame, base = posterior_picture(pixels.tobytes(), m.name)
    image = base.copy()
    draw.draw_points(image, frame, z[:200], colour=SAMPLE_DOTS)
    decodes = latent.decode_images(m.display, z[:16])
    return text.elbo_table(terms, TOL), terms, image, draw.sample_sheet(decodes), digit_image(pixels)


def elbo_pick(index, L, K, seed, model: str = DEFAULT_MODEL):
    if index is None:
        return (None,) * 6
    pixels = test_images[int(index)]
    return pixels, *elbo_view(pixels, L, K, seed, model)


@user_errors
def elbo_upload(image: str | None, L, K, seed, model: str = DEFAULT_MODEL):
    """The ELBO tab for an uploaded digit; its test-digit picker is cleared, as it shows none of them."""
    if image is None:
        return (gr.skip(),) * 7
    pixels = uploaded_pixels(image)
    return pixels, *elbo_view(pixels, L, K, seed, model), None


def elbo_my_digit(pixels, L, K, seed, model: str = DEFAULT_MODEL):
    """The ELBO tab for the digit of the Reconstruct tab; its test-digit picker is cleared."""
    if pixels is None:
        raise gr.Error("Upload or draw a digit in the Reconstruct tab first.", print_exception=False)
    return pixels, *elbo_view(pixels, L, K, seed, model), None


def elbo_again(pixels, L, K, seed, model: str):
    """The ELBO tab when another model is picked: its digit under that model, once the tab has one."""
    if pixels is None:
        return (gr.skip(),) * 5
    return elbo_view(pixels, L, K, seed, model)


FIRST_ELBO = dict(index=0, L=10, K=1000, seed=0)  # the ELBO tab's first view, as its controls start


@lru_cache(maxsize=len(MODELS))
def first_elbo_view(model: str = DEFAULT_MODEL) -> tuple:
    """The ELBO tab's first view. It needs the coarse grid (seconds), so the default model's is made
    by warm_up after start-up, or when the tab is first opened."""
    return elbo_view(test_images[FIRST_ELBO["index"]], FIRST_ELBO["L"], FIRST_ELBO["K"], FIRST_ELBO["seed"], model)


def elbo_tab_opened(pixels, model: str = DEFAULT_MODEL):
    if pixels is not None:
        return (gr.skip(),) * 6
    return test_images[FIRST_ELBO["index"]], *first_elbo_view(model)


def warm_up(stop: threading.Event) -> None:
    """Build the coarse grid and the ELBO tab's first view ahead of the first visitor,
    checking `stop` between the two so that the process can exit meanwhile."""
    for step in (coarse, first_elbo_view):
        if stop.is_set():
            return
        step()


# ---------------------------------------------------------------- what the page starts with

FIRST_ENDS = (test_digit_mu(0), test_digit_mu(1))  # the interpolation runs from test digit #0 to #1
