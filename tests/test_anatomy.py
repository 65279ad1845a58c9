"""vae/anatomy.py: every term of the ELBO for one digit, consistent with vae.model and the quadrature."""

import numpy as np
import pytest
import torch

from vae.anatomy import elbo_anatomy
from vae.likelihood import BestGaussian, coarse_grid
from vae.model import VAE, elbo


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
