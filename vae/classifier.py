"""A small CNN that names MNIST digits, and what it says about a VAE's prior samples.

bench/classifier.py trains it (98.85% on MNIST's test set) and writes bench/classifier.pt. Two
uses: bench/robustness.py asks it which digit a reconstruction shows, and vae.evaluate asks it how
legible the digits the VAE generates are (`legibility`): decode z ~ p(z) and see how sure the
classifier is of what it sees. A model whose prior has holes, regions the decoder never learned to
draw, generates smudges the classifier cannot name. The app never loads it.
"""
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from vae.model import VAE

DEFAULT_CLASSIFIER = Path(__file__).resolve().parent.parent / "bench" / "classifier.pt"
CONFIDENT = 0.9  # the classifier is "sure" of a digit when it gives one class this probability


class DigitClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [N, 1, 28, 28] in [0, 1] (white ink on black) -> logits [N, 10]."""
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch: int = 2000) -> torch.Tensor:
    """The digit each of x [N, 1, 28, 28] shows. [N]"""
    return probabilities(model, x, batch).argmax(1)


@torch.no_grad()
def probabilities(model: nn.Module, x: torch.Tensor, batch: int = 2000) -> torch.Tensor:
    """Softmax over the ten digits for each of x [N, 1, 28, 28]. [N, 10]"""
    model.eval()
    return torch.cat([model(x[i:i + batch]).softmax(1) for i in range(0, len(x), batch)])


def load_classifier(path: str | Path = DEFAULT_CLASSIFIER) -> DigitClassifier:
    """The classifier bench/classifier.py wrote (weights only: nothing in the file can run code)."""
    saved = torch.load(path, map_location="cpu", weights_only=True)
    model = DigitClassifier()
    model.load_state_dict({name: weight.float() for name, weight in saved["model"].items()})
    return model.eval()


def equal_mass_grid(n: int) -> torch.Tensor:
    """n x n points z = Phi^-1(u) at the centres of an even grid of u in (0, 1)^2: each stands for
    1 / n^2 of the prior's mass, so a share of the points is a share of p(z). [n * n, 2]"""
    z = torch.special.ndtri((torch.arange(n, dtype=torch.float64) + 0.5) / n)
    return torch.cartesian_prod(z, z).float()


@torch.no_grad()
def legibility(vae: VAE, classifier: nn.Module, samples: int = 2000, seed: int = 0, grid: int = 100) -> dict:
    """How legible the VAE's generated digits are, by the classifier's confidence (its largest class
    probability) on decoded points of the prior:

    - prior_confidence: the mean confidence on `samples` draws z ~ N(0, I) (seeded);
    - prior_mass_confident: the share of the prior's mass decoding to a digit the classifier gives
      at least CONFIDENT, on the equal-mass grid of grid x grid points (2-D latent spaces only);
    - prior_digits: how many of the draws the classifier names as each digit 0-9."""
    vae.eval()
    z = torch.randn(samples, vae.latent_dim, generator=torch.Generator().manual_seed(seed))
    p = probabilities(classifier, vae.decode(z).reshape(-1, 1, 28, 28))
    figures = {"prior_confidence": p.amax(1).mean().item(), "prior_digits": torch.bincount(p.argmax(1), minlength=10).tolist(),
               "prior_samples": samples}
    if vae.latent_dim == 2:  # the equal-mass grid covers the latent plane
        mass = probabilities(classifier, vae.decode(equal_mass_grid(grid)).reshape(-1, 1, 28, 28)).amax(1)
        figures["prior_mass_confident"] = (mass >= CONFIDENT).float().mean().item()
    return figures
