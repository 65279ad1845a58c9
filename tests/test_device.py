"""`--device` (vae/device.py) for vae.train, vae.fit_encoder and vae.evaluate: the CPU and `auto` train
and record the device they used; a GPU asked for where there is none is a one-line error; and where a
GPU exists, the same checkpoint gives the same numbers on it as on the CPU (skipped elsewhere)."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from test_train import data_dir  # noqa: F401 (the fixture: a small synthetic MNIST)
from vae import evaluate, latent, train
from vae.device import DeviceError, pick_device
from vae.likelihood import coarse_grid, log_marginal_quadrature, posterior_moments
from vae.model import DEFAULT_CHECKPOINT, elbo, kl_divergence, load_checkpoint, log_bernoulli

REPO = Path(__file__).resolve().parent.parent
CHEAP = ["--epochs", "1", "--hidden", "64", "--depth", "1", "--batch-size", "64", "--no-compile", "--precision", "fp32",
         "--replay", "20", "--train-subset", "256", "--test-subset", "64"]
needs_gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU: the CPU/GPU agreement is checked where there is one")


def test_auto_takes_the_cpu_without_a_gpu_and_a_missing_gpu_is_refused():
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device("auto").type == ("cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="--device cuda: torch sees no CUDA device"):
            pick_device("cuda")
    with pytest.raises(DeviceError, match="must be one of auto, cpu, cuda"):
        pick_device("mps", ("auto", "cpu", "cuda"))


@pytest.mark.slow
@pytest.mark.parametrize("device", ["cpu", "auto"])
def test_train_on_the_device_asked_for_records_it(data_dir, tmp_path, device):  # noqa: F811
    out = tmp_path / "vae.pt"
    train.main(["--data-dir", data_dir, "--out", str(out), "--device", device, *CHEAP])
    model, ckpt = load_checkpoint(out)
    expected = str(pick_device(device))
    assert ckpt["meta"]["device"] == expected and f"--device {device}" in ckpt["meta"]["command"]
    assert all(p.device.type == "cpu" for p in model.parameters()), "a checkpoint always loads on the CPU"


@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.is_available(), reason="there is a GPU here: --device cuda works")
@pytest.mark.parametrize("tool", ["vae.train", "vae.fit_encoder", "vae.evaluate"])
def test_device_cuda_without_a_gpu_is_a_one_line_error(tool, tmp_path):
    args = ["--checkpoint", str(DEFAULT_CHECKPOINT), "--out", str(tmp_path / "x.pt")] if tool == "vae.fit_encoder" else \
        ["--out", str(tmp_path / "x.pt")] if tool == "vae.train" else ["--checkpoint", str(DEFAULT_CHECKPOINT)]
    result = subprocess.run([sys.executable, "-m", tool, "--device", "cuda", *args], cwd=REPO, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()], result.stderr
    assert "--device cuda: torch sees no CUDA device" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "x.pt").exists()


@needs_gpu
@torch.inference_mode()
def test_the_committed_model_gives_the_same_numbers_on_cpu_and_gpu():
    """The encoder's q(z|x), the KL, the reconstruction term at z = mu, the decoded digits, the exact
    log p(x) by quadrature and the posterior moments, on the CPU and on the GPU, agree to float rounding."""
    cpu, _ = load_checkpoint(DEFAULT_CHECKPOINT)
    gpu, _ = load_checkpoint(DEFAULT_CHECKPOINT)
    gpu.to("cuda")
    x = cpu.decode(torch.randn(64, 2, generator=torch.Generator().manual_seed(0))).bernoulli(generator=torch.Generator().manual_seed(1))
    (mu, logvar), (mu_g, logvar_g) = cpu.encode(x), gpu.encode(x.cuda())
    torch.testing.assert_close(mu_g.cpu(), mu, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(kl_divergence(mu_g, logvar_g).cpu(), kl_divergence(mu, logvar), atol=1e-3, rtol=1e-4)
    flat = x.reshape(64, -1)
    torch.testing.assert_close(log_bernoulli(flat.cuda(), gpu.decode_logits(mu_g)).cpu(), log_bernoulli(flat, cpu.decode_logits(mu)),
                               atol=2e-2, rtol=1e-4)
    z = torch.randn(100, 2, generator=torch.Generator().manual_seed(2))
    assert np.abs(latent.decode_images(gpu, z).astype(int) - latent.decode_images(cpu, z).astype(int)).max() <= 1
    exact_cpu = log_marginal_quadrature(cpu, x, coarse=coarse_grid(cpu))
    exact_gpu = log_marginal_quadrature(gpu, x, coarse=coarse_grid(gpu))
    assert exact_gpu.device.type == "cuda"
    torch.testing.assert_close(exact_gpu.cpu(), exact_cpu, atol=2e-3, rtol=0)
    for a, b in zip(posterior_moments(gpu, x[:16]), posterior_moments(cpu, x[:16])):
        torch.testing.assert_close(a.cpu(), b, atol=1e-4, rtol=1e-3)
    # Monte Carlo terms draw their noise on the device, from another generator: they agree within their noise.
    torch.manual_seed(0)
    e_cpu = elbo(cpu, x, L=200).elbo.mean()
    e_gpu = elbo(gpu, x.cuda(), L=200).elbo.mean().cpu()
    assert abs(e_gpu - e_cpu) < 1.0


@needs_gpu
def test_evaluate_runs_on_the_gpu_and_agrees_with_the_cpu():
    model, _ = load_checkpoint(DEFAULT_CHECKPOINT)
    x = model.decode(torch.randn(40, 2, generator=torch.Generator().manual_seed(3))).bernoulli(generator=torch.Generator().manual_seed(4))
    torch.manual_seed(0)
    on_cpu = evaluate.evaluate(model, x, L=20, K=100, batch_size=20, split_digits=4)
    torch.manual_seed(0)
    on_gpu = evaluate.evaluate(model.to("cuda"), x, L=20, K=100, batch_size=20, split_digits=4)
    assert all(v.device.type == "cpu" for v in on_gpu["per_digit"].values())
    a, b = on_cpu["metrics"], on_gpu["metrics"]
    assert b["neg_log_px"] == pytest.approx(a["neg_log_px"], abs=2e-3)  # exact: the same up to rounding
    assert b["kl"] == pytest.approx(a["kl"], abs=1e-3)
    assert b["approximation_gap"] == pytest.approx(a["approximation_gap"], abs=1e-2)
    assert b["neg_elbo"] == pytest.approx(a["neg_elbo"], abs=1.0) and b["neg_iwae"] == pytest.approx(a["neg_iwae"], abs=1.0)
