"""The ELBO anatomy tab's events: every term of the bound for a digit (a test digit, an upload, or the
Reconstruct tab's), with its zoomed map of p(z|x), q(z|x) and q*, and the decoded samples; and the
start-up warm-up that makes the tab's first view ahead of the first visitor.

The numbers are explorer/api.py's anatomy_of, the /elbo endpoint's too; the exact terms it needs
(log p(x), p(z|x), q*) are computed once per digit and model there, and so is the map here.
"""
import threading
from functools import lru_cache

import gradio as gr
import numpy as np
import torch
from PIL import Image

from explorer import background, models, text
from explorer.api import anatomy_of, coarse, digit_image, exact_terms, input_of, uploaded_pixels, user_errors
from explorer.models import Model, named
from vae import draw, latent
from vae.likelihood import TOL, TruePosterior

FIRST_ELBO = dict(index=0, L=10, K=1000, seed=0)  # the tab's first view, as its controls start


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


def posterior_wash(m: Model, posterior: TruePosterior, gaussians: list[tuple[np.ndarray, np.ndarray]]
                   ) -> tuple[draw.MapFrame, Image.Image]:
    """The map zoomed to p(z|x) and the Gaussians (mu, sigma) given (elbo_frame), p(z|x) drawn over the test digits
    as a grey wash. The posterior's grid spans the mass within MASS_NATS of its peak: wider than the frame, and fine enough."""
    frame = elbo_frame(posterior, gaussians)
    image = draw.render_map(frame, m.mu, m.labels, m.classes)
    draw.draw_heatmap(image, frame, posterior.z1.numpy(), posterior.z2.numpy(), posterior.log_density.exp().numpy())
    return frame, image


@lru_cache(maxsize=64)
@torch.inference_mode()
def posterior_picture(pixels: bytes, name: str | None = None) -> tuple[draw.MapFrame, Image.Image]:
    """The zoomed map of a digit's ELBO tab without its samples: p(z|x) as a grey wash, q(z|x)'s
    1- and 2-sigma rings (ink) and q*'s 1-sigma ring (white, edged with ink), over the test digits,
    and the window it shows. Greys only, so that none is taken for a class. Computed once per digit and model."""
    m = named(name)
    exact = exact_terms(pixels, m.name)
    x = input_of(pixels)
    mu, sigma = latent.posterior(m.model, x)
    best_mu, best_sigma = exact.best.mu.numpy(), exact.best.sigma.numpy()
    frame, image = posterior_wash(m, exact.posterior, [(mu, sigma), (best_mu, best_sigma)])
    draw.draw_ellipses(image, frame, best_mu, best_sigma, ks=(1.0,), colour="white", halo=draw.INK)
    draw.draw_ellipses(image, frame, mu, sigma)
    return frame, image


def elbo_view(pixels: np.ndarray | None, L: int, K: int, seed: int, model: str | None = None) -> tuple:
    """The whole ELBO tab for a digit: numbers panel, JSON, zoomed map, decoded samples, the digit."""
    if pixels is None:
        raise gr.Error("Pick a test digit, or upload or draw one.", print_exception=False)
    m = user_errors(named)(model)
    terms = user_errors(anatomy_of)(pixels, L, K, seed, m)
    z = np.array(terms["z_samples"])
    frame, base = posterior_picture(pixels.tobytes(), m.name)
    image = base.copy()
    draw.draw_points(image, frame, z[:200], colour="white", outline=draw.INK)  # white: apart from q's ink mean
    decodes = latent.decode_images(m.display, z[:16])
    return text.elbo_table(terms, TOL), terms, image, draw.sample_sheet(decodes), digit_image(pixels)


def elbo_pick(index, L, K, seed, model: str | None = None) -> tuple:
    """The tab for test digit #index, whenever its picker changes (a digit picked in the list or on the
    thumbnails); a picker cleared (by an upload, which shows no test digit) changes nothing."""
    if index is None:
        return (gr.skip(),) * 6
    pixels = models.test_images[int(index)]
    return pixels, *elbo_view(pixels, L, K, seed, model)


@user_errors
def elbo_upload(image: str | None, L, K, seed, model: str | None = None) -> tuple:
    """The ELBO tab for an uploaded digit; its test-digit picker is cleared, as it shows none of them."""
    if image is None:
        return (gr.skip(),) * 7
    pixels = uploaded_pixels(image)
    return pixels, *elbo_view(pixels, L, K, seed, model), None


def elbo_my_digit(pixels, L, K, seed, model: str | None = None) -> tuple:
    """The ELBO tab for the digit of the Reconstruct tab; its test-digit picker is cleared."""
    if pixels is None:
        raise gr.Error("Upload or draw a digit in the Reconstruct tab first.", print_exception=False)
    return pixels, *elbo_view(pixels, L, K, seed, model), None


def elbo_again(pixels, L, K, seed, model: str) -> tuple:
    """The ELBO tab when another model is picked: its digit under that model, once the tab has one."""
    if pixels is None:
        return (gr.skip(),) * 5
    return elbo_view(pixels, L, K, seed, model)


@lru_cache(maxsize=None)  # one view per model
def first_elbo_view(model: str | None = None) -> tuple:
    """The tab's first view. It needs the coarse grid (seconds), so the default model's is made
    by warm_up after start-up, or when the tab is first opened."""
    return elbo_view(models.test_images[FIRST_ELBO["index"]], FIRST_ELBO["L"], FIRST_ELBO["K"], FIRST_ELBO["seed"], model)


def elbo_tab_opened(pixels, model: str | None = None) -> tuple:
    if pixels is not None:
        return (gr.skip(),) * 6
    return models.test_images[FIRST_ELBO["index"]], *first_elbo_view(model)


def warm_up() -> threading.Thread:
    """Start building the default model's coarse grid and the tab's first view ahead of the first visitor,
    in the background (ExplorerBlocks.launch calls this); at exit, once the step under way is done."""

    def work(stop: threading.Event) -> None:
        for step in (coarse, first_elbo_view):
            if stop.is_set():
                return
            step()

    return background.start("explorer-warm-up", work)
