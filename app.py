"""The VAE explorer: a Gradio app over the 2-D latent space of a VAE trained on MNIST.

    python app.py            # http://127.0.0.1:7860 (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT to change)

Tabs: Explorer (drag z, see the decoded digit and where it sits among the test
digits), Reconstruct (upload, paste, photograph or draw a digit; see q(z|x)), Manifold
(an n x n grid of decodes, linear or prior-CDF spaced), Sample & interpolate, and ELBO
anatomy (every term of the bound the VAE is trained on, next to the exact log p(x)).

Only checkpoints/ is read: no dataset, no network. Every action is also an API
endpoint (see the "Use via API" page): /decode, /reconstruct, /grid, /sample,
/interpolate, /elbo. Handlers here are thin; the work is in vae/latent.py.
"""
import ctypes
import os
import sys

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported: it reads this at import


def limit_malloc_arenas(arenas: int = 2) -> None:
    """glibc gives every thread that allocates its own heap arena, and Gradio answers requests
    on a pool of worker threads: under bench/load.py the server grew 112 MB in two minutes,
    49 MB with two arenas. Set before torch and gradio start their threads."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").mallopt(-8, arenas)  # -8 is M_ARENA_MAX
        except (OSError, AttributeError):  # a libc without mallopt (e.g. musl): keep its default
            pass


limit_malloc_arenas()

import random
import tempfile
import threading
from functools import lru_cache, wraps
from pathlib import Path
from typing import NamedTuple

import gradio as gr
import gradio.queueing
import gradio.utils
import numpy as np
import pydantic
import torch
from gradio import processing_utils
from gradio.exceptions import InvalidPathError
from PIL import Image

from vae import inputs, latent
from vae.likelihood import (BestGaussian, CoarseGrid, TruePosterior, best_gaussian, coarse_grid, log_marginal_quadrature,
                            posterior_on_square, true_posterior)
from vae.model import load_model
from vae.preprocess import ImageError, open_image, prepare_image


def save_pil_to_cache_atomically(img: Image.Image, cache_dir: str, name: str = "image", format: str = "webp") -> str:
    """Gradio's save_pil_to_cache, but writing a new file under a temporary name and renaming
    it into place, and leaving an existing one alone. Gradio names output files after their
    content and rewrites them in place, so two requests answered with the same image at the
    same moment could be served a half-written file (seen under bench/load.py, where every
    user uploads the same photo). Gradio's own save_file_to_cache already works this way."""
    data = processing_utils.encode_pil_to_bytes(img, format)
    folder = Path(cache_dir) / processing_utils.hash_bytes(data)
    folder.mkdir(exist_ok=True, parents=True)
    path = folder / f"{name}.{format}"
    if path.exists():
        os.utime(path)  # delete_cache ages files by their times: a file served again is young again
    else:
        fd, staging = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(staging, path)
    return str(path.resolve())


processing_utils.save_pil_to_cache = save_pil_to_cache_atomically

FOREIGN_FILE = "Only files uploaded through this app can be used: this request names a file that was not."
NOT_A_FILE = "An image must be sent as an uploaded file (from Python: gradio_client.handle_file(path))."


def error_payload_for_bad_files(error: BaseException | None, show_error: bool) -> dict:
    """Gradio's error_payload, with messages for file payloads that Gradio refuses before any
    handler runs: a file that was not uploaded (a forged request) and something that is not a
    file at all. With show_error off the caller would get no message, and Gradio's own would
    echo server paths."""
    if isinstance(error, InvalidPathError):
        error = gr.Error(FOREIGN_FILE, print_exception=False)
    elif isinstance(error, pydantic.ValidationError):
        error = gr.Error(NOT_A_FILE, print_exception=False)
    return gradio_error_payload(error, show_error)


gradio_error_payload = gradio.utils.error_payload
gradio.utils.error_payload = gradio.queueing.error_payload = error_payload_for_bad_files

ROOT = Path(__file__).resolve().parent
CHECKPOINT = ROOT / "checkpoints" / "vae.pt"
LATENTS = ROOT / "checkpoints" / "test_latents.pt"

# One thread per request: requests run side by side on the 2 cores instead of fighting
# over them (measured on the shared machine: a 30x30 grid decoded 3x slower with 2 threads).
torch.set_num_threads(1)
CONCURRENCY = 2  # requests computed at once, one per core
QUEUE_SIZE = 64  # waiting requests beyond this get "queue full" instead of eating memory

DIGIT_SCALE = 4  # the decoded digit goes over the wire at 112x112; CSS enlarges it crisply
MAP = latent.MapFrame()
# The sliders span exactly the latent map, so the marker never leaves it; the API takes
# any z and clamps it to [-inputs.Z_LIMIT, inputs.Z_LIMIT].
Z_RANGE = MAP.half

model = load_model(CHECKPOINT)
display_model = latent.display_decoder(model)  # pictures only; numbers use `model`
_test = torch.load(LATENTS, map_location="cpu", weights_only=True)
test_mu = _test["mu"].double().numpy()
test_labels = _test["labels"].numpy()
test_images = _test["images"].numpy()  # uint8 [100, 28, 28], the first 100 test digits
BASE_MAP = latent.to_palette(latent.render_map(MAP, test_mu, test_labels))
DIGIT_CHOICES = [(f"test digit #{i} (a {test_labels[i]})", i) for i in range(len(test_images))]


_coarse: list[CoarseGrid] = []
_coarse_lock = threading.Lock()


def coarse() -> CoarseGrid:
    """The decoded coarse grid that log p(x) and p(z|x) share (~2 s, 60 MB), built once."""
    grids = _coarse  # bound once: `gradio app.py` re-runs this module, rebinding the global mid-call
    with _coarse_lock:
        if not grids:
            grids.append(coarse_grid(model))
        return grids[0]


# ---------------------------------------------------------------- helpers


def gr_errors(fn):
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
    return latent.enlarge(pixels, DIGIT_SCALE)


def as_input(pixels: np.ndarray) -> torch.Tensor:
    """uint8 [28, 28] -> model input [1, 1, 28, 28] in [0, 1]."""
    return torch.tensor(pixels, dtype=torch.float32).div(255).view(1, 1, 28, 28)


def map_with(draw) -> Image.Image:
    image = BASE_MAP.copy()
    draw(image)
    return image


def explorer_map(z1: float, z2: float) -> Image.Image:
    """The latent map with the current point marked."""
    return map_with(lambda im: latent.draw_marker(im, MAP, np.array([z1, z2])))


def on_slider(z: float) -> float:
    """A latent coordinate the sliders can show: inside their range, on their 0.01 step."""
    return round(float(np.clip(z, -Z_RANGE, Z_RANGE)), 2)


def clicked_z(evt: gr.SelectData, frame: latent.MapFrame = MAP) -> tuple[float, float]:
    """The latent point under a click on a map, as the sliders can show it."""
    z = frame.px_to_z(np.array(evt.index, dtype=np.float64))
    return on_slider(z[0]), on_slider(z[1])


# ---------------------------------------------------------------- explorer


@gr_errors
@torch.inference_mode()
def decode(z1: float, z2: float) -> np.ndarray:
    """Decode the latent point (z1, z2) into a digit (uint8, 112 x 112, white ink on black)."""
    z1, z2 = inputs.check_z(z1, "z1"), inputs.check_z(z2, "z2")
    return digit_image(latent.decode_images(display_model, [[z1, z2]])[0])


def explorer_click(evt: gr.SelectData):
    z1, z2 = clicked_z(evt)
    return z1, z2, decode(z1, z2), explorer_map(z1, z2)


# ---------------------------------------------------------------- reconstruct


def reconstruction_of(x: torch.Tensor) -> tuple[np.ndarray, np.ndarray, dict]:
    """(prepared input, reconstruction from the posterior mean, {"mu", "sigma"}) for an input [1, 1, 28, 28]."""
    mu, sigma = latent.posterior(model, x)
    recon = latent.decode_images(display_model, mu[None])[0]
    pixels = latent.to_uint8(x)[0]
    return digit_image(pixels), digit_image(recon), {"mu": mu.round(4).tolist(), "sigma": sigma.round(4).tolist()}


def uploaded_digit(image: str | None) -> torch.Tensor:
    """The model's input [1, 1, 28, 28] for an uploaded file; ImageError with the reason if there is none."""
    if image is None:
        raise ImageError("Upload an image of a digit first.")
    return prepare_image(open_image(image))


@gr_errors
def reconstruct(image: str) -> tuple[np.ndarray, np.ndarray, dict]:
    """Encode an uploaded image of a digit and decode it again.

    Returns the 28x28 input as the model sees it (centred, white on black, shown 4x), the
    reconstruction decoded from the posterior mean, and q(z|x) as {"mu": [2], "sigma": [2]}."""
    return reconstruction_of(uploaded_digit(image))


def posterior_map(post: dict | None) -> Image.Image:
    """The latent map with q(z|x)'s 1- and 2-sigma ellipses."""
    if not post:
        return BASE_MAP
    mu, sigma = np.array(post["mu"]), np.array(post["sigma"])

    def draw(image):
        latent.draw_marker(image, MAP, mu, radius=10)  # the rings are often only a few pixels wide
        latent.draw_ellipses(image, MAP, mu, sigma)

    return map_with(draw)


def reconstruction_view(x: torch.Tensor):
    """Everything the Reconstruct tab shows for an input, plus the digit and its q(z|x) for the other tabs."""
    prepared, recon, post = reconstruction_of(x)
    return prepared, recon, post, posterior_map(post), latent.to_uint8(x)[0], post


@gr_errors
def reconstruct_upload(image: str | None):
    if image is None:
        return None, None, None, BASE_MAP, None, None
    return reconstruction_view(uploaded_digit(image))


@gr_errors
def reconstruct_sketch(sketch: dict | None):
    """Live reconstruction of the sketchpad; an empty canvas clears the outputs instead of complaining."""
    composite = None if sketch is None else sketch.get("composite")
    if composite is None or composite.ndim != 3 or composite.shape[2] != 4 or not (composite[..., 3] > 0).any():
        return None, None, None, BASE_MAP, None, None
    return reconstruction_view(prepare_image(composite))


# ---------------------------------------------------------------- manifold


def checked_grid_args(z1, z2, span, n, spacing):
    return (inputs.check_z(z1, "centre z1"), inputs.check_z(z2, "centre z2"), inputs.check_span(span),
            inputs.check_grid_n(n), inputs.check_spacing(spacing))


@gr_errors
@torch.inference_mode()
def grid(z1: float, z2: float, span: float, n: int, spacing: str) -> Image.Image:
    """An n x n grid of decoded digits centred on (z1, z2), span wide from the first to the last
    row/column; spacing "linear" (even in z) or "cdf" (even in the prior's CDF Phi(z), as in Kingma & Welling's figure)."""
    z1, z2, span, n, spacing = checked_grid_args(z1, z2, span, n, spacing)
    cols, rows, points = latent.grid_points(z1, z2, span, n, spacing)
    return latent.render_grid(latent.decode_images(display_model, points), cols, rows)


def grid_map(z1: float, z2: float, span: float) -> Image.Image:
    """The latent map with the grid's window outlined."""
    half = span / 2
    return map_with(lambda im: latent.draw_box(im, MAP, (z1 - half, z2 - half), (z1 + half, z2 + half)))


def grid_view(z1, z2, span, n, spacing):
    return z1, z2, span, grid(z1, z2, span, n, spacing), grid_map(z1, z2, span)


def grid_move(dz1: float, dz2: float, zoom: float):
    """A pan/zoom button: move the centre by (dz1, dz2) quarter-spans, or scale the span by zoom."""

    def move(z1, z2, span, n, spacing):
        span = float(np.clip(span * zoom, inputs.SPAN_MIN, inputs.SPAN_MAX))
        z1, z2 = on_slider(z1 + dz1 * span / 4), on_slider(z2 + dz2 * span / 4)
        return grid_view(z1, z2, round(span, 3), n, spacing)

    return move


def grid_click(z1, z2, span, n, spacing, evt: gr.SelectData):
    """Recentre the grid on the clicked cell."""
    cell = latent.grid_layout(int(n)).cell_at(*evt.index)
    if cell is None:
        return grid_view(z1, z2, span, n, spacing)
    cols, rows, _ = latent.grid_points(z1, z2, span, int(n), spacing)
    return grid_view(on_slider(cols[cell[1]]), on_slider(rows[cell[0]]), span, n, spacing)


def grid_map_click(span, n, spacing, evt: gr.SelectData):
    z1, z2 = clicked_z(evt)
    return grid_view(z1, z2, span, n, spacing)


# ---------------------------------------------------------------- samples and interpolation


@gr_errors
@torch.inference_mode()
def sample(n: int, seed: int) -> np.ndarray:
    """n digits decoded from z ~ N(0, I) drawn with the given seed, tiled in a near-square sheet (2x enlarged)."""
    n, seed = inputs.check_samples_n(n), inputs.check_seed(seed)
    return latent.sample_sheet(latent.decode_images(display_model, latent.prior_samples(n, seed)))


def sample_view(n, seed):
    z = latent.prior_samples(inputs.check_samples_n(n), inputs.check_seed(seed)).double().numpy()
    return sample(n, seed), map_with(lambda im: latent.draw_points(im, MAP, z, radius=3.5))


def new_seed(n):
    seed = random.randrange(2**31)
    return (seed, *gr_errors(sample_view)(n, seed))


@gr_errors
@torch.inference_mode()
def interpolate(a1: float, a2: float, b1: float, b2: float, steps: int) -> np.ndarray:
    """Decode `steps` evenly spaced points on the straight line from A = (a1, a2) to B = (b1, b2),
    both ends included, as one strip of digits (3x enlarged)."""
    a = [inputs.check_z(a1, "A z1"), inputs.check_z(a2, "A z2")]
    b = [inputs.check_z(b1, "B z1"), inputs.check_z(b2, "B z2")]
    steps = inputs.check_steps(steps)
    return latent.strip(latent.decode_images(display_model, latent.interpolation_points(a, b, steps)))


def interpolation_map(a1, a2, b1, b2, steps) -> Image.Image:
    points = latent.interpolation_points([a1, a2], [b1, b2], int(steps))
    return map_with(lambda im: latent.draw_path(im, MAP, points))


def interpolation_view(a1, a2, b1, b2, steps):
    return interpolate(a1, a2, b1, b2, steps), interpolation_map(a1, a2, b1, b2, steps)


def test_digit_mu(index: int) -> tuple[float, float]:
    mu, _ = latent.posterior(model, as_input(test_images[int(index)]))
    return round(float(mu[0]), 2), round(float(mu[1]), 2)


def move_endpoint(z: tuple[float, float] | None, a1, a2, b1, b2, steps, which: str):
    """Set end A or B of the interpolation to z (None leaves both); the four sliders and the new views."""
    if z is not None:
        a1, a2, b1, b2 = (*z, b1, b2) if which == "A" else (a1, a2, *z)
    return a1, a2, b1, b2, *interpolation_view(a1, a2, b1, b2, steps)


def endpoint_from_digit(index, a1, a2, b1, b2, steps, which: str):
    return move_endpoint(None if index is None else test_digit_mu(index), a1, a2, b1, b2, steps, which)


def endpoint_from_mine(post, a1, a2, b1, b2, steps, which: str):
    if not post:
        raise gr.Error("Upload or draw a digit in the Reconstruct tab first.", print_exception=False)
    z = (on_slider(post["mu"][0]), on_slider(post["mu"][1]))
    return move_endpoint(z, a1, a2, b1, b2, steps, which)


def interpolation_click(which, a1, a2, b1, b2, steps, evt: gr.SelectData):
    return move_endpoint(clicked_z(evt), a1, a2, b1, b2, steps, which)


# ---------------------------------------------------------------- ELBO anatomy


class ExactTerms(NamedTuple):
    """What the ELBO tab shows of a digit that depends on the digit only (not on L, K or the seed)."""

    log_px: float
    best: BestGaussian
    frame: latent.MapFrame
    heat: TruePosterior  # p(z|x) on a grid over the frame, for the heat map


@lru_cache(maxsize=64)
@torch.inference_mode()
def exact_terms(pixels: bytes) -> ExactTerms:
    """log p(x) by quadrature, the best diagonal Gaussian q*, and p(z|x) over a window framing
    it with q(z|x), for a digit (uint8 28x28 as bytes), computed once per digit."""
    x = as_input(np.frombuffer(pixels, dtype=np.uint8).reshape(28, 28))
    log_px = log_marginal_quadrature(model, x, coarse=coarse())[0].item()
    posterior = true_posterior(model, x, size=64, coarse=coarse())
    best = best_gaussian(model, x, log_px, posterior)
    mu, logvar = model.encode(x)
    frame = elbo_frame(posterior, [(mu[0].numpy(), logvar[0].mul(0.5).exp().numpy()), (best.mu.numpy(), best.sigma.numpy())])
    heat = posterior_on_square(model, x, log_px, (*frame.centre, 2 * frame.half), 96)
    return ExactTerms(log_px, best, frame, heat)


@gr_errors
@torch.inference_mode()
def elbo(image: str, L: int, K: int, seed: int = 0) -> dict:
    """Every term of the ELBO for an uploaded digit, in nats: reconstruction (L-sample estimate) and
    its standard error, closed-form KL, elbo, the K-sample IWAE bound, exact log p(x) by quadrature,
    gap = log p(x) - elbo and its split into approximation_gap and amortization_gap (with the best
    diagonal Gaussian's best_mu and best_sigma), q(z|x)'s mu and sigma, the L samples z and log p(x|z) of each."""
    x = uploaded_digit(image)
    return latent.elbo_anatomy(model, x, inputs.check_L(L), inputs.check_K(K), inputs.check_seed(seed), coarse=coarse())


def fmt(v: float) -> str:
    return f"{v:.2f}"


def elbo_markdown(t: dict) -> str:
    """The numbers panel: each term with the equation it estimates."""
    se = "" if t["L"] == 1 else f" ± {t['reconstruction_stderr']:.2f}"
    return f"""
| term | equation | nats |
|---|---|---:|
| reconstruction | $\\frac{{1}}{{L}}\\sum_{{l=1}}^{{L}} \\log p_\\theta(x \\mid \\mu + \\sigma \\odot \\epsilon^{{(l)}})$, L = {t['L']} | **{fmt(t['reconstruction'])}**{se} |
| KL (closed form) | $D_{{KL}}(q_\\phi(z \\mid x) \\,\\|\\, p(z))$ | **{fmt(t['kl'])}** |
| ELBO | $\\mathcal{{L}} = \\text{{reconstruction}} - \\text{{KL}}$ | **{fmt(t['elbo'])}** |
| IWAE bound | $\\log \\frac{{1}}{{K}} \\sum_{{k=1}}^{{K}} \\frac{{p_\\theta(x, z_k)}}{{q_\\phi(z_k \\mid x)}}$, K = {t['K']} | **{fmt(t['iwae'])}** |
| exact log-likelihood | $\\log p_\\theta(x) = \\log \\int p_\\theta(x \\mid z)\\, p(z)\\, dz$ (quadrature) | **{fmt(t['log_px'])}** |
| gap | $\\log p_\\theta(x) - \\mathcal{{L}} = D_{{KL}}(q_\\phi(z \\mid x) \\,\\|\\, p_\\theta(z \\mid x))$ | **{fmt(t['gap'])}** |
| … approximation gap | $D_{{KL}}(q^* \\,\\|\\, p_\\theta(z \\mid x))$, $q^*$ the best diagonal Gaussian for this digit | {fmt(t['approximation_gap'])} |
| … amortization gap | $\\mathcal{{L}}(q^*) - \\mathcal{{L}}(q_\\phi)$: what the encoder loses against $q^*$ | {fmt(t['amortization_gap'])} |

$q_\\phi(z \\mid x) = \\mathcal{{N}}(\\mu, \\mathrm{{diag}}\\,\\sigma^2)$ with $\\mu$ = ({t['mu'][0]:.3f}, {t['mu'][1]:.3f}), $\\sigma$ = ({t['sigma'][0]:.3f}, {t['sigma'][1]:.3f});
$q^*$: $\\mu$ = ({t['best_mu'][0]:.3f}, {t['best_mu'][1]:.3f}), $\\sigma$ = ({t['best_sigma'][0]:.3f}, {t['best_sigma'][1]:.3f}).
"""


BEST_Q = (0, 150, 60)  # green: q*, the best diagonal Gaussian


def elbo_frame(posterior: TruePosterior, gaussians: list[tuple[np.ndarray, np.ndarray]]) -> latent.MapFrame:
    """A map window around where p(z|x) is above 1/1000 of its peak and the 3-sigma boxes of the
    Gaussians (mu, sigma) given: posteriors are ~0.1 wide, invisible on the full map."""
    z1, z2, density = posterior.z1.numpy(), posterior.z2.numpy(), posterior.log_density.exp().numpy()
    rows, cols = np.nonzero(density >= density.max() / 1000)
    lo, hi = np.array([z1[cols.min()], z2[rows.min()]]), np.array([z1[cols.max()], z2[rows.max()]])
    for mu, sigma in gaussians:
        lo, hi = np.minimum(lo, mu - 3 * sigma), np.maximum(hi, mu + 3 * sigma)
    centre = (lo + hi) / 2
    return latent.MapFrame(centre=(float(centre[0]), float(centre[1])), half=float(max(hi - lo) / 2 * 1.25))


def elbo_view(pixels: np.ndarray | None, L: int, K: int, seed: int):
    """The whole ELBO tab for a digit: numbers panel, JSON, zoomed map, decoded samples, the input."""
    if pixels is None:
        raise gr.Error("Pick a test digit, or upload or draw one.", print_exception=False)
    x = as_input(pixels)
    L, K, seed = gr_errors(lambda: (inputs.check_L(L), inputs.check_K(K), inputs.check_seed(seed)))()
    exact = exact_terms(pixels.tobytes())
    terms = latent.elbo_anatomy(model, x, L, K, seed, log_px=exact.log_px, best=exact.best)
    mu, sigma, z = np.array(terms["mu"]), np.array(terms["sigma"]), np.array(terms["z_samples"])
    image = latent.render_map(exact.frame, test_mu, test_labels)
    latent.draw_heatmap(image, exact.frame, exact.heat.z1.numpy(), exact.heat.z2.numpy(), exact.heat.log_density.exp().numpy())
    latent.draw_ellipses(image, exact.frame, exact.best.mu.numpy(), exact.best.sigma.numpy(), ks=(1.0,), colour=BEST_Q)
    latent.draw_ellipses(image, exact.frame, mu, sigma)
    latent.draw_points(image, exact.frame, z[:200], colour=(30, 30, 200))
    decodes = latent.decode_images(display_model, z[:16])
    return elbo_markdown(terms), terms, image, latent.sample_sheet(decodes), digit_image(pixels)


def elbo_pick(index, L, K, seed):
    if index is None:
        return None, None, None, None, None, None
    pixels = test_images[int(index)]
    return pixels, *elbo_view(pixels, L, K, seed)


@gr_errors
def elbo_upload(image: str | None, L, K, seed):
    if image is None:
        return (None,) * 6
    pixels = latent.to_uint8(uploaded_digit(image))[0]
    return pixels, *elbo_view(pixels, L, K, seed)


def elbo_mine(pixels, L, K, seed):
    if pixels is None:
        raise gr.Error("Upload or draw a digit in the Reconstruct tab first.", print_exception=False)
    return pixels, *elbo_view(pixels, L, K, seed)


# ---------------------------------------------------------------- layout

CSS = """
#decoded img, #prepared img, #reconstruction img, #elbo_input img, #samples img, #interpolation img, #elbo_samples img {
  image-rendering: pixelated; image-rendering: crisp-edges;
}
#decoded img, #prepared img, #reconstruction img, #elbo_input img { width: 100%; height: 100%; object-fit: contain; }
#latent_map img, #grid img, #rec_map img, #grid_map img, #samples_map img, #interp_map img, #elbo_map img { cursor: crosshair; }
.intro { font-size: 0.95em; }
"""

SELECT_BRUSH = """() => setTimeout(() => {
  const pad = document.querySelector("#sketch");
  if (pad && pad.textContent.includes("select the draw tool")) pad.querySelector('button[aria-label="Brush"]')?.click();
}, 400)"""
LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False}]
HIDDEN = dict(show_progress="hidden")
PRIVATE = dict(api_visibility="private")
LIVE = dict(trigger_mode="always_last", show_progress="hidden")


def map_image(elem_id: str, label: str, value: Image.Image = BASE_MAP) -> gr.Image:
    return gr.Image(value, label=label, elem_id=elem_id, format="png", interactive=False,
                    buttons=["download"], show_label=True)


def digit_output(elem_id: str, label: str, value=None, height: int = 240) -> gr.Image:
    return gr.Image(value, label=label, elem_id=elem_id, format="png", interactive=False, height=height,
                    buttons=["download"])


# What every view shows before the user touches anything, computed once here rather than on each page load.
initial_samples = sample_view(36, 0)
A0, B0 = test_digit_mu(0), test_digit_mu(1)
initial_path = interpolation_view(*A0, *B0, 10)


@lru_cache(maxsize=1)
def initial_elbo() -> tuple:
    """The ELBO tab's first view (test digit #0). It needs the coarse grid, so it is built in
    the background after start-up rather than delaying it, and shown when the tab is opened."""
    return elbo_view(test_images[0], 10, 1000, 0)


def elbo_tab_opened(pixels):
    return (test_images[0], *initial_elbo()) if pixels is None else (gr.skip(),) * 6


threading.Thread(target=initial_elbo).start()  # not a daemon: exiting mid-computation would abort torch

with gr.Blocks(title="VAE latent explorer", analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
    gr.Markdown(
        "# Exploring a VAE's 2-D latent space\n"
        "A variational autoencoder squeezes each 28×28 MNIST digit into just two numbers $z = (z_1, z_2)$ "
        "and learns to draw digits back from them. Every point of the plane below decodes to a digit; "
        "the coloured dots are where the encoder puts the 10,000 test digits.",
        latex_delimiters=LATEX, elem_classes="intro",
    )
    mine_pixels = gr.State(None)  # the last uploaded/drawn digit, prepared (uint8 28x28)
    mine_post = gr.State(None)  # its q(z|x)

    with gr.Tab("Explorer", id="explorer"):
        with gr.Row():
            with gr.Column(scale=3):
                latent_map = map_image("latent_map", "Latent map: test digits by class (click to jump there)", explorer_map(0.0, 0.0))
            with gr.Column(scale=2):
                decoded = digit_output("decoded", "Decoded digit  p(x | z)", decode(0.0, 0.0), height=300)
                z1 = gr.Slider(-Z_RANGE, Z_RANGE, value=0.0, step=0.01, label="z1", elem_id="z1")
                z2 = gr.Slider(-Z_RANGE, Z_RANGE, value=0.0, step=0.01, label="z2", elem_id="z2")
                gr.Markdown(
                    "Drag the sliders or click the map. The decoder turns $z$ into the mean of $p_\\theta(x \\mid z)$: "
                    "a brightness for each pixel. Training pulls the encoder's clouds towards the prior "
                    "$p(z) = \\mathcal{N}(0, I)$, so most digits live within 3 of the origin and the space between "
                    "classes decodes to blends.",
                    latex_delimiters=LATEX,
                )

    with gr.Tab("Reconstruct", id="reconstruct") as rec_tab:
        with gr.Row():
            with gr.Column(scale=2):
                with gr.Tab("Draw") as draw_tab:
                    sketch = gr.Sketchpad(label="Draw a digit", elem_id="sketch",
                                          type="numpy", image_mode="RGBA", canvas_size=(280, 280), fixed_canvas=True,
                                          brush=gr.Brush(default_size=14, colors=["#000000"], color_mode="fixed"),
                                          layers=False, transforms=(), height=380)
                with gr.Tab("Upload / paste / webcam"):
                    upload = gr.Image(label="A picture of one digit", elem_id="upload", type="filepath",
                                      image_mode=None, sources=["upload", "clipboard", "webcam"], height=380)
            with gr.Column(scale=2):
                with gr.Row():
                    prepared = digit_output("prepared", "Input x (28×28)")
                    reconstruction = digit_output("reconstruction", "Reconstruction")
                posterior = gr.JSON(label="q(z|x): posterior mean μ and standard deviation σ", elem_id="posterior", open=True, max_height=220)
                gr.Markdown(
                    "Your picture is turned into an MNIST-style input (ink found, fitted into 20×20, centred by mass), "
                    "encoded to $q_\\phi(z \\mid x) = \\mathcal{N}(\\mu, \\mathrm{diag}\\,\\sigma^2)$ and decoded from $\\mu$. "
                    "The map marks $\\mu$; the small rings inside the marker are 1σ and 2σ of $q$ — the encoder is usually "
                    "very sure, so they are tiny (the ELBO tab zooms in).", latex_delimiters=LATEX)
            with gr.Column(scale=3):
                rec_map = map_image("rec_map", "Where your digit lands")

    with gr.Tab("Manifold", id="manifold"):
        with gr.Row():
            with gr.Column(scale=3):
                grid_img = gr.Image(grid(0.0, 0.0, 6.0, 20, "linear"), label="Decoded grid (click a cell to centre on it)", elem_id="grid", format="png",
                                    interactive=False, buttons=["download", "fullscreen"])
            with gr.Column(scale=2):
                with gr.Row():
                    grid_z1 = gr.Slider(-Z_RANGE, Z_RANGE, value=0.0, step=0.01, label="centre z1", elem_id="grid_z1")
                    grid_z2 = gr.Slider(-Z_RANGE, Z_RANGE, value=0.0, step=0.01, label="centre z2", elem_id="grid_z2")
                with gr.Row():
                    grid_span = gr.Slider(inputs.SPAN_MIN, inputs.SPAN_MAX, value=6.0, step=0.01, label="span (first to last column)", elem_id="grid_span")
                    grid_n = gr.Slider(1, inputs.GRID_N_MAX, value=20, step=1, label="n × n", elem_id="grid_n")
                grid_spacing = gr.Radio([("linear in z", "linear"), ("uniform in prior CDF Φ(z)", "cdf")], value="linear",
                                        label="spacing", elem_id="grid_spacing")
                with gr.Row():
                    zoom_in = gr.Button("Zoom in", elem_id="zoom_in", size="sm")
                    zoom_out = gr.Button("Zoom out", elem_id="zoom_out", size="sm")
                with gr.Row():
                    pan_left = gr.Button("← left", elem_id="pan_left", size="sm")
                    pan_right = gr.Button("right →", elem_id="pan_right", size="sm")
                    pan_up = gr.Button("↑ up", elem_id="pan_up", size="sm")
                    pan_down = gr.Button("↓ down", elem_id="pan_down", size="sm")
                grid_map_img = map_image("grid_map", "The grid's window (click to centre there)", grid_map(0.0, 0.0, 6.0))
                gr.Markdown(
                    "**Linear** spacing puts columns at equal steps in $z$. **Prior CDF** spacing, as in the manifold "
                    "figure of Kingma & Welling's AEVB paper, puts them at equal steps of $u = \\Phi(z)$ between "
                    "$\\Phi(c - s/2)$ and $\\Phi(c + s/2)$ and maps back with $z = \\Phi^{-1}(u)$: the same first and last "
                    "columns, but every step holds the same prior probability, so cells crowd where $p(z)$ is dense.",
                    latex_delimiters=LATEX)

    with gr.Tab("Sample & interpolate", id="sample"):
        with gr.Row():
            with gr.Column(scale=3):
                gr.Markdown("### Samples from the prior\nDraw $z \\sim \\mathcal{N}(0, I)$ and decode: this is how the VAE generates new digits.",
                            latex_delimiters=LATEX)
                with gr.Row():
                    samples_n = gr.Slider(1, inputs.SAMPLES_N_MAX, value=36, step=1, label="how many", elem_id="samples_n")
                    samples_seed = gr.Number(0, label="seed", precision=0, elem_id="samples_seed")
                    samples_button = gr.Button("New samples", elem_id="samples_button")
                samples_img = gr.Image(initial_samples[0], label="Decoded prior samples", show_label=False, elem_id="samples", format="png", interactive=False)
            with gr.Column(scale=2):
                samples_map = map_image("samples_map", "The samples on the map", initial_samples[1])
        gr.Markdown("### Interpolation\nWalk the straight line from A to B in latent space and decode every step. "
                    "Set A and B from test digits, your own digit (Reconstruct tab), the sliders, or by clicking the map.")
        with gr.Row():
            with gr.Column(scale=3):
                with gr.Row():
                    with gr.Column():
                        pick_a = gr.Dropdown(DIGIT_CHOICES, value=0, label="A: a test digit", elem_id="interp_pick_a")
                        mine_a = gr.Button("A = my digit", size="sm", elem_id="interp_mine_a")
                        a1 = gr.Slider(-Z_RANGE, Z_RANGE, value=A0[0], step=0.01, label="A z1", elem_id="interp_a1")
                        a2 = gr.Slider(-Z_RANGE, Z_RANGE, value=A0[1], step=0.01, label="A z2", elem_id="interp_a2")
                    with gr.Column():
                        pick_b = gr.Dropdown(DIGIT_CHOICES, value=1, label="B: a test digit", elem_id="interp_pick_b")
                        mine_b = gr.Button("B = my digit", size="sm", elem_id="interp_mine_b")
                        b1 = gr.Slider(-Z_RANGE, Z_RANGE, value=B0[0], step=0.01, label="B z1", elem_id="interp_b1")
                        b2 = gr.Slider(-Z_RANGE, Z_RANGE, value=B0[1], step=0.01, label="B z2", elem_id="interp_b2")
                with gr.Row():
                    steps = gr.Slider(2, inputs.STEPS_MAX, value=10, step=1, label="steps", elem_id="interp_steps")
                    click_sets = gr.Radio(["A", "B"], value="A", label="clicking the map sets", elem_id="interp_click_sets")
                interp_img = gr.Image(initial_path[0], label="A → B", show_label=False, elem_id="interpolation", format="png", interactive=False)
            with gr.Column(scale=2):
                interp_map = map_image("interp_map", "The path on the map", initial_path[1])

    with gr.Tab("ELBO anatomy", id="elbo") as elbo_tab:
        gr.Markdown(
            "The VAE is trained to maximise the evidence lower bound (ELBO) of the seed text, "
            "$\\mathcal{L} = \\mathbb{E}_{q_\\phi(z \\mid x)} \\log p_\\theta(x \\mid z) - D_{KL}(q_\\phi(z \\mid x) \\,\\|\\, p(z)) \\le \\log p_\\theta(x)$. "
            "With only two latent dimensions we can also compute $\\log p_\\theta(x)$ itself by summing over a fine grid of $z$, "
            "so you can see exactly how loose the bound is for one digit.",
            latex_delimiters=LATEX)
        elbo_pixels = gr.State(None)
        with gr.Row():
            with gr.Column(scale=2):
                elbo_digit = gr.Dropdown(DIGIT_CHOICES, value=0, label="Pick a test digit", elem_id="elbo_digit")
                with gr.Row():
                    elbo_upload_img = gr.Image(label="…or upload one", elem_id="elbo_upload", type="filepath", image_mode=None,
                                               sources=["upload", "clipboard"], height=160)
                    elbo_input = digit_output("elbo_input", "the digit x", height=160)
                elbo_mine_button = gr.Button("Use my digit from the Reconstruct tab", size="sm", elem_id="elbo_mine")
                elbo_L = gr.Slider(1, inputs.L_MAX, value=10, step=1, label="L: samples for the reconstruction term", elem_id="elbo_L")
                elbo_K = gr.Slider(1, inputs.K_MAX, value=1000, step=1, label="K: importance samples for the IWAE bound", elem_id="elbo_K")
                with gr.Row():
                    elbo_seed = gr.Number(0, label="seed for ε", precision=0, elem_id="elbo_seed")
                    elbo_resample = gr.Button("Draw new ε", size="sm", elem_id="elbo_resample")
            with gr.Column(scale=5):
                elbo_numbers = gr.Markdown("Computing…", elem_id="elbo_numbers", latex_delimiters=LATEX)
                with gr.Row():
                    elbo_map = gr.Image(label="Zoomed in: true posterior p(z|x) (red), q(z|x)'s 1σ/2σ rings (black), samples (blue), best Gaussian q*'s 1σ ring (green)",
                                        elem_id="elbo_map", format="png", interactive=False, scale=3)
                    with gr.Column(scale=2):
                        gr.Markdown("Decodes of the first samples $z = \\mu + \\sigma \\odot \\epsilon$ (up to 16):", latex_delimiters=LATEX)
                        elbo_samples = gr.Image(label="decoded samples", show_label=False, elem_id="elbo_samples",
                                                format="png", interactive=False)
                        with gr.Accordion("All terms as JSON", open=False):
                            elbo_json = gr.JSON(label="terms (nats)", elem_id="elbo_json")
        gr.Markdown(
            "**Reading the numbers.** The reconstruction term is a Monte-Carlo average over $L$ draws "
            "$z^{(l)} = \\mu + \\sigma \\odot \\epsilon^{(l)}$, $\\epsilon^{(l)} \\sim \\mathcal{N}(0, I)$ — the reparameterization "
            "trick — so it wobbles with the seed; raise $L$ and the ± shrinks like $1/\\sqrt{L}$. The KL term needs no "
            "sampling: for two Gaussians it is $\\tfrac12 \\sum_j (\\mu_j^2 + \\sigma_j^2 - 1 - \\log \\sigma_j^2)$. "
            "Their difference is the ELBO. The **gap** to the exact $\\log p_\\theta(x)$ is exactly "
            "$D_{KL}(q_\\phi(z \\mid x) \\,\\|\\, p_\\theta(z \\mid x))$: how far the encoder's Gaussian (rings) is from the "
            "true posterior (red). It has two parts: even the best diagonal Gaussian $q^*$ for this digit (green ring) "
            "misses a bent or multi-peaked posterior by the **approximation gap**, and the encoder, one network for every "
            "digit, lands short of $q^*$ by the **amortization gap**; where that is tens of nats, $q_\\phi$ sits beside the "
            "posterior's mass. The IWAE bound averages $K$ importance weights inside the log; it is never below the "
            "ELBO on average and climbs towards $\\log p_\\theta(x)$ as $K$ grows, unless $q_\\phi$ misses the mass. "
            "To make sure it does not, this model's encoder was refitted with the KL the other way round as well, "
            "$D_{KL}(p_\\theta(z \\mid x) \\,\\|\\, q_\\phi(z \\mid x))$, computed from the exact posterior: that direction "
            "makes $q_\\phi$ cover every mode, so the ELBO is a few nats looser and the IWAE bound reaches $\\log p_\\theta(x)$.",
            latex_delimiters=LATEX)

    # ------------------------------------------------------------ the API
    # Each endpoint reads hidden inputs without bounds, so every value reaches the checks in
    # vae/inputs.py and gets their message (a slider rejects out-of-range values with a vaguer
    # one, and a non-number with none); uploads arrive as files, which open_image validates
    # before anything decodes them. Outputs are the components the UI shows. Registered before
    # the UI's events so that these, not the UI's private events of the same functions, get the plain names.
    with gr.Row(visible=False):
        def api(fn, inputs, outputs, name):
            gr.Button().click(fn, inputs, outputs, api_name=name, show_progress="hidden")

        def number(label, value=None):
            return gr.Number(value, label=label)

        api(decode, [number("z1"), number("z2")], decoded, "decode")
        api(reconstruct, gr.File(label="image"), [prepared, reconstruction, posterior], "reconstruct")
        api(grid, [number("z1", 0.0), number("z2", 0.0), number("span", 6.0), number("n", 20), gr.Textbox("linear", label="spacing")],
            grid_img, "grid")
        api(sample, [number("n", 36), number("seed", 0)], samples_img, "sample")
        api(interpolate, [number("a1"), number("a2"), number("b1"), number("b2"), number("steps", 10)], interp_img, "interpolate")
        api(elbo, [gr.File(label="image"), number("L", 10), number("K", 1000), number("seed", 0)], elbo_json, "elbo")

    # ------------------------------------------------------------ events
    # Explorer: the digit and the marker follow the slider while it is dragged; a stale
    # request is dropped in favour of the latest (always_last) so drags never pile up.
    gr.on([z1.input, z2.input], decode, [z1, z2], decoded, **LIVE, **PRIVATE)
    gr.on([z1.input, z2.input], explorer_map, [z1, z2], latent_map, **LIVE, **PRIVATE)
    latent_map.select(explorer_click, None, [z1, z2, decoded, latent_map], **HIDDEN, **PRIVATE)

    # Reconstruct
    rec_outputs = [prepared, reconstruction, posterior, rec_map, mine_pixels, mine_post]
    upload.input(reconstruct_upload, upload, rec_outputs, **PRIVATE)
    sketch.change(reconstruct_sketch, sketch, rec_outputs, **LIVE, **PRIVATE)

    # Gradio's sketchpad starts with no tool selected; pick the brush so the user can just draw.
    for tab in (rec_tab, draw_tab):
        tab.select(None, None, None, js=SELECT_BRUSH)

    # Manifold
    grid_inputs = [grid_z1, grid_z2, grid_span, grid_n, grid_spacing]
    grid_outputs = [grid_z1, grid_z2, grid_span, grid_img, grid_map_img]
    gr.on([grid_z1.input, grid_z2.input, grid_span.input, grid_n.input, grid_spacing.input], grid, grid_inputs, grid_img,
          **LIVE, **PRIVATE)
    gr.on([grid_z1.input, grid_z2.input, grid_span.input], grid_map, [grid_z1, grid_z2, grid_span], grid_map_img, **LIVE, **PRIVATE)
    for button, move in ((zoom_in, grid_move(0, 0, 1 / 1.5)), (zoom_out, grid_move(0, 0, 1.5)),
                         (pan_left, grid_move(-1, 0, 1)), (pan_right, grid_move(1, 0, 1)),
                         (pan_up, grid_move(0, 1, 1)), (pan_down, grid_move(0, -1, 1))):
        button.click(move, grid_inputs, grid_outputs, **HIDDEN, **PRIVATE)
    grid_img.select(grid_click, grid_inputs, grid_outputs, **HIDDEN, **PRIVATE)
    grid_map_img.select(grid_map_click, [grid_span, grid_n, grid_spacing], grid_outputs, **HIDDEN, **PRIVATE)

    # Samples
    gr.on([samples_n.input, samples_seed.submit], sample, [samples_n, samples_seed], samples_img, **LIVE, **PRIVATE)
    gr.on([samples_n.input, samples_seed.submit], gr_errors(lambda n, s: sample_view(n, s)[1]), [samples_n, samples_seed], samples_map, **LIVE, **PRIVATE)
    samples_button.click(new_seed, samples_n, [samples_seed, samples_img, samples_map], **HIDDEN, **PRIVATE)

    # Interpolation
    ab = [a1, a2, b1, b2]
    gr.on([s.input for s in ab + [steps]], interpolate, ab + [steps], interp_img, **LIVE, **PRIVATE)
    gr.on([s.input for s in ab + [steps]], interpolation_map, ab + [steps], interp_map, **LIVE, **PRIVATE)
    interp_outputs = ab + [interp_img, interp_map]
    pick_a.input(lambda i, *v: endpoint_from_digit(i, *v, "A"), [pick_a] + ab + [steps], interp_outputs, **HIDDEN, **PRIVATE)
    pick_b.input(lambda i, *v: endpoint_from_digit(i, *v, "B"), [pick_b] + ab + [steps], interp_outputs, **HIDDEN, **PRIVATE)
    mine_a.click(lambda p, *v: endpoint_from_mine(p, *v, "A"), [mine_post] + ab + [steps], interp_outputs, **HIDDEN, **PRIVATE)
    mine_b.click(lambda p, *v: endpoint_from_mine(p, *v, "B"), [mine_post] + ab + [steps], interp_outputs, **HIDDEN, **PRIVATE)
    interp_map.select(interpolation_click, [click_sets] + ab + [steps], interp_outputs, **HIDDEN, **PRIVATE)

    # ELBO anatomy: L and K update live too; always_last keeps at most one recomputation waiting.
    elbo_settings = [elbo_L, elbo_K, elbo_seed]
    elbo_outputs = [elbo_pixels, elbo_numbers, elbo_json, elbo_map, elbo_samples, elbo_input]
    elbo_tab.select(elbo_tab_opened, elbo_pixels, elbo_outputs, show_progress="minimal", **PRIVATE)
    elbo_digit.input(elbo_pick, [elbo_digit] + elbo_settings, elbo_outputs, show_progress="minimal", **PRIVATE)
    elbo_upload_img.upload(elbo_upload, [elbo_upload_img] + elbo_settings, elbo_outputs, show_progress="minimal", **PRIVATE)
    elbo_mine_button.click(elbo_mine, [mine_pixels] + elbo_settings, elbo_outputs, show_progress="minimal", **PRIVATE)
    gr.on([elbo_L.input, elbo_K.input, elbo_seed.submit], elbo_view, [elbo_pixels] + elbo_settings, elbo_outputs[1:],
          trigger_mode="always_last", show_progress="minimal", **PRIVATE)
    elbo_resample.click(lambda: random.randrange(2**31), None, elbo_seed, **HIDDEN, **PRIVATE).then(
        elbo_view, [elbo_pixels] + elbo_settings, elbo_outputs[1:], show_progress="minimal", **PRIVATE)

demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)

# Every API call without a session hash is a new session holding a copy of the page's
# component state (~250 KB); Gradio keeps 10,000 by default, gigabytes for an API flood.
LAUNCH_OPTIONS = dict(css=CSS, theme=gr.themes.Soft(), max_file_size="20mb", footer_links=["api"], show_error=False,
                      state_session_capacity=200)


def launch(**kwargs):
    """Serve the app with its CSS and upload limit; keyword arguments go to demo.launch (e.g. server_port, prevent_thread_lock)."""
    return demo.launch(**{**LAUNCH_OPTIONS, **kwargs})


if __name__ == "__main__":
    launch()
