"""Latent-space math for the explorer: every function takes and returns numbers.

Decoding latent points to 8-bit digits (and digits back to model inputs), the
coordinates of the manifold grid (linear in z, or uniform in the prior's CDF as in
Kingma & Welling's AEVB figure), prior samples, interpolation paths, and q(z|x) for
one digit. Pictures of all this are drawn by vae.draw.
"""
import copy
import math
import time

import numpy as np
import torch

from vae.inputs import SPACINGS
from vae.model import VAE, std_dev


# ---------------------------------------------------------------- decoding


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """Bernoulli means [N, 1, 28, 28] in [0, 1] -> uint8 [N, 28, 28] (white ink on black, like MNIST)."""
    return images.reshape(-1, 28, 28).clamp(0, 1).mul(255).round().to(torch.uint8).numpy()


def from_uint8(pixels: np.ndarray) -> torch.Tensor:
    """uint8 digits [28, 28] or [N, 28, 28] -> the model's input [N, 1, 28, 28] in [0, 1] (N = 1 for one); the inverse of to_uint8."""
    return torch.tensor(pixels, dtype=torch.float32).div(255).reshape(-1, 1, 28, 28)


@torch.inference_mode()
def decode_images(model: VAE, z: torch.Tensor | np.ndarray) -> np.ndarray:
    """Decode latent points [N, 2] in one batch -> uint8 digits [N, 28, 28] (model in float32 or bfloat16, on any device)."""
    weight = next(model.parameters())
    z = torch.as_tensor(np.asarray(z, dtype=np.float32)).reshape(-1, model.latent_dim).to(weight.device, weight.dtype)
    return to_uint8(model.decode(z).float().cpu())


@torch.inference_mode()
def display_decoder(model: VAE, batch: int = 900, repeats: int = 3) -> VAE:
    """A copy of the model for drawing pictures fast: in bfloat16 where that decodes a batch
    clearly faster (CPUs with AVX512-BF16 or AMX), decided by timing both here, since CPU
    flags do not say how fast a CPU's bfloat16 really is.

    Decoded pixels differ from the float32 model's by a few levels of 255, which nobody can
    see; every number the app reports (ELBO, IWAE, log p(x), posteriors) uses the original model."""
    z = torch.randn(batch, model.latent_dim, generator=torch.Generator().manual_seed(0))

    def best_time(m: VAE, give_up: float = math.inf) -> float:
        zz = z.to(next(m.parameters()).dtype)
        m.decode(zz)  # warm-up
        best = math.inf
        for _ in range(repeats):
            start = time.perf_counter()
            m.decode(zz)
            best = min(best, time.perf_counter() - start)
            if best > give_up:  # far slower already (bfloat16 without the CPU's help): the rest cannot win
                break
        return best

    fast = best_time(model)
    low = copy.deepcopy(model).to(torch.bfloat16)
    return low if best_time(low, give_up=2 * fast) < 0.8 * fast else model


# ---------------------------------------------------------------- grid coordinates


def normal_cdf(z: np.ndarray | float) -> np.ndarray:
    """Phi(z), the standard normal CDF (float64)."""
    return 0.5 * torch.special.erfc(-torch.as_tensor(z, dtype=torch.float64) / math.sqrt(2)).numpy()


def normal_icdf(u: np.ndarray | float) -> np.ndarray:
    """Phi^-1(u), the standard normal quantile function (float64)."""
    return torch.special.ndtri(torch.as_tensor(u, dtype=torch.float64)).numpy()


def grid_axis(centre: float, span: float, n: int, spacing: str = "linear") -> np.ndarray:
    """n coordinates along one axis of the manifold grid, ascending (float64).

    Both spacings run from centre - span/2 to centre + span/2, so the first and last
    rows and columns are the same; they differ in between:
      - "linear": evenly spaced in z.
      - "cdf": evenly spaced in u = Phi(z), the prior's CDF, then mapped back with
        z = Phi^-1(u), as in the manifold figure of Kingma & Welling (AEVB). Each step
        then covers the same prior probability mass: cells crowd where p(z) is high.
        Centre 0 and span 6 gives the AEVB-style figure.
    n = 1 gives the centre alone.
    """
    if spacing not in SPACINGS:
        raise ValueError(f"spacing must be one of {SPACINGS}, not {spacing!r}")
    if n == 1:
        return np.array([float(centre)])
    lo, hi = centre - span / 2, centre + span / 2
    if spacing == "linear":
        return np.linspace(lo, hi, n)
    u = np.linspace(normal_cdf(lo), normal_cdf(hi), n)
    z = normal_icdf(u)
    # Far in a tail Phi rounds to 0 or 1 in float64; keep the exact end points there.
    z[0], z[-1] = lo, hi
    return np.clip(z, lo, hi)


def grid_points(z1: float, z2: float, span: float, n: int, spacing: str = "linear") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(z1 of each column [n], z2 of each row [n], points [n*n, 2]) for an n x n grid.

    Rows go top to bottom with z2 decreasing, as in a plot with z2 pointing up, and the
    points are in row-major order so decoding them fills the grid image row by row."""
    cols = grid_axis(z1, span, n, spacing)
    rows = grid_axis(z2, span, n, spacing)[::-1].copy()
    points = np.stack(np.meshgrid(cols, rows, indexing="xy"), axis=-1).reshape(-1, 2)
    return cols, rows, points


# ---------------------------------------------------------------- sampling and paths


def mix32(x: int) -> int:
    """A 32-bit integer hash (xor-shift and multiply rounds): the page's latent.js computes the same."""
    x ^= x >> 16
    x = (x * 0x7FEB352D) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x846CA68B) & 0xFFFFFFFF
    return x ^ (x >> 16)


def prior_samples(n: int, seed: int) -> torch.Tensor:
    """n draws z ~ p(z) = N(0, I) [n, 2] for a seed (0 <= seed < 2**32), by Box-Muller on uniforms
    hashed from (seed, i). Sample i depends on the seed and i alone, so asking for more samples keeps
    the first ones, nothing else that draws random numbers changes them, and the page's JavaScript
    draws the very same samples for a seed."""

    def uniform(i: int) -> float:  # in (0, 1): the log below never sees 0; i + 1, as mix32(0) = 0
        return (mix32(mix32(i + 1) ^ seed) + 0.5) / 2**32

    z = []
    for i in range(n):
        r, angle = math.sqrt(-2 * math.log(uniform(2 * i))), 2 * math.pi * uniform(2 * i + 1)
        z.append((r * math.cos(angle), r * math.sin(angle)))
    return torch.tensor(z, dtype=torch.float32).reshape(n, 2)


def interpolation_points(z_a: np.ndarray, z_b: np.ndarray, steps: int) -> np.ndarray:
    """steps points [steps, 2] evenly spaced on the straight line from z_a to z_b, both ends included."""
    t = np.linspace(0.0, 1.0, steps)[:, None]
    return (1 - t) * np.asarray(z_a, dtype=np.float64) + t * np.asarray(z_b, dtype=np.float64)


@torch.inference_mode()
def posterior(model: VAE, x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(mean, standard deviation) of q(z|x) for one digit x [1, 1, 28, 28], each float64 [2]."""
    mu, logvar = model.encode(x)
    return mu[0].double().numpy(), std_dev(logvar[0]).double().numpy()
