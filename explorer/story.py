"""The Story tab's events: the argument of the VAE in nine steps, each claim beside a figure computed
from the model the picker names, for one test digit the reader picks in step 2.

One function per step returns that step's figure and numbers; `show` is the one event for a step
coming into view (the step changed, the tab opened, another model), and each step's control calls
its own function. The words around them are text.STORY; step 7's replay is drawn by the page
(explorer/static/view-training.js), as in the Training tab. Numbers come from the library's
functions on the same inputs as the ELBO tab (explorer/api.py), so the same digit reads the same.
"""
import math
from functools import lru_cache

import gradio as gr
import numpy as np
import pandas as pd
import torch
from PIL import Image

from explorer import models, text
from explorer.api import anatomy_of, digit_image, exact_terms, input_of, user_errors
from explorer.elbo_tab import FIRST_ELBO, posterior_wash
from explorer.models import named
from vae import draw, inputs, latent
from vae.anatomy import Spread, monte_carlo_spread, running_bounds
from vae.gradients import gradient_variance
from vae.model import IMAGE_PIXELS, iwae_bound, iwae_log_weights, load_checkpoint, log_bernoulli, std_dev

STEPS = len(text.STORY)
DRAWS = 8  # prior draws in step 1
JENSEN_K_MAX = 1000  # step 3's slider: importance samples
MC_L_MAX = 64  # step 6's slider: samples per estimate
MC_LS = [1, 2, 4, 8, 16, 32, 64]  # where step 6 measures the spread
MC_REPEATS = 200  # estimates per L that the spread is measured over
GRADIENT_SAMPLES = 4000  # draws of eps that step 5's variances are measured on
WIDE_K = 1000  # importance samples for the 20-D model's bound in step 9
BATCH = 10  # step 9's digits, shown ten at a time
# Short names: a plot's legend is one row, and a phone's width holds only so much.
CURVE_COLOURS = {"mean of logs (ELBO)": "#1f77b4", "log of mean (IWAE)": "#ff7f0e", "log p(x)": "#7f7f7f",
                 "measured": "#ff7f0e", "σ₁ / √L": "#1f77b4", "the L chosen": "#7f7f7f"}


def pixels_of(digit) -> np.ndarray:
    index = inputs.check_int(digit, "digit", 0, len(models.test_images) - 1)
    return models.test_images[index]


# ---------------------------------------------------------------- 1. a generative model


def generative(seed, model: str | None = None) -> tuple[Image.Image, np.ndarray, str]:
    """DRAWS points z ~ p(z) for a seed, numbered on the model's map, and their decodes in the same order."""
    m, seed = named(model), inputs.check_seed(seed)
    z = latent.prior_samples(DRAWS, seed).double().numpy()
    image = m.base_map.convert("RGB")
    draw.draw_numbered(image, models.MAP, z)
    words = " · ".join(f"{i + 1}: ({a:.2f}, {b:.2f})" for i, (a, b) in enumerate(z))
    return image, draw.strip(latent.decode_images(m.display, z)), f"Draw {seed}. The points z: {words}"


# ---------------------------------------------------------------- 2. the likelihood


@lru_cache(maxsize=64)
@torch.inference_mode()
def integrand_picture(pixels: bytes, name: str) -> Image.Image:
    """p(x|z) p(z) over the plane around where it is not negligible, as a grey wash over the test digits."""
    return posterior_wash(named(name), exact_terms(pixels, name).posterior, [])[1]


def likelihood(digit, model: str | None = None) -> tuple[np.ndarray, Image.Image, str]:
    m, pixels = named(model), pixels_of(digit)
    log_px = exact_terms(pixels.tobytes(), m.name).log_px
    return digit_image(pixels), integrand_picture(pixels.tobytes(), m.name), text.story_likelihood(log_px, binarized_metrics())


# ---------------------------------------------------------------- 3. Jensen's inequality


@lru_cache(maxsize=64)
@torch.inference_mode()
def log_weights(pixels: bytes, name: str) -> torch.Tensor:
    """JENSEN_K_MAX importance weights log p(x, z)/q(z|x), z ~ q(z|x), from a fixed seed: moving the slider shows more of the same draws."""
    return iwae_log_weights(named(name).model, input_of(pixels), K=JENSEN_K_MAX, generator=torch.Generator().manual_seed(0))[:, 0]


def jensen(digit, K, model: str | None = None) -> tuple[pd.DataFrame, str]:
    m, pixels = named(model), pixels_of(digit)
    K = inputs.check_int(K, "K", 1, JENSEN_K_MAX)
    mean_log, log_mean = running_bounds(log_weights(pixels.tobytes(), m.name)[:K])
    log_px = exact_terms(pixels.tobytes(), m.name).log_px
    ks = sorted(set(np.unique(np.geomspace(1, K, 120).round().astype(int)).tolist()) | {K})  # up to 121 points a curve
    names = list(CURVE_COLOURS)[:3]
    rows = [(k, mean_log[k - 1].item(), names[0]) for k in ks] + [(k, log_mean[k - 1].item(), names[1]) for k in ks]
    rows += [(1, log_px, names[2]), (max(K, 2), log_px, names[2])]
    return (pd.DataFrame(rows, columns=["K", "nats", "curve"]),
            text.story_jensen(K, mean_log[-1].item(), log_mean[-1].item(), log_px))


# ---------------------------------------------------------------- 4. the recognition model


def recognition(digit, which, model: str | None = None) -> tuple[Image.Image, str]:
    """q(z|x), the encoder's (which = "encoder") or the best Gaussian q*'s ("best"), over the true posterior."""
    m, pixels = named(model), pixels_of(digit)
    if which not in text.STORY_Q:
        raise inputs.InputError(f"which must be one of {', '.join(text.STORY_Q)}.")
    t = anatomy_of(pixels, FIRST_ELBO["L"], FIRST_ELBO["K"], FIRST_ELBO["seed"], m)
    q, best = (np.array(t["mu"]), np.array(t["sigma"])), (np.array(t["best_mu"]), np.array(t["best_sigma"]))
    frame, image = posterior_wash(m, exact_terms(pixels.tobytes(), m.name).posterior, [q, best])  # one window for either oval
    draw.draw_ellipses(image, frame, *(q if which == "encoder" else best))
    return image, text.story_recognition(t, which)


# ---------------------------------------------------------------- 5. the reparameterization trick


@lru_cache(maxsize=64)
def variances(pixels: bytes, name: str):
    return gradient_variance(named(name).model, input_of(pixels), L=1, samples=GRADIENT_SAMPLES, seed=0)


def reparameterization(digit, eps1, eps2, model: str | None = None) -> tuple[str, str]:
    """The graph mu, sigma, eps -> z -> decoder -> log p(x|z) with its values for this eps, and the two gradient estimators' variances."""
    m, pixels = named(model), pixels_of(digit)
    eps = np.array([inputs.check_float(eps1, "ε1", -inputs.EPS_LIMIT, inputs.EPS_LIMIT),
                    inputs.check_float(eps2, "ε2", -inputs.EPS_LIMIT, inputs.EPS_LIMIT)])
    x = input_of(pixels.tobytes())
    with torch.inference_mode():  # not around the variances: their estimator follows gradients
        mu, logvar = m.model.encode(x)
        sigma = std_dev(logvar)
        z = mu + sigma * torch.from_numpy(eps).to(mu.dtype)
        log_px_z = log_bernoulli(x.reshape(1, IMAGE_PIXELS), m.model.decode_logits(z)).item()
    decoded = latent.decode_images(m.display, z.double().numpy())[0]
    graph = text.story_graph(mu[0].tolist(), sigma[0].tolist(), eps.tolist(), z[0].tolist(), log_px_z,
                             draw.data_url(digit_image(pixels)), draw.data_url(draw.enlarge(decoded, 3)))
    return graph, text.story_variances(variances(pixels.tobytes(), m.name), GRADIENT_SAMPLES)


# ---------------------------------------------------------------- 6. the Monte-Carlo estimate


@lru_cache(maxsize=64)
def spread(pixels: bytes, name: str) -> Spread:
    return monte_carlo_spread(named(name).model, input_of(pixels), MC_LS, repeats=MC_REPEATS)


def monte_carlo(digit, L, model: str | None = None) -> tuple[pd.DataFrame, str]:
    """The spread of the L-sample estimate of the reconstruction term, measured at MC_LS, beside sigma_1 / sqrt(L)."""
    m, pixels = named(model), pixels_of(digit)
    L = inputs.check_int(L, "L", 1, MC_L_MAX)
    one, measured = spread(pixels.tobytes(), m.name)
    rows = [(l_, s, "measured") for l_, s in zip(MC_LS, measured)]
    rows += [(l_, one / math.sqrt(l_), "σ₁ / √L") for l_ in range(1, MC_L_MAX + 1)] + [(L, 0.0, "the L chosen"), (L, one, "the L chosen")]
    return pd.DataFrame(rows, columns=["L", "nats", "curve"]), text.story_monte_carlo(L, one, MC_REPEATS, MC_LS)


# ---------------------------------------------------------------- 8. what the KL term does


def kl_term(name) -> tuple[Image.Image, np.ndarray, str]:
    """A committed model's map and 16 of its prior samples, for the β it was trained with."""
    if name not in models.MODEL_FOLDERS or name not in models.MODELS:
        raise inputs.InputError(f"β must be one of {', '.join(n for n in models.MODEL_FOLDERS if n in models.MODELS)}.")
    m = models.MODELS[name]
    samples = latent.decode_images(m.display, latent.prior_samples(16, 0))
    return m.base_map, draw.sample_sheet(samples), text.story_beta(m.facts)


# ---------------------------------------------------------------- 9. why two dimensions


@lru_cache(maxsize=1)
def wide() -> tuple:
    """The committed 20-D model and its vae.evaluate figures."""
    model, _ = load_checkpoint(models.WIDE_FOLDER / "vae.pt")
    return model, models.read_metrics(models.WIDE_FOLDER)


@lru_cache(maxsize=1)
def binarized_metrics() -> dict:
    return models.read_metrics(models.BINARIZED_FOLDER)


@torch.inference_mode()
def two_dimensions(batch, digit, model: str | None = None) -> tuple[np.ndarray, str]:
    """Ten test digits (batch b: #10b to #10b + 9) over their decodes at q's mean by the 2-D model and the 20-D
    one; the step-2 digit's IWAE bound under both, beside the 2-D model's exact log p(x)."""
    m, pixels = named(model), pixels_of(digit)
    batch = inputs.check_int(batch, "batch", 0, len(models.test_images) // BATCH - 1)
    wide_model, wide_figures = wide()
    digits = models.test_images[BATCH * batch:BATCH * (batch + 1)]
    rows = [digits] + [latent.decode_images(net, net.encode(latent.from_uint8(digits))[0]) for net in (m.model, wide_model)]
    bounds = [iwae_bound(net, input_of(pixels.tobytes()), K=WIDE_K, generator=torch.Generator().manual_seed(0)).item()
              for net in (m.model, wide_model)]
    log_px = exact_terms(pixels.tobytes(), m.name).log_px
    return draw.tile(np.stack(rows), scale=2, gap=2), text.story_wide(bounds, log_px, WIDE_K, m.facts, wide_figures)


# ---------------------------------------------------------------- a step coming into view


QUICK = (1, 8, 9)  # steps computed in milliseconds: they wait with the pictures, never behind a class's ELBOs
SLOW = (2, 3, 4, 5, 6)  # steps of a second or more (the exact terms, thousands of draws): one at a time, with the ELBOs


def show(step, seed, digit, K, which, eps1, eps2, L, beta, batch, model: str | None = None, *,
         outputs: dict[int, int]) -> tuple:
    """The outputs of the steps in `outputs` ({step: how many outputs its function returns}, in order): the
    current step's computed if it is one of them, the others' left as they are (gr.skip())."""
    step = inputs.check_int(step, "step", 1, STEPS)
    computed = {1: lambda: generative(seed, model), 2: lambda: likelihood(digit, model), 3: lambda: jensen(digit, K, model),
                4: lambda: recognition(digit, which, model), 5: lambda: reparameterization(digit, eps1, eps2, model),
                6: lambda: monte_carlo(digit, L, model), 8: lambda: kl_term(beta), 9: lambda: two_dimensions(batch, digit, model)}
    shown = []
    for n, count in outputs.items():
        shown += list(user_errors(computed[n])()) if n == step else [gr.skip()] * count
    return tuple(shown)
