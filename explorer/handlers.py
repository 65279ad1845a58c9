"""What every control and endpoint of the explorer does: thin functions over vae/.

Loaded once, at import: the committed model, a copy of it for drawing pictures fast,
and the test digits the page shows (the first 100, and all 10,000 latent means for the
map); the files the page decodes and draws with are written then too. The decoded coarse grid that log p(x) needs is built on first use, or ahead of
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
import torch
from PIL import Image

from explorer import assets
from explorer.text import elbo_table, posterior_text
from vae import draw, inputs, latent
from vae.anatomy import elbo_anatomy
from vae.likelihood import (TOL, BestGaussian, CoarseGrid, TruePosterior, best_gaussian, coarse_grid,
                            log_marginal_quadrature, true_posterior)
from vae.model import load_model
from vae.preprocess import MAX_UPLOAD_BYTES, ImageError, open_image, prepare_image

ROOT = Path(__file__).resolve().parent.parent
CHECKPOINT = ROOT / "checkpoints" / "vae.pt"
LATENTS = ROOT / "checkpoints" / "test_latents.pt"
METRICS = json.loads((ROOT / "checkpoints" / "metrics.json").read_text())  # the test-set figures of vae.evaluate

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

model = load_model(CHECKPOINT)
display_model = latent.display_decoder(model)  # pictures only; every number uses `model`
_test = torch.load(LATENTS, map_location="cpu", weights_only=True)
test_mu = _test["mu"].double().numpy()
test_labels = _test["labels"].numpy()
test_images = _test["images"].numpy()  # uint8 [100, 28, 28], the first 100 test digits
BASE_MAP = draw.to_palette(draw.render_map(MAP, test_mu, test_labels))
# The page decodes and draws with these files (explorer/assets.py); every server runs from the same
# folder, which holds nothing else and is the only one the app serves as it is (app.py).
ASSET_FOLDER = assets.asset_folder()
_CHECK_Z = [[0.3, -0.7], [-2.0, 1.5], [3.5, 3.5]]
ASSETS = assets.write_assets(ASSET_FOLDER, CHECKPOINT, {"z": _CHECK_Z, "pixels": latent.decode_images(model, _CHECK_Z).reshape(
    len(_CHECK_Z), -1).tolist()}, test_mu, test_labels, test_images)
ASSETS["map"] = assets.write_asset(ASSET_FOLDER, "map", ".png", draw.png_bytes(BASE_MAP))  # the Reconstruct tab's empty map
# The API page's example upload: test digit #0 (a 7) as a person's picture would show it, dark ink on white.
ASSETS["example"] = assets.write_asset(ASSET_FOLDER, "digit", ".png", draw.png_bytes(Image.fromarray(255 - draw.enlarge(test_images[0], 4))))
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


def map_with_overlay(overlay) -> Image.Image:
    """A copy of the latent map with overlay(image) drawn on it."""
    image = BASE_MAP.copy()
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


def posterior_of(pixels: np.ndarray) -> dict:
    """q(z|x) of a digit as the page and the API show it: {"mu": [2], "sigma": [2]}, rounded to 4 decimals."""
    mu, sigma = latent.posterior(model, latent.from_uint8(pixels))
    return {"mu": mu.round(4).tolist(), "sigma": sigma.round(4).tolist()}


# ---------------------------------------------------------------- explorer


@user_errors
@torch.inference_mode()
def decode(z1: float, z2: float) -> np.ndarray:
    """Decode the latent point (z1, z2) into a digit.

    Args:
        z1: the first latent coordinate; a value beyond ±6 counts as ±6
        z2: the second latent coordinate; a value beyond ±6 counts as ±6
    Returns:
        the decoded digit, white ink on black, 112 x 112 pixels (28 x 28 enlarged 4x), PNG
    """
    z1, z2 = inputs.check_z(z1, "z1"), inputs.check_z(z2, "z2")
    return digit_image(latent.decode_images(display_model, [[z1, z2]])[0])


# ---------------------------------------------------------------- reconstruct


def reconstruction_of(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict]:
    """(the digit as the model sees it, its reconstruction decoded from the posterior mean, q(z|x)), pictures enlarged."""
    post = posterior_of(pixels)
    recon = latent.decode_images(display_model, [post["mu"]])[0]
    return digit_image(pixels), digit_image(recon), post


@user_errors
def reconstruct(image: str) -> tuple[np.ndarray, np.ndarray, dict]:
    """Encode a picture of one digit and decode it again.

    Args:
        image: a picture of one handwritten digit, PNG, JPEG, GIF, WebP, BMP or TIFF up to 20 MB: a photo, a scan, a drawing
    Returns:
        the digit as the model sees it: 28 x 28, centred, white on black, enlarged 4x, PNG
        its reconstruction, decoded from the mean of q(z|x), enlarged 4x, PNG
        q(z|x) = N(mu, diag sigma^2) as {"mu": [z1, z2], "sigma": [s1, s2]}, with "note" when the picture is doubtful
    """
    notes: list[str] = []
    prepared, recon, post = reconstruction_of(uploaded_pixels(image, notes))
    return prepared, recon, {**post, "note": " ".join(notes)} if notes else post


def posterior_map(post: dict | None) -> Image.Image:
    """The latent map with q(z|x)'s 1- and 2-sigma ellipses."""
    if not post:
        return BASE_MAP
    mu, sigma = np.array(post["mu"]), np.array(post["sigma"])

    def overlay(image):
        draw.draw_marker(image, MAP, mu, radius=10)  # the rings are often only a few pixels wide
        draw.draw_ellipses(image, MAP, mu, sigma)

    return map_with_overlay(overlay)


NOTHING_TO_RECONSTRUCT = (None, None, "", BASE_MAP, None, None)


def reconstruction_view(pixels: np.ndarray, notes: list[str] = ()):
    """Everything the Reconstruct tab shows for a digit (q(z|x) in words, after what was done with a
    doubtful picture), and the digit and its q(z|x) for the other tabs."""
    prepared, recon, post = reconstruction_of(pixels)
    return prepared, recon, posterior_text(post, " ".join(notes)), posterior_map(post), pixels, post


@user_errors
def reconstruct_upload(image: str | None):
    if image is None:
        return NOTHING_TO_RECONSTRUCT
    notes: list[str] = []
    return reconstruction_view(uploaded_pixels(image, notes), notes)


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
def reconstruct_drawing(drawing: str | None):
    """Live reconstruction of the drawing pad (a PNG data URL of black strokes on transparent);
    an empty pad ("") clears the outputs instead of complaining."""
    if not drawing:
        return NOTHING_TO_RECONSTRUCT
    rgba = np.asarray(open_image(drawing_bytes(drawing)).convert("RGBA"))
    if not (rgba[..., 3] > 0).any():
        return NOTHING_TO_RECONSTRUCT
    notes: list[str] = []
    return reconstruction_view(latent.to_uint8(prepare_image(rgba, notes))[0], notes)


# ---------------------------------------------------------------- manifold


@user_errors
@torch.inference_mode()
def grid(z1: float, z2: float, span: float, n: int, spacing: str) -> Image.Image:
    """An n x n grid of decoded digits: the latent space's manifold, as in Kingma & Welling's figure.

    Args:
        z1: the first coordinate of the grid's centre; a value beyond ±6 counts as ±6
        z2: the second coordinate of the grid's centre; a value beyond ±6 counts as ±6
        span: the distance in z from the first to the last column (and row), 0.1 to 12
        n: digits per side, a whole number from 1 to 30
        spacing: "linear" (points even in z) or "cdf" (even in the prior's CDF Phi(z), denser near the origin)
    Returns:
        the grid with its z1 and z2 axes, PNG
    """
    z1, z2 = inputs.check_z(z1, "centre z1"), inputs.check_z(z2, "centre z2")
    span, n, spacing = inputs.check_span(span), inputs.check_grid_n(n), inputs.check_spacing(spacing)
    cols, rows, points = latent.grid_points(z1, z2, span, n, spacing)
    return draw.render_grid(latent.decode_images(display_model, points), cols, rows)


def window_note() -> str:
    """What the page says under the grid when its window reaches beyond |z| = DIGIT_REGION, where no digit lives."""
    outside = int((np.abs(test_mu) > DIGIT_REGION).any(axis=1).sum())
    return (f"Part of this window lies beyond |z| = {DIGIT_REGION:g}, where the prior puts almost no mass (under "
            f"1 in 10,000) and the encoder puts {outside} of the {len(test_mu):,} test digits: the decoder was hardly "
            "ever taught to draw there, so what it draws at the edge need not look like a digit.")


# ---------------------------------------------------------------- samples and interpolation


@user_errors
@torch.inference_mode()
def sample(n: int, seed: int) -> np.ndarray:
    """Digits decoded from z drawn from the prior N(0, I): what the VAE generates.

    Args:
        n: how many digits, a whole number from 1 to 100
        seed: the seed of the draws, a whole number from 0 to 2^32 - 1: the same seed gives the same digits, and the page's too
    Returns:
        the digits tiled in a near-square sheet, enlarged 2x, PNG
    """
    n, seed = inputs.check_samples_n(n), inputs.check_seed(seed)
    return draw.sample_sheet(latent.decode_images(display_model, latent.prior_samples(n, seed)))


@user_errors
@torch.inference_mode()
def interpolate(a1: float, a2: float, b1: float, b2: float, steps: int) -> np.ndarray:
    """Decode evenly spaced points on the straight line from A = (a1, a2) to B = (b1, b2) in the latent space.

    Args:
        a1: A's first coordinate; a value beyond ±6 counts as ±6
        a2: A's second coordinate
        b1: B's first coordinate
        b2: B's second coordinate
        steps: how many digits, both ends included, a whole number from 2 to 30
    Returns:
        the digits in one strip from A to B, enlarged 3x, PNG
    """
    a = [inputs.check_z(a1, "A z1"), inputs.check_z(a2, "A z2")]
    b = [inputs.check_z(b1, "B z1"), inputs.check_z(b2, "B z2")]
    steps = inputs.check_steps(steps)
    return draw.strip(latent.decode_images(display_model, latent.interpolation_points(a, b, steps)))


def test_digit_mu(index: int) -> tuple[float, float]:
    """Where q(z|x) puts test digit #index, as the sliders can show it."""
    mu = posterior_of(test_images[int(index)])["mu"]
    return slider_value(mu[0]), slider_value(mu[1])


def move_endpoint(z: tuple[float, float], a1, a2, b1, b2, which: str, picked: int | None = None):
    """Set end A or B of the interpolation to z: the four sliders, and the A and B test-digit pickers,
    the moved end's showing `picked` (None: z is not a test digit's). The page draws the rest."""
    a1, a2, b1, b2 = (*z, b1, b2) if which == "A" else (a1, a2, *z)
    pickers = (picked, gr.skip()) if which == "A" else (gr.skip(), picked)
    return a1, a2, b1, b2, *pickers


def endpoint_from_digit(index, a1, a2, b1, b2, which: str):
    if index is None:
        return (gr.skip(),) * 6
    return move_endpoint(test_digit_mu(index), a1, a2, b1, b2, which, picked=int(index))


def endpoint_from_my_digit(post, a1, a2, b1, b2, which: str):
    if not post:
        raise gr.Error("Upload or draw a digit in the Reconstruct tab first.", print_exception=False)
    return move_endpoint((slider_value(post["mu"][0]), slider_value(post["mu"][1])), a1, a2, b1, b2, which)


# ---------------------------------------------------------------- ELBO anatomy

_coarse: list[CoarseGrid] = []
_coarse_lock = threading.Lock()


def coarse() -> CoarseGrid:
    """The decoded coarse grid that log p(x) and p(z|x) share (~120 MB), built once."""
    with _coarse_lock:
        if not _coarse:
            _coarse.append(coarse_grid(model))
        return _coarse[0]


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
def exact_terms(pixels: bytes) -> ExactTerms:
    """log p(x) by quadrature, p(z|x) on a grid and the best diagonal Gaussian q* of a digit
    (uint8 28x28 as bytes), computed once per digit."""
    x = input_of(pixels)
    log_px = log_marginal_quadrature(model, x, coarse=coarse())[0].item()
    posterior = true_posterior(model, x, size=64, coarse=coarse())
    return ExactTerms(log_px, best_gaussian(model, x, log_px, posterior), posterior)


def anatomy_of(pixels: np.ndarray, L, K, seed) -> dict:
    """Every term of the ELBO for a uint8 28x28 digit (vae.anatomy.elbo_anatomy): the one path to
    these numbers for the ELBO tab and the /elbo endpoint alike."""
    L, K, seed = inputs.check_L(L), inputs.check_K(K), inputs.check_seed(seed)
    exact = exact_terms(pixels.tobytes())
    return elbo_anatomy(model, latent.from_uint8(pixels), L, K, seed, log_px=exact.log_px, best=exact.best)


@user_errors
@torch.inference_mode()
def elbo(image: str, L: int, K: int, seed: int = 0) -> dict:
    """Every term of the ELBO for a picture of a digit, next to the exact log p(x), in nats.

    Args:
        image: a picture of one handwritten digit, as for /reconstruct
        L: samples z = mu + sigma * eps for the reconstruction term, a whole number from 1 to 1000
        K: importance samples for the IWAE bound, a whole number from 1 to 5000
        seed: the seed of the samples, a whole number from 0 to 2^32 - 1
    Returns:
        {reconstruction, kl, elbo, iwae (each with a *_stderr), log_px, gap, approximation_gap, amortization_gap, mu, sigma, ...}
    """
    return anatomy_of(uploaded_pixels(image), L, K, seed)


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
def posterior_picture(pixels: bytes) -> tuple[draw.MapFrame, Image.Image]:
    """The zoomed map of a digit's ELBO tab without its samples: p(z|x) as a red wash, q(z|x)'s
    1- and 2-sigma rings and q*'s 1-sigma ring, over the test digits, and the window it shows.
    Computed once per digit."""
    exact = exact_terms(pixels)
    x = input_of(pixels)
    mu, sigma = latent.posterior(model, x)
    best_mu, best_sigma = exact.best.mu.numpy(), exact.best.sigma.numpy()
    post = exact.posterior  # its grid spans the mass within MASS_NATS of the peak: wider than the frame, and fine enough
    frame = elbo_frame(post, [(mu, sigma), (best_mu, best_sigma)])
    image = draw.render_map(frame, test_mu, test_labels)
    draw.draw_heatmap(image, frame, post.z1.numpy(), post.z2.numpy(), post.log_density.exp().numpy())
    draw.draw_ellipses(image, frame, best_mu, best_sigma, ks=(1.0,), colour=BEST_Q)
    draw.draw_ellipses(image, frame, mu, sigma)
    return frame, image


def elbo_view(pixels: np.ndarray | None, L: int, K: int, seed: int):
    """The whole ELBO tab for a digit: numbers panel, JSON, zoomed map, decoded samples, the digit."""
    if pixels is None:
        raise gr.Error("Pick a test digit, or upload or draw one.", print_exception=False)
    terms = user_errors(anatomy_of)(pixels, L, K, seed)
    z = np.array(terms["z_samples"])
    frame, base = posterior_picture(pixels.tobytes())
    image = base.copy()
    draw.draw_points(image, frame, z[:200], colour=SAMPLE_DOTS)
    decodes = latent.decode_images(display_model, z[:16])
    return elbo_table(terms, TOL), terms, image, draw.sample_sheet(decodes), digit_image(pixels)


def elbo_pick(index, L, K, seed):
    if index is None:
        return (None,) * 6
    pixels = test_images[int(index)]
    return pixels, *elbo_view(pixels, L, K, seed)


@user_errors
def elbo_upload(image: str | None, L, K, seed):
    """The ELBO tab for an uploaded digit; its test-digit picker is cleared, as it shows none of them."""
    if image is None:
        return (gr.skip(),) * 7
    pixels = uploaded_pixels(image)
    return pixels, *elbo_view(pixels, L, K, seed), None


def elbo_my_digit(pixels, L, K, seed):
    """The ELBO tab for the digit of the Reconstruct tab; its test-digit picker is cleared."""
    if pixels is None:
        raise gr.Error("Upload or draw a digit in the Reconstruct tab first.", print_exception=False)
    return pixels, *elbo_view(pixels, L, K, seed), None


FIRST_ELBO = dict(index=0, L=10, K=1000, seed=0)  # the ELBO tab's first view, as its controls start


@lru_cache(maxsize=1)
def first_elbo_view() -> tuple:
    """The ELBO tab's first view. It needs the coarse grid (seconds), so it is made by
    warm_up after start-up, or when the tab is first opened."""
    return elbo_view(test_images[FIRST_ELBO["index"]], FIRST_ELBO["L"], FIRST_ELBO["K"], FIRST_ELBO["seed"])


def elbo_tab_opened(pixels):
    if pixels is not None:
        return (gr.skip(),) * 6
    return test_images[FIRST_ELBO["index"]], *first_elbo_view()


def warm_up(stop: threading.Event) -> None:
    """Build the coarse grid and the ELBO tab's first view ahead of the first visitor,
    checking `stop` between the two so that the process can exit meanwhile."""
    for step in (coarse, first_elbo_view):
        if stop.is_set():
            return
        step()


# ---------------------------------------------------------------- what the page starts with

FIRST_ENDS = (test_digit_mu(0), test_digit_mu(1))  # the interpolation runs from test digit #0 to #1
