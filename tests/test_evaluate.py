"""`python -m vae.evaluate` end to end on the committed checkpoint and the first real test digits:
what it prints and the files it writes, read back. Skips when MNIST is absent."""
import json

import pytest
import torch

from vae import evaluate
from vae.data import load_mnist, mnist_available
from vae.model import DEFAULT_CHECKPOINT, checkpoint_sha256, load_model

# vae.evaluate end to end: ~40 s on 2 cores
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not mnist_available(), reason="real MNIST not found: set VAE_DATA_DIR")]


def test_evaluate_writes_metrics_and_latents(tmp_path, capsys):
    metrics_path, latents_path = tmp_path / "metrics.json", tmp_path / "latents.pt"
    returned = evaluate.main(["--subset", "40", "--L", "20", "--K", "50", "--split-digits", "4",
                              "--metrics", str(metrics_path), "--latents", str(latents_path)])
    printed = capsys.readouterr().out
    metrics = json.loads(metrics_path.read_text())
    assert metrics == returned and metrics["digits"] == 40 and metrics["split_digits"] == 4
    assert f"{metrics['neg_elbo']:9.3f}" in printed and "amortization" in printed
    # the bounds are ordered: -log p(x) <= -IWAE <= -ELBO, and the gaps add up
    assert metrics["neg_log_px"] <= metrics["neg_iwae"] <= metrics["neg_elbo"]
    assert metrics["gap"] == pytest.approx(metrics["neg_elbo"] - metrics["neg_log_px"], abs=1e-4)
    assert metrics["approximation_gap"] + metrics["amortization_gap"] == pytest.approx(metrics["split_gap"])
    assert metrics["approximation_gap"] >= 0
    assert metrics["train_command"].startswith("python -m vae.train")
    assert metrics["refit_command"].startswith("python -m vae.fit_encoder")  # the committed encoder is refitted
    # the legibility of the prior's samples, by bench/classifier.py's CNN
    assert metrics["classifier_test_accuracy"] > 0.98 and sum(metrics["prior_digits"]) == metrics["prior_samples"] == 2000
    assert f"{metrics['prior_mass_confident']:.1%} of p(z)" in printed

    saved = torch.load(latents_path, weights_only=True)
    # both files name the checkpoint they belong to: the app shows an own model's figures only then (explorer/own.py)
    assert metrics["checkpoint_sha256"] == saved["checkpoint_sha256"] == checkpoint_sha256(DEFAULT_CHECKPOINT)
    assert saved["mu"].shape == (40, 2) and saved["labels"].tolist() == load_mnist("test")[1][:40].tolist()
    with torch.inference_mode():
        mu, _ = load_model(DEFAULT_CHECKPOINT).encode(load_mnist("test")[0][:40])
    assert torch.allclose(saved["mu"], mu)
