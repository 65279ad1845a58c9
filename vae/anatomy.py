"""The ELBO taken apart for one digit: every term the explorer's ELBO tab and /elbo show.

    log p(x) >= ELBO = E_q[log p(x|z)] - D_KL(q(z|x) || p(z))

The reconstruction term is estimated with L reparameterized samples, the KL is exact,
the IWAE bound uses K importance samples, and log p(x) comes from quadrature
(vae.likelihood), so the gap and its two parts are known exactly too.
"""
import math
from typing import NamedTuple

import torch

from vae.likelihood import BestGaussian, CoarseGrid, best_gaussian, log_marginal_quadrature
from vae.model import IMAGE_PIXELS, VAE, iwae_log_weights, kl_divergence, log_bernoulli, reparameterize, std_dev


@torch.inference_mode()
def elbo_anatomy(model: VAE, x: torch.Tensor, L: int, K: int, seed: int = 0, coarse: CoarseGrid | None = None,
                 log_px: float | None = None, best: BestGaussian | None = None) -> dict:
    """Every term of the ELBO for one digit x [1, 1, 28, 28], beside log p(x) itself, in nats.

    - reconstruction: E_q[log p(x|z)] estimated with L samples z = mu + sigma * eps (the
      reparameterization trick), with its Monte-Carlo standard error;
    - kl: D_KL(q(z|x) || p(z)) in closed form; elbo = reconstruction - kl;
    - iwae: the K-sample importance-weighted estimate, with its standard error: a bound on log p(x)
      in expectation, so one estimate may land a little above it, as any Monte-Carlo figure can;
    - log_px: log p(x) itself, by quadrature over the 2-D latent plane, so
      gap = log_px - elbo = D_KL(q(z|x) || p(z|x)) is known too;
    - the gap split in two by the best diagonal Gaussian q* for this digit (`best_gaussian`):
      approximation_gap = KL(q* || p(z|x)), amortization_gap = ELBO(q*) - elbo.
    Samples come from a generator seeded with `seed`, so a request is reproducible. `log_px`
    and `best` (from `best_gaussian`) may be passed in when already known (they depend on x
    only), else they are computed.
    """
    mu, logvar = model.encode(x)
    generator = torch.Generator().manual_seed(seed)
    eps = torch.randn(L, *mu.shape, generator=generator)
    z = reparameterize(mu, logvar, eps)  # [L, 1, 2]
    per_sample = log_bernoulli(x.reshape(1, IMAGE_PIXELS), model.decode_logits(z))[:, 0]  # [L]
    reconstruction = per_sample.mean().item()
    stderr = per_sample.std().item() / math.sqrt(L) if L > 1 else float("nan")
    kl = kl_divergence(mu, logvar)[0].item()
    # The IWAE samples from a generator of their own, seeded alike: the seed holds and nobody else's stream moves.
    log_w = iwae_log_weights(model, x, K=K, generator=torch.Generator().manual_seed(seed))[:, 0]
    iwae = (torch.logsumexp(log_w, dim=0) - math.log(K)).item()
    # The estimate is the log of a mean of K weights: its standard error is, to first order,
    # the weights' relative spread over sqrt(K) (the delta method).
    w = (log_w - log_w.max()).exp()
    iwae_stderr = (w.std() / w.mean()).item() / math.sqrt(K) if K > 1 else float("nan")
    if log_px is None:
        log_px = log_marginal_quadrature(model, x, coarse=coarse)[0].item()
    if best is None:
        best = best_gaussian(model, x, log_px, coarse=coarse)
    elbo = reconstruction - kl
    return {
        "mu": mu[0].tolist(),
        "sigma": std_dev(logvar[0]).tolist(),
        "L": L,
        "K": K,
        "seed": seed,
        "reconstruction": reconstruction,
        "reconstruction_stderr": stderr,
        "kl": kl,
        "elbo": elbo,
        "iwae": iwae,
        "iwae_stderr": iwae_stderr,
        "log_px": log_px,
        "gap": log_px - elbo,
        "best_mu": best.mu.tolist(),
        "best_sigma": best.sigma.tolist(),
        "approximation_gap": best.kl,
        "amortization_gap": log_px - best.kl - elbo,
        "z_samples": z[:, 0].tolist(),
        "log_px_given_z": per_sample.tolist(),
    }


def running_bounds(log_w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Jensen's inequality, one weight at a time: for the first k importance weights (log w [K]), the mean
    of their logs (an ELBO estimate) and the log of their mean (the IWAE estimate), for k = 1 .. K. The
    log of a mean is never below the mean of the logs (log is concave); the second climbs towards log p(x)."""
    k = torch.arange(1, len(log_w) + 1, dtype=log_w.dtype)
    return log_w.cumsum(0) / k, torch.logcumsumexp(log_w, 0) - k.log()


class Spread(NamedTuple):
    """How far an L-sample Monte-Carlo estimate strays: one sample's standard deviation, and the measured spread for each L."""

    one: float  # the standard deviation of log p(x|z) for one z ~ q(z|x), over every sample drawn
    measured: list[float]  # the standard deviation of `repeats` L-sample estimates, for each L asked for


@torch.inference_mode()
def monte_carlo_spread(model: VAE, x: torch.Tensor, Ls: list[int], repeats: int = 100, seed: int = 0) -> Spread:
    """The spread of the L-sample estimate of the reconstruction term E_q[log p(x|z)] for one digit x [1, 1, 28, 28],
    measured over `repeats` independent estimates for each L in Ls: it shrinks as one sample's spread / sqrt(L)."""
    mu, logvar = model.encode(x)
    generator, flat, measured, every = torch.Generator().manual_seed(seed), x.reshape(1, IMAGE_PIXELS), [], []
    for L in Ls:
        z = reparameterize(mu, logvar, torch.randn(repeats * L, mu.shape[-1], generator=generator, dtype=mu.dtype))
        values = log_bernoulli(flat, model.decode_logits(z))
        measured.append(values.reshape(repeats, L).mean(1).std().item())
        every.append(values)
    return Spread(torch.cat(every).std().item(), measured)
