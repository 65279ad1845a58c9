"""The two gradient estimators of E_q[log p(x|z)] (vae/gradients.py) on the committed model: the
reparameterized one is autograd's gradient of the Monte-Carlo reconstruction term, the score
function's agrees with it on average, and its variance is far larger."""
import pytest
import torch

from vae.gradients import gradient_variance, reparameterized_gradients, score_function_gradients
from vae.model import IMAGE_PIXELS, load_model, log_bernoulli

MODEL = load_model()


def a_digit(seed: int) -> torch.Tensor:
    """A digit the model drew: decode(z) for z from the prior, so no dataset is needed."""
    with torch.no_grad():
        return MODEL.decode(torch.randn(1, 2, generator=torch.Generator().manual_seed(seed)))


def test_the_reparameterized_estimate_is_autograds_gradient_of_the_sampled_term():
    x = a_digit(0)
    with torch.no_grad():
        mu, logvar = MODEL.encode(x)
    eps = torch.randn(64, 2, generator=torch.Generator().manual_seed(1))
    leaf_mu, leaf_sigma = mu.clone().requires_grad_(True), logvar.mul(0.5).exp().requires_grad_(True)
    term = log_bernoulli(x.reshape(1, IMAGE_PIXELS), MODEL.decode_logits(leaf_mu + leaf_sigma * eps)).mean()
    d_mu, d_sigma = torch.autograd.grad(term, (leaf_mu, leaf_sigma))
    mine = reparameterized_gradients(MODEL, x, mu, logvar, eps)
    torch.testing.assert_close(mine.mu.mean(0), d_mu[0], rtol=1e-4, atol=1e-3)
    torch.testing.assert_close(mine.sigma.mean(0), d_sigma[0], rtol=1e-4, atol=1e-3)


def test_both_estimators_agree_on_average_and_the_score_function_is_far_noisier():
    for seed in (0, 1):
        x = a_digit(seed)
        g = gradient_variance(MODEL, x, L=1, samples=2000)
        # the same gradient: the score function's mean within 4 of its standard errors of the reparameterized one
        for mine, theirs, var in ((g.mean_reparameterized.mu, g.mean_score.mu, g.score_mu),
                                  (g.mean_reparameterized.sigma, g.mean_score.sigma, g.score_sigma)):
            assert ((mine - theirs).abs() < 4 * (var / 2000) ** 0.5).all(), (mine, theirs)
        assert g.score_mu > 100 * g.reparameterized_mu and g.score_sigma > 100 * g.reparameterized_sigma, g[:4]
        # L samples divide both by L
        assert gradient_variance(MODEL, x, L=10, samples=2000).score_mu == pytest.approx(g.score_mu / 10, rel=1e-5)


def test_the_score_function_needs_only_values_of_log_p():
    """It never differentiates the decoder: it runs with gradients off."""
    x = a_digit(2)
    with torch.no_grad():
        mu, logvar = MODEL.encode(x)
        g = score_function_gradients(MODEL, x, mu, logvar, torch.randn(8, 2))
    assert g.mu.shape == g.sigma.shape == (8, 2) and not g.mu.requires_grad
