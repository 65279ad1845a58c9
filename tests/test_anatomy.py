"""vae/anatomy.py: every term of the ELBO for one digit, consistent with vae.model and the quadrature."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from vae import latent
from vae.anatomy import elbo_anatomy, monte_carlo_spread, running_bounds
from vae.likelihood import BestGaussian, coarse_grid
from vae.model import VAE, elbo, load_model

CHECKPOINTS = Path(__file__).resolve().parent.parent / "checkpoints"


@pytest.fixture(scope="module")
def model() -> VAE:
    torch.manual_seed(0)
    return VAE(hidden=32, depth=1).eval()


def test_elbo_anatomy_terms_are_consistent(model):
    torch.manual_seed(1)
    x = torch.rand(1, 1, 28, 28).round()
    coarse = coarse_grid(model)  # the decoded grid every quadrature below starts from, as the app shares it: made once
    t = elbo_anatomy(model, x, L=64, K=200, seed=3, coarse=coarse)
    assert t["elbo"] == pytest.approx(t["reconstruction"] - t["kl"])
    assert t["gap"] == pytest.approx(t["log_px"] - t["elbo"])
    # the gap splits into what the best diagonal Gaussian misses and what the encoder misses of that
    assert t["approximation_gap"] + t["amortization_gap"] == pytest.approx(t["gap"])
    assert t["approximation_gap"] >= 0
    assert t["kl"] > 0 and t["gap"] > 0 and t["log_px"] < 0
    assert len(t["z_samples"]) == 64 and len(t["log_px_given_z"]) == 64
    assert t["reconstruction"] == pytest.approx(np.mean(t["log_px_given_z"]))
    # the samples are mu + sigma * eps: their spread matches sigma
    z = np.array(t["z_samples"])
    np.testing.assert_allclose(z.std(axis=0), t["sigma"], rtol=0.35)
    # same seed -> same numbers; the model's own elbo() agrees within Monte-Carlo error
    assert elbo_anatomy(model, x, L=64, K=200, seed=3, coarse=coarse) == t
    reference = elbo(model, x, L=2000)
    assert t["kl"] == pytest.approx(reference.kl.item(), rel=1e-5)
    assert t["reconstruction"] == pytest.approx(reference.reconstruction.item(), abs=6 * t["reconstruction_stderr"] + 0.05)
    # a known log p(x) is used as given (the app caches it per digit)
    given = elbo_anatomy(model, x, L=64, K=200, seed=3, coarse=coarse, log_px=t["log_px"] + 1.0)
    assert given["log_px"] == t["log_px"] + 1.0 and given["gap"] == pytest.approx(t["gap"] + 1.0)
    # IWAE with many samples is close to the exact log p(x)
    assert elbo_anatomy(model, x, L=1, K=5000, seed=0, coarse=coarse)["iwae"] == pytest.approx(t["log_px"], abs=0.1)


def test_the_iwae_standard_error_is_the_spread_of_the_estimate(model):
    """The ± shown beside IWAE is what one K-sample estimate wobbles by from seed to seed."""
    torch.manual_seed(2)
    x = torch.rand(1, 1, 28, 28).round()
    known = dict(log_px=0.0, best=BestGaussian(torch.zeros(2), torch.ones(2), 0.0))  # not what this test is about
    runs = [elbo_anatomy(model, x, L=1, K=50, seed=seed, **known) for seed in range(40)]
    spread = np.std([r["iwae"] for r in runs])
    stderr = np.mean([r["iwae_stderr"] for r in runs])
    assert 0.5 * spread < stderr < 2 * spread
    assert np.isnan(elbo_anatomy(model, x, L=1, K=1, seed=0, **known)["iwae_stderr"])


def test_jensen_one_weight_at_a_time_the_log_of_the_mean_is_never_below_the_mean_of_the_logs():
    log_w = torch.randn(500, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 3 - 90
    mean_log, log_mean = running_bounds(log_w)
    assert mean_log[0] == log_mean[0] == log_w[0]
    assert (log_mean >= mean_log - 1e-12).all() and (log_mean[1:] > mean_log[1:]).all()
    assert mean_log[-1].item() == pytest.approx(log_w.mean().item())
    assert log_mean[99].item() == pytest.approx((torch.logsumexp(log_w[:100], 0) - math.log(100)).item())


def test_the_monte_carlo_estimates_spread_shrinks_as_one_over_root_l():
    model = load_model()
    x = latent.from_uint8(torch.load(CHECKPOINTS / "test_latents.pt", weights_only=True)["images"][7].numpy())
    Ls = [1, 4, 16, 64]
    spread = monte_carlo_spread(model, x, Ls, repeats=200)
    assert spread.one > 0.5  # an estimate from one sample strays by nats
    for L, measured in zip(Ls, spread.measured):
        assert measured * math.sqrt(L) / spread.one == pytest.approx(1, abs=0.25), L  # 200 estimates measure a spread to ~10%
