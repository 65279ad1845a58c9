"""Tests of the app's reconstruction, the reading of a digit (vae/reading.py).

On a VAE whose posterior is known (tests/test_likelihood.py's rotated posterior, a decoder linear in
z), the reading finds the posterior's peak and averages the decoded digits over the tempered
posterior; on the committed checkpoint and real MNIST test digits (skipped when MNIST is absent),
the moved copies make the reading steadier, and the reconstructions show the digit more often
than decoding at the encoder's mean.
"""
import math

import pytest
import torch

from test_likelihood import rotated_posterior_vae
from vae.classifier import load_classifier
from vae.data import load_mnist, mnist_available
from vae.likelihood import plane, true_posterior
from vae.model import DEFAULT_CHECKPOINT, IMAGE_PIXELS, VAE, load_model, log_bernoulli, log_prior
from vae.reading import READ_SHIFTS, moved, posterior_reconstruction

needs_mnist = pytest.mark.skipif(not mnist_available(), reason="MNIST not found (set VAE_DATA_DIR)")


def encoder_answering(model: VAE, mu: torch.Tensor, sigma: float) -> None:
    """Make model's encoder answer q(z|x) = N(mu, sigma^2 I) whatever the digit."""
    with torch.no_grad():
        last = model.encoder[-1]
        last.weight.zero_()
        last.bias.copy_(torch.cat([mu, torch.full((2,), 2 * math.log(sigma))]))


@pytest.fixture(scope="module")
def rotated_peak() -> tuple[torch.Tensor, float]:
    """The peak of rotated_posterior_vae's p(z|x) for the digit of all pixels 0.3, and to what precision it is
    known: the true posterior's grid finds it to a step, then a grid 40 times finer over two steps around that
    point to a fortieth of one (the encoder the tests below set plays no part in p(z|x))."""
    model, x = rotated_posterior_vae(), torch.full((1, IMAGE_PIXELS), 0.3)
    post = true_posterior(model, x)
    step, n = (post.z1[1] - post.z1[0]).item(), 161
    axis = torch.linspace(-2 * step, 2 * step, n, dtype=torch.float64)
    z = plane(axis, axis) + plane(post.z1, post.z2)[post.log_density.argmax()].double()
    with torch.no_grad():
        log_joint = log_bernoulli(x, model.decode_logits(z.float())).double() + log_prior(z)
    best = log_joint.argmax().item()
    assert 0 < best % n < n - 1 and 0 < best // n < n - 1, "the peak lies inside the fine grid"
    return z[best].float(), step / 40


def test_reconstruction_finds_the_peak_beside_the_encoders_mean(rotated_peak):
    model = rotated_posterior_vae()
    x = torch.full((1, IMAGE_PIXELS), 0.3)
    peak, step = rotated_peak
    mu = peak + torch.tensor([0.04, -0.05])
    encoder_answering(model, mu, 0.05)
    assert torch.allclose(posterior_reconstruction(model, x).mode[0], peak, atol=0.003 + step)
    # half a sigma of q does not reach the peak: the answer is the best point of that box, on its edge
    near = posterior_reconstruction(model, x, sigmas=0.5).mode[0]
    box = plane(*(torch.linspace(-0.025, 0.025, 201),) * 2) + mu

    def log_joint(z: torch.Tensor) -> torch.Tensor:
        return log_bernoulli(x, model.decode_logits(z)) + log_prior(z)

    with torch.no_grad():
        assert log_joint(near[None]).item() >= log_joint(box).max().item() - 0.01
    assert (near - mu).abs().max() > 0.024  # on its edge, the side nearest the peak


def test_reconstruction_averages_the_decoded_digits_over_the_tempered_posterior(rotated_peak):
    """power = 1: the posterior predictive mean E[p(x|z)] over p(z|x); power 0.1: the same over p(z|x) ** 0.1,
    both against a 200 x 200 grid over the same box (steps of 1/200, a sixth of the posterior's narrow width:
    a 400 x 400 grid's answer differs by 1e-5, float32's rounding over its sums); a large power: the peak's digit."""
    model = rotated_posterior_vae()
    x = torch.full((1, IMAGE_PIXELS), 0.3)
    peak, _ = rotated_peak
    encoder_answering(model, peak, 0.1)  # the box peak +- 0.5 holds all of the posterior (0.03 and 0.075 wide)
    axis = torch.linspace(-0.5, 0.5, 200, dtype=torch.float64)
    z = plane(axis, axis) + peak.double()
    with torch.no_grad():
        logits = model.decode_logits(z.float())
        lj = log_bernoulli(x, logits).double() + log_prior(z)
        expected = {power: torch.softmax(power * lj, dim=0).float() @ torch.sigmoid(logits) for power in (1.0, 0.1)}
        for power, tol in ((1.0, 2e-5), (0.1, 2e-4)):
            image = posterior_reconstruction(model, x, size=17, power=power, shifts=()).image  # steps of 1/16: finer than the posterior
            assert image.shape == (1, 1, 28, 28)
            torch.testing.assert_close(image.flatten(), expected[power], atol=tol, rtol=0)
        assert (expected[1.0] - expected[0.1]).abs().max() > 5e-4  # the two powers differ beyond those tolerances
        sharp = posterior_reconstruction(model, x, power=100.0, shifts=())
        torch.testing.assert_close(sharp.image.flatten(), model.decode(sharp.mode).flatten(), atol=0.02, rtol=0)


@pytest.mark.slow
@needs_mnist
def test_a_digit_moved_by_a_pixel_reconstructs_as_the_same_digit_more_often_than_read_once():
    """Centring by mass places a digit to a pixel at best. Moved one pixel diagonally (a move the copies do not
    make), 100 test digits reconstruct, moved back, closer to their own reconstruction, and as the same digit
    to the CNN judge more often, than when each is read without its moved copies."""
    model, (x, _) = load_model(DEFAULT_CHECKPOINT), load_mnist("test")
    x, judge = x[:100].reshape(100, IMAGE_PIXELS), load_classifier()
    gap, same = {}, {}
    with torch.inference_mode():
        for shifts in ((), READ_SHIFTS):
            here = posterior_reconstruction(model, x, shifts=shifts).image.reshape(100, IMAGE_PIXELS)
            there = moved(posterior_reconstruction(model, moved(x, 1, 1), shifts=shifts).image.reshape(100, IMAGE_PIXELS), -1, -1)
            gap[shifts] = (here - there).abs().mean().item()
            same[shifts] = (judge(here.view(-1, 1, 28, 28)).argmax(1) == judge(there.view(-1, 1, 28, 28)).argmax(1)).float().mean().item()
    assert gap[READ_SHIFTS] < 0.9 * gap[()], gap
    assert same[READ_SHIFTS] >= same[()] + 0.03, same


@pytest.mark.slow
@needs_mnist
def test_reconstructions_show_the_digit_more_often_than_decoding_at_the_encoders_mean():
    """What the app shows: the peak near q(z|x) explains each digit at least as well as q's mean does, and the
    reconstructions show the true label more often than the mean's digit (CNN judge, first 300 test digits)."""
    model, (x, labels) = load_model(DEFAULT_CHECKPOINT), load_mnist("test")
    x, labels = x[:300], labels[:300]
    judge = load_classifier()
    with torch.inference_mode():
        mu, read = model.encode(x)[0], posterior_reconstruction(model, x)
        joint = [log_bernoulli(x.reshape(len(x), -1), model.decode_logits(z)) + log_prior(z) for z in (mu, read.mode)]
        right = [(judge(image).argmax(1) == labels).float().mean().item() for image in (model.decode(mu), read.image)]
    assert (joint[1] >= joint[0]).all() and (joint[1] - joint[0]).median() > 0.3
    assert right[1] >= right[0] + 0.02, right
