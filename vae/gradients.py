"""Why the reparameterization trick matters, in numbers: two unbiased estimators of the gradient
of the reconstruction term E_q[log p(x|z)] with respect to q's mean and standard deviation, for
one digit, and the variance of each.

    reparameterization:  z = mu + sigma * eps,  grad = d log p(x|z) / dz * (1, eps)
    score function:      grad = log p(x|z) * d log q(z|x) / d(mu, sigma)
                              = log p(x|z) * (eps / sigma, (eps^2 - 1) / sigma)

Both average to the same gradient. The score-function (REINFORCE) estimator only needs the value
of log p(x|z), so it works for any p; the reparameterized one follows the decoder's slope, and for
a VAE its spread is orders of magnitude smaller. `python -m bench.gradient_variance` prints the
two for a few test digits.
"""
from typing import NamedTuple

import torch

from vae.model import IMAGE_PIXELS, VAE, log_bernoulli, reparameterize, std_dev


class Gradients(NamedTuple):
    """Per-sample gradient estimates [S, latent_dim] with respect to mu and to sigma."""

    mu: torch.Tensor
    sigma: torch.Tensor


def reparameterized_gradients(model: VAE, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
                              eps: torch.Tensor) -> Gradients:
    """One estimate per row of eps [S, latent_dim]: the slope of log p(x|z) at z = mu + sigma * eps,
    chained through z: d/dmu = g, d/dsigma = g * eps. x [1, 1, 28, 28]; mu, logvar [1, latent_dim]."""
    z = reparameterize(mu, logvar, eps).detach().requires_grad_(True)
    with torch.enable_grad():
        log_px_z = log_bernoulli(x.reshape(1, IMAGE_PIXELS), model.decode_logits(z))
        (slope,) = torch.autograd.grad(log_px_z.sum(), z)
    return Gradients(slope, slope * eps)


@torch.no_grad()
def score_function_gradients(model: VAE, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
                             eps: torch.Tensor) -> Gradients:
    """One estimate per row of eps [S, latent_dim]: log p(x|z) times the score of q at z, where
    d log q / dmu = (z - mu) / sigma^2 = eps / sigma and d log q / dsigma = (eps^2 - 1) / sigma."""
    sigma = std_dev(logvar)
    z = reparameterize(mu, logvar, eps)
    f = log_bernoulli(x.reshape(1, IMAGE_PIXELS), model.decode_logits(z)).unsqueeze(-1)
    return Gradients(f * eps / sigma, f * (eps.pow(2) - 1) / sigma)


class GradientVariance(NamedTuple):
    """The variance of an L-sample gradient estimate, summed over the latent dimensions, for each
    estimator and parameter; and both estimators' mean gradient (they agree up to their noise)."""

    reparameterized_mu: float
    reparameterized_sigma: float
    score_mu: float
    score_sigma: float
    mean_reparameterized: Gradients
    mean_score: Gradients


def gradient_variance(model: VAE, x: torch.Tensor, L: int = 1, samples: int = 10_000, seed: int = 0) -> GradientVariance:
    """Var of the mean of L per-sample estimates = the per-sample variance / L, measured on `samples`
    draws of eps shared by both estimators, for one digit x [1, 1, 28, 28]."""
    with torch.no_grad():
        mu, logvar = model.encode(x)
    eps = torch.randn(samples, mu.shape[-1], generator=torch.Generator().manual_seed(seed), dtype=mu.dtype)
    rep = reparameterized_gradients(model, x, mu, logvar, eps)
    score = score_function_gradients(model, x, mu, logvar, eps)

    def var(g: torch.Tensor) -> float:
        return (g.var(dim=0).sum() / L).item()

    return GradientVariance(var(rep.mu), var(rep.sigma), var(score.mu), var(score.sigma),
                            Gradients(rep.mu.mean(0), rep.sigma.mean(0)), Gradients(score.mu.mean(0), score.sigma.mean(0)))
