"""vae/classifier.py: the CNN judge, and the legibility of a VAE's prior samples that vae.evaluate reports."""
import pytest
import torch

from vae.classifier import equal_mass_grid, legibility, load_classifier
from vae.data import load_mnist, mnist_available
from vae.model import DEFAULT_CHECKPOINT, VAE, load_model


@pytest.fixture(scope="module")
def classifier():
    return load_classifier()


def test_the_equal_mass_grid_is_the_prior():
    z = equal_mass_grid(200).double()
    assert z.shape == (40_000, 2)
    assert z.mean(0).abs().max() < 1e-9 and torch.allclose(z.var(0), torch.ones(2, dtype=torch.float64), atol=0.02)
    assert ((z.abs() < 1).all(1).double().mean() - 0.6827 ** 2).abs() < 0.01  # the mass within one sigma on both axes


@pytest.mark.slow  # seconds: the CNN on 2 x 2,100 decoded digits
def test_a_trained_vae_generates_digits_the_classifier_is_sure_of_and_an_untrained_one_does_not(classifier):
    trained = legibility(load_model(DEFAULT_CHECKPOINT), classifier, samples=500, grid=40)
    torch.manual_seed(0)
    untrained = legibility(VAE(hidden=64, depth=1), classifier, samples=500, grid=40)
    assert trained["prior_confidence"] > 0.85 and trained["prior_mass_confident"] > 0.6
    assert min(trained["prior_digits"]) > 0  # every digit is generated
    assert untrained["prior_mass_confident"] < 0.05 and untrained["prior_confidence"] < trained["prior_confidence"] - 0.2
    assert sum(untrained["prior_digits"]) == 500


@pytest.mark.skipif(not mnist_available(), reason="real MNIST not found: set VAE_DATA_DIR")
def test_the_classifier_names_mnist_test_digits(classifier):
    x, labels = load_mnist("test")
    with torch.inference_mode():
        right = (classifier(x[:500]).argmax(1) == labels[:500]).float().mean()
    assert right > 0.97
