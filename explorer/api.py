"""The API's six endpoints (decode, reconstruct, grid, sample, interpolate, elbo) and the computations
the page's events share with them.

Each endpoint's docstring is what the "Use via API" page says about it and each of its parameters
and results (explorer/gradio_adjustments.py, documented_api). Every endpoint takes an optional
`model`, the default model (models.DEFAULT) if left out. Bad input raises gr.Error carrying the message of vae.inputs or
vae.preprocess, which the API returns as its error and the ELBO tab shows as a toast (the Reconstruct
tab shows a refused picture's message in place of its results: explorer/events.py).

The models are explorer/models.py's, loaded by models.load() before any of these is called. The
decoded coarse grid that log p(x) needs is built for a model on its first /elbo or ELBO tab, or
ahead of it by the warm-up (explorer/elbo_tab.py).
"""
import threading
import zlib
from functools import lru_cache, wraps
from typing import NamedTuple

import gradio as gr
import numpy as np
import torch
from PIL import Image

from explorer import models
from explorer.models import Model, named
from vae import draw, inputs, latent
from vae.anatomy import elbo_anatomy
from vae.likelihood import (BestGaussian, CoarseGrid, TruePosterior, best_gaussian, coarse_grid, log_marginal_quadrature,
                            true_posterior)
from vae.preprocess import ImageError, open_image, prepare_image
from vae.reading import posterior_reconstruction

DIGIT_SCALE = 4  # a decoded digit goes over the wire at 112x112; CSS enlarges it crisply


# ---------------------------------------------------------------- shared with the page's events


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


def uploaded_pixels(image: str | bytes | None, notes: list[str] | None = None) -> np.ndarray:
    """The uint8 28x28 digit the model sees for an uploaded file; ImageError with the reason if there is none.
    Every number shown for an upload, in the page and the API, is computed from these pixels. What was
    done with a doubtful picture is appended to `notes` (vae.preprocess.prepare_image)."""
    if image is None:
        raise ImageError("Upload an image of a digit first.")
    return latent.to_uint8(prepare_image(open_image(image), notes))[0]


def posterior_of(pixels: np.ndarray, m: Model | None = None) -> dict:
    """q(z|x) of a digit under a model (the default if None) as the page and the API show it:
    {"mu": [2], "sigma": [2]}, rounded to 4 decimals."""
    mu, sigma = latent.posterior((m or models.DEFAULT).model, latent.from_uint8(pixels))
    return {"mu": mu.round(4).tolist(), "sigma": sigma.round(4).tolist()}


class Reconstructed(NamedTuple):
    """What /reconstruct returns for a digit, and what the Reconstruct tab's switch picks from: the
    digit and three ways to decode it, pictures enlarged (DIGIT_SCALE)."""

    prepared: np.ndarray  # the digit as the model sees it
    reading: np.ndarray  # the app's reconstruction: vae.reading.posterior_reconstruction
    mean: np.ndarray  # decode(mu), the textbook reconstruction
    sample: np.ndarray  # the decoded z = mu + sigma * eps, one draw from q(z|x)
    posterior: dict  # posterior_of's q(z|x), with the peak ("mode") and the sampled z ("sample")


RECONSTRUCTIONS = ("reading", "mean", "sample")  # Reconstructed's three decodes, the switch's choices


def sample_seed(pixels: np.ndarray) -> int:
    """The seed of a digit's sample from q(z|x): the CRC-32 of its 784 pixels, so that the same picture
    gets the same sample, in the page and from the API, and another picture another."""
    return zlib.crc32(pixels.tobytes())


def reconstruction_of(pixels: np.ndarray, m: Model | None = None) -> Reconstructed:
    """A uint8 28x28 digit read back through a model (the default if None): the reading, averaged over
    the tempered posterior around q(z|x), whose most probable z is "mode" (vae.reading); decode(mu);
    and the digit decoded at one z drawn from q(z|x), with eps ~ N(0, I) seeded by sample_seed. mu and
    z are decoded by /decode's decoder at the values reported: /decode at them gives the same pictures
    (where they lie within its ±6, as all but some of beta0's do)."""
    return reading_of(pixels.tobytes(), (m or models.DEFAULT).name)


@lru_cache(maxsize=256)
@torch.inference_mode()
def reading_of(pixels: bytes, name: str) -> Reconstructed:
    """reconstruction_of for a digit given as the bytes of its uint8 28x28 pixels, computed once per digit and model:
    the same picture uploaded again, to the page or the API, costs nothing."""
    m, pixels = models.MODELS[name], np.frombuffer(pixels, dtype=np.uint8).reshape(28, 28)
    x = latent.from_uint8(pixels)
    read = posterior_reconstruction(m.model, x)
    mu, sigma = latent.posterior(m.model, x)  # unrounded: a q narrower than 4 decimals (beta = 0) still draws its sample
    z = mu + sigma * latent.prior_samples(1, sample_seed(pixels))[0].double().numpy()
    post = {**posterior_of(pixels, m), "mode": read.mode[0].double().numpy().round(4).tolist(), "sample": z.round(4).tolist()}
    mean, sample = latent.decode_images(m.display, [post["mu"], post["sample"]])
    return Reconstructed(digit_image(pixels), digit_image(latent.to_uint8(read.image)[0]), digit_image(mean),
                         digit_image(sample), post)


_coarse: dict[str, CoarseGrid] = {}
_coarse_lock = threading.Lock()


def coarse(m: Model | None = None) -> CoarseGrid:
    """The decoded coarse grid that log p(x) and p(z|x) share (~120 MB a model), built once for each."""
    m = m or models.DEFAULT
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


@lru_cache(maxsize=512)  # the first 100 test digits of every model, and the newest uploads
@torch.inference_mode()
def exact_terms(pixels: bytes, name: str) -> ExactTerms:
    """log p(x) by quadrature, p(z|x) on a grid and the best diagonal Gaussian q* of a digit
    (uint8 28x28 as bytes) under a model, computed once per digit and model."""
    m, x = models.MODELS[name], input_of(pixels)
    log_px = log_marginal_quadrature(m.model, x, coarse=coarse(m))[0].item()
    posterior = true_posterior(m.model, x, size=64, coarse=coarse(m))
    return ExactTerms(log_px, best_gaussian(m.model, x, log_px, posterior), posterior)


def anatomy_of(pixels: np.ndarray, L, K, seed, m: Model | None = None) -> dict:
    """Every term of the ELBO for a uint8 28x28 digit (vae.anatomy.elbo_anatomy): the one path to
    these numbers for the ELBO tab and the /elbo endpoint alike."""
    m = m or models.DEFAULT
    L, K, seed = inputs.check_L(L), inputs.check_K(K), inputs.check_seed(seed)
    exact = exact_terms(pixels.tobytes(), m.name)
    return elbo_anatomy(m.model, latent.from_uint8(pixels), L, K, seed, log_px=exact.log_px, best=exact.best)


# ---------------------------------------------------------------- the endpoints


@user_errors
@torch.inference_mode()
def decode(z1: float, z2: float, model: str | None = None) -> np.ndarray:
    """Decode the latent point (z1, z2) into a digit.

    Args:
        z1: the first latent coordinate; a value beyond ±6 counts as ±6
        z2: the second latent coordinate; a value beyond ±6 counts as ±6
        model: which model: "beta1", the VAE (the default, unless the server shows models of its own), "beta0" (trained on the reconstruction term alone), "beta5" (the KL term weighed 5), or a name the server was given with --checkpoint NAME=PATH
    Returns:
        the decoded digit, white ink on black, 112 x 112 pixels (28 x 28 enlarged 4x), PNG
    """
    m, z1, z2 = named(model), inputs.check_z(z1, "z1"), inputs.check_z(z2, "z2")
    return digit_image(latent.decode_images(m.display, [[z1, z2]])[0])


@user_errors
def reconstruct(image: str, model: str | None = None) -> Reconstructed:
    """Encode a picture of one digit and decode it again, three ways.

    Args:
        image: a picture of one handwritten digit, PNG, JPEG, GIF, WebP, BMP or TIFF up to 20 MB: a photo, a scan, a drawing
        model: which model: "beta1", the VAE (the default, unless the server shows models of its own), "beta0" (trained on the reconstruction term alone), "beta5" (the KL term weighed 5), or a name the server was given with --checkpoint NAME=PATH
    Returns:
        the digit as the model sees it: 28 x 28, centred, white on black, enlarged 4x, PNG
        the app's reconstruction, the reading: the decoder's digits averaged around q(z|x), weighted by p(z|x) ** 0.1, enlarged 4x, PNG
        decode(mu), the textbook reconstruction: the decoder's digit at q(z|x)'s mean, enlarged 4x, PNG
        a sample: the decoder's digit at z = mu + sigma * eps, eps ~ N(0, I) drawn with the CRC-32 of the 784 prepared pixels as seed (the same picture, the same sample), enlarged 4x, PNG
        q(z|x) = N(mu, diag sigma^2), the posterior's most probable z near it and the sampled z as {"mu": [z1, z2], "sigma": [s1, s2], "mode": [z1, z2], "sample": [z1, z2]}, with "note" when the picture is doubtful
    """
    m, notes = named(model), []
    read = reconstruction_of(uploaded_pixels(image, notes), m)
    return read._replace(posterior={**read.posterior, "note": " ".join(notes)}) if notes else read


@user_errors
@torch.inference_mode()
def grid(z1: float, z2: float, span: float, n: int, spacing: str, model: str | None = None) -> Image.Image:
    """An n x n grid of decoded digits: the latent space's manifold, as in Kingma & Welling's figure.

    Args:
        z1: the first coordinate of the grid's centre; a value beyond ±6 counts as ±6
        z2: the second coordinate of the grid's centre; a value beyond ±6 counts as ±6
        span: the distance in z from the first to the last column (and row), 0.1 to 12
        n: digits per side, a whole number from 1 to 30
        spacing: "linear" (points even in z) or "cdf" (even in the prior's CDF Phi(z), denser near the origin)
        model: which model: "beta1", the VAE (the default, unless the server shows models of its own), "beta0" (trained on the reconstruction term alone), "beta5" (the KL term weighed 5), or a name the server was given with --checkpoint NAME=PATH
    Returns:
        the grid with its z1 and z2 axes, PNG
    """
    m, z1, z2 = named(model), inputs.check_z(z1, "centre z1"), inputs.check_z(z2, "centre z2")
    span, n, spacing = inputs.check_span(span), inputs.check_grid_n(n), inputs.check_spacing(spacing)
    return grid_picture(z1, z2, span, n, spacing, m.name)


@lru_cache(maxsize=64)
@torch.inference_mode()
def grid_picture(z1: float, z2: float, span: float, n: int, spacing: str, name: str) -> Image.Image:
    """The grid of a checked window, drawn once: the page's first view and the windows a class shares
    (browsers without a graphics card ask for them) cost the server once."""
    cols, rows, points = latent.grid_points(z1, z2, span, n, spacing)
    return draw.render_grid(latent.decode_images(models.MODELS[name].display, points), cols, rows)


@user_errors
@torch.inference_mode()
def sample(n: int, seed: int, model: str | None = None) -> np.ndarray:
    """Digits decoded from z drawn from the prior N(0, I): what the VAE generates.

    Args:
        n: how many digits, a whole number from 1 to 100
        seed: the seed of the draws, a whole number from 0 to 2^32 - 1: the same seed gives the same digits, and the page's too
        model: which model: "beta1", the VAE (the default, unless the server shows models of its own), "beta0" (trained on the reconstruction term alone), "beta5" (the KL term weighed 5), or a name the server was given with --checkpoint NAME=PATH
    Returns:
        the digits tiled in a near-square sheet, enlarged 2x, PNG
    """
    m, n, seed = named(model), inputs.check_samples_n(n), inputs.check_seed(seed)
    return draw.sample_sheet(latent.decode_images(m.display, latent.prior_samples(n, seed)))


@user_errors
@torch.inference_mode()
def interpolate(a1: float, a2: float, b1: float, b2: float, steps: int, model: str | None = None) -> np.ndarray:
    """Decode evenly spaced points on the straight line from A = (a1, a2) to B = (b1, b2) in the latent space.

    Args:
        a1: A's first coordinate; a value beyond ±6 counts as ±6
        a2: A's second coordinate
        b1: B's first coordinate
        b2: B's second coordinate
        steps: how many digits, both ends included, a whole number from 2 to 30
        model: which model: "beta1", the VAE (the default, unless the server shows models of its own), "beta0" (trained on the reconstruction term alone), "beta5" (the KL term weighed 5), or a name the server was given with --checkpoint NAME=PATH
    Returns:
        the digits in one strip from A to B, enlarged 3x, PNG
    """
    a = [inputs.check_z(a1, "A z1"), inputs.check_z(a2, "A z2")]
    b = [inputs.check_z(b1, "B z1"), inputs.check_z(b2, "B z2")]
    m, steps = named(model), inputs.check_steps(steps)
    return draw.strip(latent.decode_images(m.display, latent.interpolation_points(a, b, steps)))


@user_errors
@torch.inference_mode()
def elbo(image: str, L: int, K: int, seed: int = 0, model: str | None = None) -> dict:
    """Every term of the ELBO for a picture of a digit, next to the exact log p(x), in nats.

    Args:
        image: a picture of one handwritten digit, as for /reconstruct
        L: samples z = mu + sigma * eps for the reconstruction term, a whole number from 1 to 1000
        K: importance samples for the IWAE bound, a whole number from 1 to 5000
        seed: the seed of the samples, a whole number from 0 to 2^32 - 1
        model: which model: "beta1", the VAE (the default, unless the server shows models of its own), "beta0" (trained on the reconstruction term alone), "beta5" (the KL term weighed 5), or a name the server was given with --checkpoint NAME=PATH
    Returns:
        {reconstruction, kl, elbo, iwae (each with a *_stderr), log_px, gap, approximation_gap, amortization_gap, mu, sigma, ...}
    """
    m = named(model)
    return anatomy_of(uploaded_pixels(image), L, K, seed, m)
