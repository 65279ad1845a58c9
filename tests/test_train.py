"""Tests of the training CLI (vae/train.py) and the model library (vae/model.py).

Training runs on a small synthetic MNIST written in the real IDX format, so these
tests need no download and take seconds. The tests at the bottom check the
committed checkpoint against the real MNIST test set and skip when it is absent.
"""
import json
import math
import os
import pickle
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from vae import fit_encoder, train
from vae.classifier import legibility, load_classifier
from vae.data import binarize, load_mnist, mnist_available
from vae.likelihood import posterior_moments
from vae.model import (DEFAULT_CHECKPOINT, QUANT_GROUP, VAE, checkpoint_sha256, dequantize, elbo, forward_kl, iwae_bound, load_checkpoint,
                       load_model, quantize, reparameterize, save_checkpoint)
from vae.replay import MANIFOLD_N, manifold_points, replay_path

CHECKPOINTS = DEFAULT_CHECKPOINT.parent

REPO = Path(__file__).resolve().parent.parent
N_TRAIN, BATCH = 640, 64
# torch.compile is left to the one test that checks it: it adds compile time to every run.
SMALL = ["--hidden", "64", "--depth", "1", "--batch-size", str(BATCH), "--lr", "3e-3", "--no-compile"]


def write_idx(path: Path, array: np.ndarray) -> None:
    """IDX file of unsigned bytes: magic 0x08 0xNdims, big-endian dimensions, then the data."""
    with open(path, "wb") as f:
        f.write(struct.pack(">I", 0x0800 | array.ndim))
        f.write(struct.pack(f">{array.ndim}I", *array.shape))
        f.write(array.astype(np.uint8).tobytes())


def fake_digits(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """White digits drawn with a font on black, jittered and blurred: varied but learnable."""
    labels = rng.integers(0, 10, n)
    images = np.empty((n, 28, 28), np.uint8)
    for i, label in enumerate(labels):
        font = ImageFont.load_default(size=int(rng.integers(18, 25)))
        img = Image.new("L", (28, 28), 0)
        centre = (14 + int(rng.integers(-2, 3)), 14 + int(rng.integers(-2, 3)))
        ImageDraw.Draw(img).text(centre, str(label), fill=255, font=font, anchor="mm", stroke_width=1, stroke_fill=255)
        images[i] = np.asarray(img.filter(ImageFilter.GaussianBlur(0.7)))
    return images, labels


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> str:
    """<tmp>/MNIST/raw/ laid out as torchvision.datasets.MNIST(root, download=False) expects."""
    root = tmp_path_factory.mktemp("fake_mnist")
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", N_TRAIN), ("t10k", 200)):
        images, labels = fake_digits(n, rng)
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
    return str(root)


def run_train(data_dir: str, out: Path, *args: str) -> dict:
    return train.main(["--data-dir", data_dir, "--out", str(out), *SMALL, *args])


def assert_same_weights(a: VAE, b: VAE) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), f"{k} differs"


# --- the training CLI on synthetic data ---------------------------------------------------------

def test_fake_mnist_reads_back_through_load_mnist(data_dir):
    x, y = load_mnist("train", data_dir)
    assert x.shape == (640, 1, 28, 28) and x.dtype == torch.float32
    assert 0 <= x.min() and x.max() == 1 and set(y.tolist()) == set(range(10))
    assert mnist_available(data_dir)


@pytest.mark.slow
def test_train_writes_checkpoint_with_metadata_and_loss_decreases(data_dir, tmp_path):
    out = tmp_path / "vae.pt"
    last = run_train(data_dir, out, "--epochs", "3", "--seed", "3")

    model, ckpt = load_checkpoint(out)
    assert model.config == {"hidden": 64, "depth": 1, "latent_dim": 2}
    assert isinstance(load_model(out), VAE)
    meta = ckpt["meta"]
    assert meta["command"].startswith("python -m vae.train --data-dir ")
    assert "--epochs 3" in meta["command"] and "--seed 3" in meta["command"]
    assert meta["epochs"] == 3 and meta["seed"] == 3 and meta["world_size"] == 1
    assert meta["metrics"] == last == meta["history"][-1]
    assert "optimizer" not in ckpt, "a finished run needs no optimizer state"
    assert meta["precision"] == "bf16" and meta["compile"] is False and meta["clip"] == 300

    history = meta["history"]
    assert [h["epoch"] for h in history] == [1, 2, 3]
    train_losses = [h["train_neg_elbo"] for h in history]
    test_losses = [h["neg_elbo"] for h in history]
    assert train_losses[0] > train_losses[1] > train_losses[2], train_losses
    assert test_losses[0] > test_losses[2], test_losses
    assert test_losses[2] < 0.8 * 784 * math.log(2), "should beat a coin flip per pixel by a wide margin"
    # The stored test metric is what the stored weights give (to within their float16 rounding).
    test_x, _ = load_mnist("test", data_dir)
    assert train.test_metrics(model, test_x)["neg_elbo"] == pytest.approx(last["neg_elbo"], abs=0.05)


@pytest.mark.slow
def test_same_seed_gives_identical_weights(data_dir, tmp_path):
    run_train(data_dir, tmp_path / "a.pt", "--epochs", "1", "--seed", "5")
    run_train(data_dir, tmp_path / "b.pt", "--epochs", "1", "--seed", "5")
    run_train(data_dir, tmp_path / "c.pt", "--epochs", "1", "--seed", "6")
    a, b, c = (load_model(tmp_path / f"{n}.pt") for n in "abc")
    assert_same_weights(a, b)
    assert not torch.equal(a.decoder[0].weight, c.decoder[0].weight)


@pytest.mark.slow
def test_interrupt_saves_and_resume_matches_an_uninterrupted_run(data_dir, tmp_path, monkeypatch, capsys):
    run_train(data_dir, tmp_path / "straight.pt", "--epochs", "3", "--seed", "1")

    out = tmp_path / "interrupted.pt"
    real_step, steps = torch.optim.Adam.step, []

    def interrupted_mid_second_epoch(self, *args, **kwargs):
        steps.append(1)
        if len(steps) == steps_per_epoch + 2:  # two updates into epoch 2
            raise KeyboardInterrupt
        return real_step(self, *args, **kwargs)

    steps_per_epoch = 2 * math.ceil(N_TRAIN / BATCH)  # per batch: one encoder step (--encoder-steps 1), one full step
    monkeypatch.setattr(torch.optim.Adam, "step", interrupted_mid_second_epoch)
    run_train(data_dir, out, "--epochs", "3", "--seed", "1")
    assert "holds epoch 1; continue with --resume" in capsys.readouterr().out
    _, ckpt = load_checkpoint(out)
    assert ckpt["meta"]["epochs"] == 1 and "optimizer" in ckpt and "rng_state" in ckpt

    monkeypatch.setattr(torch.optim.Adam, "step", real_step)
    run_train(data_dir, out, "--epochs", "3", "--seed", "1", "--resume")
    resumed, ckpt = load_checkpoint(out)
    assert ckpt["meta"]["epochs"] == 3 and [h["epoch"] for h in ckpt["meta"]["history"]] == [1, 2, 3]
    assert_same_weights(resumed, load_model(tmp_path / "straight.pt"))
    # the replay goes on where it stopped, as if never interrupted
    straight, again = (torch.load(replay_path(tmp_path / name), weights_only=True) for name in ("straight.pt", "interrupted.pt"))
    assert again["epochs"].tolist() == [1, 2, 3] and torch.equal(again["mu"], straight["mu"])


@pytest.mark.slow
def test_resume_of_a_finished_run_says_so(data_dir, tmp_path):
    out = tmp_path / "done.pt"
    run_train(data_dir, out, "--epochs", "1")
    with pytest.raises(SystemExit, match="finished run"):
        run_train(data_dir, out, "--epochs", "2", "--resume")


@pytest.mark.slow
def test_encoder_steps_move_only_the_encoder_and_help_it_keep_up(data_dir):
    torch.manual_seed(0)
    model = VAE(hidden=64, depth=1)
    loss_fn, opt = train.NegativeELBO(model), torch.optim.Adam(model.parameters(), lr=1e-2)
    x = load_mnist("train", data_dir)[0][:128]
    decoder = [p.detach().clone() for p in model.decoder.parameters()]
    encoder = [p.detach().clone() for p in model.encoder.parameters()]
    first = train.step(loss_fn, opt, x, frozen=list(model.decoder.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(decoder, model.decoder.parameters()))
    assert not any(torch.equal(a, b) for a, b in zip(encoder, model.encoder.parameters()))
    for _ in range(20):
        last = train.step(loss_fn, opt, x, frozen=list(model.decoder.parameters()))
    assert last < first  # the same decoder, a better q(z|x): a better ELBO
    # train_epoch's extra steps run before each full step, so a run records them
    out = train.main(["--data-dir", data_dir, "--out", str(Path(data_dir) / "e2.pt"), *SMALL, "--epochs", "1",
                      "--encoder-steps", "2"])
    assert load_checkpoint(Path(data_dir) / "e2.pt")[1]["meta"]["encoder_steps"] == 2 and out["epoch"] == 1


@pytest.mark.slow
def test_fit_encoder_moves_q_toward_the_posterior_and_leaves_the_decoder(data_dir, tmp_path):
    trained = tmp_path / "trained.pt"
    run_train(data_dir, trained, "--epochs", "2")
    out = tmp_path / "fitted.pt"
    last = fit_encoder.main(["--data-dir", data_dir, "--checkpoint", str(trained), "--out", str(out),
                             "--epochs", "3", "--beta", "3", "--lr", "3e-3"])
    before, after = load_model(trained), load_model(out)
    assert_same_weights(before.decoder, after.decoder)
    assert not torch.equal(before.encoder[0].weight, after.encoder[0].weight)

    x = load_mnist("train", data_dir)[0][:256]
    mean, var = posterior_moments(before, x)  # the decoder is the same, so p(z|x) is too
    with torch.no_grad():
        kl_before, kl_after = (forward_kl(*m.encode(x), mean, var).mean().item() for m in (before, after))
    assert kl_after < kl_before - 0.5, (kl_before, kl_after)

    meta = load_checkpoint(out)[1]["meta"]
    assert meta["command"] == load_checkpoint(trained)[1]["meta"]["command"], "the training command is kept"
    fit = meta["fit_encoder"]
    assert fit["command"].startswith("python -m vae.fit_encoder --data-dir ") and "--beta 3" in fit["command"]
    assert [h["epoch"] for h in fit["history"]] == [0, 1, 2, 3] and meta["metrics"] == last == fit["history"][-1]
    assert train.test_metrics(after, load_mnist("test", data_dir)[0])["neg_elbo"] == pytest.approx(last["neg_elbo"], abs=0.05)


@pytest.mark.slow
def test_compiled_training_follows_the_eager_one(data_dir, tmp_path):
    eager = run_train(data_dir, tmp_path / "eager.pt", "--epochs", "2", "--seed", "4")
    compiled = run_train(data_dir, tmp_path / "compiled.pt", "--epochs", "2", "--seed", "4", "--compile")
    assert load_checkpoint(tmp_path / "compiled.pt")[1]["meta"]["compile"] is True
    # The same steps; only the order of float operations differs, so the runs drift apart a little.
    assert compiled["train_neg_elbo"] == pytest.approx(eager["train_neg_elbo"], rel=0.02)
    assert compiled["neg_elbo"] == pytest.approx(eager["neg_elbo"], rel=0.02)


def flat_grad(model: VAE) -> torch.Tensor:
    return torch.cat([p.grad.flatten() for p in model.parameters()])


def test_bf16_loss_matches_float32_and_its_gradients_point_the_same_way(data_dir):
    torch.manual_seed(0)
    model = VAE(hidden=64, depth=1)
    x = load_mnist("train", data_dir)[0][:256]
    grads = {}
    for bf16 in (False, True):
        torch.manual_seed(1)  # the same eps for both
        model.zero_grad()
        loss = train.NegativeELBO(model, bf16=bf16)(x)
        assert loss.dtype == torch.float32
        loss.backward()
        grads[bf16] = (loss.item(), flat_grad(model))
    (loss32, g32), (loss16, g16) = grads[False], grads[True]
    assert loss16 == pytest.approx(loss32, rel=0.01)
    assert torch.nn.functional.cosine_similarity(g32, g16, dim=0) > 0.99


def test_clipping_bounds_the_step_and_leaves_small_gradients_alone(data_dir):
    x = load_mnist("train", data_dir)[0][:128]
    for clip in (1.0, 1e9):
        torch.manual_seed(0)
        model = VAE(hidden=64, depth=1)
        loss_fn, opt = train.NegativeELBO(model), torch.optim.Adam(model.parameters())
        torch.manual_seed(1)
        loss_fn(x).backward()
        unclipped = flat_grad(model).norm().item()
        seen = []
        opt.register_step_pre_hook(lambda *_: seen.append(flat_grad(model).norm().item()))
        torch.manual_seed(1)  # the same eps, so the same gradient
        train.step(loss_fn, opt, x, clip=clip)
        assert unclipped > 1.0
        assert seen == [pytest.approx(min(clip, unclipped), rel=1e-4)]


@pytest.mark.slow
def test_ddp_with_two_processes(data_dir, tmp_path):
    out = tmp_path / "ddp.pt"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "vae.train",
           "--data-dir", data_dir, "--train-subset", "256", "--epochs", "2", "--out", str(out), *SMALL]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    model, ckpt = load_checkpoint(out)
    meta = ckpt["meta"]
    assert meta["world_size"] == 2 and meta["epochs"] == 2
    assert meta["command"].startswith("torchrun --nproc_per_node=2 -m vae.train --data-dir")
    history = meta["history"]
    assert history[1]["train_neg_elbo"] < history[0]["train_neg_elbo"]
    assert model.decode(torch.zeros(1, 2)).shape == (1, 1, 28, 28)


# --- vae.model --------------------------------------------------------------------------------

def test_reparameterization_gradients():
    mu = torch.tensor([[0.3, -1.2]], requires_grad=True)
    logvar = torch.tensor([[0.4, -0.8]], requires_grad=True)
    eps = torch.tensor([[1.7, -0.6]])
    z = reparameterize(mu, logvar, eps)
    z.sum().backward()  # each z_i depends only on mu_i and logvar_i, so these are the partial derivatives
    sigma = torch.exp(0.5 * logvar.detach())
    torch.testing.assert_close(z.detach(), mu.detach() + sigma * eps)
    torch.testing.assert_close(mu.grad, torch.ones_like(mu))
    torch.testing.assert_close(logvar.grad, 0.5 * sigma * eps)


def test_reparameterized_gradient_of_an_expectation():
    """d/dmu and d/dlogvar of E_q[f(z)], estimated through samples, against the exact derivatives.
    f(z) = z1^2 + sin(z2): E[z1^2] = mu1^2 + s1^2 and E[sin z2] = sin(mu2) exp(-s2^2 / 2)."""
    torch.manual_seed(0)
    mu = torch.tensor([0.5, 0.8], requires_grad=True)
    logvar = torch.tensor([0.3, -0.4], requires_grad=True)
    z = reparameterize(mu.expand(400_000, 2), logvar.expand(400_000, 2))
    (z[:, 0] ** 2 + torch.sin(z[:, 1])).mean().backward()
    m, s2 = mu.detach(), logvar.detach().exp()
    damp = torch.exp(-s2[1] / 2)
    torch.testing.assert_close(mu.grad, torch.stack([2 * m[0], torch.cos(m[1]) * damp]), atol=0.02, rtol=0)
    torch.testing.assert_close(logvar.grad, torch.stack([s2[0], -0.5 * s2[1] * torch.sin(m[1]) * damp]),
                               atol=0.02, rtol=0)


@torch.no_grad()
def test_iwae_is_above_the_elbo_and_tightens_with_K():
    torch.manual_seed(0)
    model = VAE(hidden=32, depth=1).eval()
    model.decoder[0].weight.mul_(3)  # make p(x|z) depend strongly on z, so the bounds differ visibly
    x = (torch.rand(32, 1, 28, 28) < 0.3).float()
    bound = elbo(model, x, L=2000).elbo
    iwae = {K: iwae_bound(model, x, K=K) for K in (1, 10, 100, 1000)}
    assert iwae[1].shape == (32,)
    assert iwae[1].mean() < iwae[10].mean() - 5 < iwae[100].mean() - 6
    assert (iwae[1000] >= bound).all()
    # K = 1 is a one-sample ELBO: unbiased for it, however noisy.
    one = iwae_bound(model, x.repeat(100, 1, 1, 1), K=1).view(100, 32).mean(1)
    assert abs(one.mean() - bound.mean()) < 4 * one.std() / 10


# --- checkpoints --------------------------------------------------------------------------------

def test_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    model = VAE(hidden=32, depth=2).eval()
    path = tmp_path / "new" / "m.pt"
    save_checkpoint(path, model, {"seed": 1, "command": "python -m vae.train"})
    loaded, ckpt = load_checkpoint(path)
    assert not loaded.training and ckpt["meta"] == {"seed": 1, "command": "python -m vae.train"}
    assert os.listdir(path.parent) == ["m.pt"]
    x, z = torch.rand(5, 1, 28, 28), torch.randn(5, 2)
    with torch.no_grad():
        for a, b in zip(model.encode(x) + (model.decode(z),), loaded.encode(x) + (loaded.decode(z),)):
            assert torch.equal(a, b)


def test_compact_checkpoint_loads_as_float32_close_to_the_model(tmp_path):
    torch.manual_seed(0)
    model = VAE(hidden=32, depth=1).eval()
    save_checkpoint(tmp_path / "full.pt", model, {})
    save_checkpoint(tmp_path / "compact.pt", model, {}, compact=True)
    assert (tmp_path / "compact.pt").stat().st_size < 0.5 * (tmp_path / "full.pt").stat().st_size
    loaded = load_model(tmp_path / "compact.pt")
    for k, v in loaded.state_dict().items():
        w = model.state_dict()[k]
        assert v.dtype == torch.float32, k
        if w.dim() == 2 and w.shape[1] % QUANT_GROUP == 0:  # int8: within half a step of its group's scale
            step = w.abs().reshape(w.shape[0], -1, QUANT_GROUP).amax(dim=-1, keepdim=True) / 127
            assert ((v - w).abs().reshape(step.shape[0], -1, QUANT_GROUP) <= 0.51 * step + 1e-7).all(), k
        else:  # biases and the 2-input layer: float16
            assert torch.equal(v, w.half().float()), k
    z = torch.randn(50, 2)
    with torch.no_grad():
        assert (loaded.decode(z) - model.decode(z)).abs().max() < 1e-2


def test_quantize_keeps_zeros_and_the_largest_weight_of_each_group():
    w = torch.randn(3, 2 * QUANT_GROUP)
    w[1, :QUANT_GROUP] = 0
    q, scale = quantize(w)
    assert q.dtype == torch.int8 and scale.dtype == torch.float16 and scale.shape == (3, 2)
    back = dequantize(q, scale)
    assert torch.equal(back[1, :QUANT_GROUP], torch.zeros(QUANT_GROUP))
    largest = w.abs().reshape(3, 2, QUANT_GROUP).argmax(dim=-1)
    for r in range(3):
        for g in range(2):
            if r == 1 and g == 0:
                continue
            i = g * QUANT_GROUP + largest[r, g]
            assert back[r, i] == pytest.approx(w[r, i].item(), rel=1e-3)  # the largest sits on the grid, up to float16


def test_missing_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"No VAE checkpoint at {tmp_path / 'nope.pt'}"):
        load_model(tmp_path / "nope.pt")


def test_garbage_checkpoint(tmp_path):
    path = tmp_path / "garbage.pt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n this is not a checkpoint" * 10)
    with pytest.raises(ValueError, match="is not a readable VAE checkpoint"):
        load_model(path)


class RunsCode:
    """Unpickling this calls exec(): what a malicious checkpoint would do."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return exec, (f"open({str(self.marker)!r}, 'w').close()",)


@pytest.mark.parametrize("writer", ["pickle", "torch.save"])
def test_checkpoint_that_would_run_code_is_refused(tmp_path, writer):
    live = tmp_path / "live"
    pickle.loads(pickle.dumps(RunsCode(live)))
    assert live.exists(), "the payload must really run code when unpickled, or this test proves nothing"

    marker, path = tmp_path / "pwned", tmp_path / "evil.pt"
    payload = {"format": "vae-explorer/1", "config": {"hidden": 32}, "model": RunsCode(marker), "meta": {}}
    if writer == "pickle":
        path.write_bytes(pickle.dumps(payload, protocol=2))
    else:
        torch.save(payload, path)
    with pytest.raises(ValueError, match="is not a readable VAE checkpoint"):
        load_model(path)
    assert not marker.exists()


def test_checkpoint_of_another_architecture(tmp_path):
    path = tmp_path / "other.pt"
    save_checkpoint(path, VAE(hidden=32, depth=1), {})
    ckpt = torch.load(path, weights_only=True)
    ckpt["config"] = {"hidden": 64, "depth": 1, "latent_dim": 2}
    torch.save(ckpt, path)
    with pytest.raises(ValueError, match="does not match the VAE architecture"):
        load_model(path)


@pytest.mark.parametrize("config", [{"hidden": 32, "depth": 1, "width": 9}, None], ids=["unknown-key", "missing"])
def test_checkpoint_with_a_foreign_config(tmp_path, config):
    path = tmp_path / "foreign.pt"
    save_checkpoint(path, VAE(hidden=32, depth=1), {})
    ckpt = torch.load(path, weights_only=True)
    if config is None:
        del ckpt["config"]
    else:
        ckpt["config"] = config
    torch.save(ckpt, path)
    with pytest.raises(ValueError, match="does not match the VAE architecture"):
        load_model(path)


def test_bare_state_dict_is_not_our_checkpoint(tmp_path):
    path = tmp_path / "state_dict.pt"
    torch.save(VAE(hidden=32, depth=1).state_dict(), path)
    with pytest.raises(ValueError, match="not a VAE checkpoint of this project"):
        load_model(path)


def test_committed_checkpoint_folder_stays_small():
    """checkpoints/ is in git and in every copy of the Space: under 15 MB for the three models, their
    replays and test latents, and the Story's 20-D model, which the compact format makes room for."""
    sizes = {str(f.relative_to(CHECKPOINTS)): f.stat().st_size for f in CHECKPOINTS.rglob("*") if f.is_file()}
    assert sum(sizes.values()) < 15_000_000, sizes
    for out, path in COMMITTED.items():
        assert load_checkpoint(path)[1]["scales"], f"{out} is stored compact (int8 weights)"


def readme_commands() -> list[str]:
    """The command lines of README.md's Train section."""
    readme = (CHECKPOINTS.parent / "README.md").read_text()
    block = readme.split("## Train", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.strip().splitlines()]


def without_out(command: str) -> list[str]:
    words = command.split()
    if "--out" in words:
        del words[words.index("--out"):words.index("--out") + 2]
    return words


COMMITTED = {"checkpoints/vae.pt": CHECKPOINTS / "vae.pt", "checkpoints/beta0/vae.pt": CHECKPOINTS / "beta0" / "vae.pt",
             "checkpoints/beta5/vae.pt": CHECKPOINTS / "beta5" / "vae.pt"}


def test_the_readme_commands_made_every_committed_model():
    """One line of the README per model, each the command stored in that model's checkpoint (--out aside:
    a run may write elsewhere and be copied in), with its replay and metrics beside it."""
    lines = readme_commands()
    assert len(lines) == len(COMMITTED)
    for out, path in COMMITTED.items():
        meta = load_checkpoint(path)[1]["meta"]
        stored = [meta["command"]] + ([meta["fit_encoder"]["command"]] if "fit_encoder" in meta else [])
        line = next(line for line in lines if line.endswith(f"--out {out}"))
        assert [without_out(c) for c in line.split(" && ")] == [without_out(c) for c in stored], out
        assert replay_path(path).is_file() and (path.parent / "metrics.json").is_file()


@pytest.mark.slow
def test_the_contrast_models_show_what_the_kl_term_does():
    """vae.evaluate's figures for the three committed models: without the KL term q(z|x) strays far from the
    prior and the prior's samples are less legible; weighed 5, the KL is smaller and the reconstruction
    worse. The legibility figures are those of these very checkpoints."""
    metrics = {out: json.loads((path.parent / "metrics.json").read_text()) for out, path in COMMITTED.items()}
    beta0, beta1, beta5 = (metrics[f"checkpoints/{name}vae.pt"] for name in ("beta0/", "", "beta5/"))
    assert beta0["prior_mass_confident"] < beta1["prior_mass_confident"] - 0.15
    assert beta0["prior_confidence"] < beta1["prior_confidence"] - 0.05
    assert beta0["kl"] > 10 * beta1["kl"] and beta0["neg_log_px"] > beta1["neg_log_px"] + 10
    assert beta5["kl"] < beta1["kl"] and beta5["reconstruction_nll"] > beta1["reconstruction_nll"] + 5
    classifier = load_classifier()
    for out, path in COMMITTED.items():
        # The mass on the 100 x 100 grid is a second 10,000 decodes: measured for the VAE, the others' draws only.
        grid = 100 if out == "checkpoints/vae.pt" else 1
        measured = legibility(load_model(path), classifier, grid=grid)
        assert measured["prior_digits"] == metrics[out]["prior_digits"], out
        if grid == 100:
            assert measured["prior_mass_confident"] == pytest.approx(metrics[out]["prior_mass_confident"], abs=1e-6), out


# --- the committed model on the real MNIST --------------------------------------------------

needs_mnist = pytest.mark.skipif(not mnist_available(), reason="real MNIST not found: set VAE_DATA_DIR to the folder holding MNIST/raw/")


@pytest.fixture(scope="module")
def mnist_test() -> torch.Tensor:
    return load_mnist("test")[0]


@pytest.mark.slow
@needs_mnist
@torch.no_grad()
def test_committed_checkpoint_test_elbo(mnist_test):
    model, ckpt = load_checkpoint(DEFAULT_CHECKPOINT)
    assert len(mnist_test) == 10_000
    torch.manual_seed(0)
    neg_elbo = -torch.cat([elbo(model, mnist_test[i:i + 1000]).elbo for i in range(0, 10_000, 1000)]).mean().item()
    assert neg_elbo <= 145, f"committed model: test -ELBO {neg_elbo:.2f} nats"
    meta = ckpt["meta"]
    assert meta["command"].startswith(("python -m vae.train", "torchrun")) and meta["epochs"] >= 1
    assert meta["fit_encoder"]["command"].startswith("python -m vae.fit_encoder")
    assert meta["metrics"]["neg_elbo"] == pytest.approx(train.test_metrics(model, mnist_test)["neg_elbo"], abs=0.05)
    reported = json.loads((DEFAULT_CHECKPOINT.parent / "metrics.json").read_text())
    assert reported["neg_elbo"] == pytest.approx(neg_elbo, abs=1.0), "metrics.json is not this checkpoint's"


@needs_mnist
@torch.no_grad()
def test_committed_test_latents_are_the_committed_models(mnist_test):
    """The app's latent map draws these; they must be where this model puts the test digits."""
    latents = torch.load(DEFAULT_CHECKPOINT.parent / "test_latents.pt", weights_only=True)
    mu, _ = load_model().encode(mnist_test)
    off = (latents["mu"].float() - mu).abs().max().item()
    assert off < 0.01, f"test_latents.pt is not this checkpoint's (posterior means off by up to {off:.2f}); rerun vae.evaluate"
    assert torch.equal(latents["labels"], load_mnist("test")[1])


@needs_mnist
@torch.no_grad()
def test_committed_model_encodes_and_decodes_real_digits(mnist_test):
    model = load_model()
    x = mnist_test[:256]
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (256, 2) and torch.isfinite(mu).all() and torch.isfinite(logvar).all()
    assert mu.abs().max() < 10, "posterior means live where the prior has mass"
    assert logvar.exp().mean() < 1, "a digit pins z down more tightly than the prior does"
    grid = torch.cartesian_prod(torch.linspace(-3, 3, 30), torch.linspace(-3, 3, 30))
    images = model.decode(grid)
    assert images.shape == (900, 1, 28, 28) and images.min() >= 0 and images.max() <= 1
    recon = model.decode(mu)
    own = (recon - x).pow(2).mean(dim=(1, 2, 3))
    others = (recon.roll(1, dims=0) - x).pow(2).mean(dim=(1, 2, 3))
    assert own.mean() < 0.6 * others.mean(), "a reconstruction looks like its own digit, not the next one"


@pytest.mark.slow
def test_beta_weighs_the_kl_term_and_is_recorded(data_dir, tmp_path):
    torch.manual_seed(0)
    model = VAE(hidden=64, depth=1)
    x = load_mnist("train", data_dir)[0][:64]
    torch.manual_seed(1)
    terms = elbo(model, x)
    for beta in (0.0, 1.0, 4.0):
        torch.manual_seed(1)  # the same eps
        loss = train.NegativeELBO(model, beta=beta)(x).item()
        assert loss == pytest.approx(-(terms.reconstruction - beta * terms.kl).mean().item(), rel=1e-5)
    torch.manual_seed(1)
    train.NegativeELBO(model, beta=0.0)(x).backward()
    assert model.encoder[-1].weight.grad is not None  # the reconstruction term still trains q(z|x)
    out = tmp_path / "b0.pt"
    last = run_train(data_dir, out, "--epochs", "1", "--beta", "0")
    meta = load_checkpoint(out)[1]["meta"]
    assert meta["beta"] == 0 and "--beta 0" in meta["command"]
    assert "train_loss" in last and "train_neg_elbo" not in last and "neg_elbo" in last


@pytest.mark.slow
def test_the_replay_records_the_latent_space_forming(data_dir, tmp_path):
    """After each epoch: the posterior means of the first --replay test digits (the last epoch's are
    the final model's), and at epochs 1, 2, 3, 5, ... and the last a decoded manifold."""
    out = tmp_path / "a new folder" / "vae.pt"
    run_train(data_dir, out, "--epochs", "4", "--replay", "40")
    replay = torch.load(replay_path(out), weights_only=True)
    test_x, test_y = load_mnist("test", data_dir)
    assert replay["epochs"].tolist() == [1, 2, 3, 4] and replay["manifold_epochs"].tolist() == [1, 2, 3, 4]
    assert replay["mu"].shape == (4, 40, 2) and replay["mu"].dtype == torch.float16
    assert torch.equal(replay["labels"], test_y[:40].to(torch.uint8))
    assert replay["manifolds"].shape == (4, MANIFOLD_N ** 2, 28, 28) and replay["manifolds"].dtype == torch.uint8
    model = load_model(out)
    with torch.no_grad():
        final = model.encode(test_x[:40])[0]
        shown = model.decode(torch.from_numpy(manifold_points()).float())
    assert (replay["mu"][-1].float() - final).abs().max() < 0.05  # the checkpoint is stored compact (int8)
    assert (replay["manifolds"][-1].float() / 255 - shown[:, 0]).abs().max() < 0.05
    assert not torch.equal(replay["mu"][0], replay["mu"][-1]), "the means move as the model learns"
    history = replay["history"]
    assert [h["epoch"] for h in history] == [1, 2, 3, 4]
    assert all(h["train_sample_neg_elbo"] == pytest.approx(h["train_sample_reconstruction"] * -1 + h["train_sample_kl"], abs=1e-3)
               for h in history)
    run_train(data_dir, tmp_path / "none.pt", "--epochs", "1", "--replay", "0")
    assert not replay_path(tmp_path / "none.pt").exists()


# --- beyond the explorer's models: more latent dimensions, black-and-white digits ---------------

@pytest.mark.slow
def test_a_20_d_model_trains_without_a_replay_and_is_evaluated_by_its_bounds(data_dir, tmp_path, capsys):
    from vae import evaluate

    out = tmp_path / "z20.pt"
    last = run_train(data_dir, out, "--epochs", "1", "--latent-dim", "20")
    assert "--latent-dim 20: no replay" in capsys.readouterr().out
    model, ckpt = load_checkpoint(out)
    assert model.latent_dim == 20 and model.encode(torch.zeros(3, 1, 28, 28))[0].shape == (3, 20)
    assert not replay_path(out).exists()
    test_x = load_mnist("test", data_dir)[0]
    assert train.test_metrics(model, test_x)["neg_elbo"] == pytest.approx(last["neg_elbo"], abs=0.05)

    metrics = evaluate.main(["--data-dir", data_dir, "--checkpoint", str(out), "--L", "10", "--K", "100"])
    assert "not computed: no grid covers a 20-D latent space" in capsys.readouterr().out
    assert metrics["latent_dim"] == 20 and "neg_log_px" not in metrics and "prior_mass_confident" not in metrics
    assert metrics["neg_iwae"] < metrics["neg_elbo"], "100 importance samples bound log p(x) more tightly than the ELBO"
    assert json.loads((tmp_path / "metrics.json").read_text())["neg_iwae"] == metrics["neg_iwae"]
    assert torch.load(tmp_path / "test_latents.pt", weights_only=True)["mu"].shape == (len(test_x), 20)


@pytest.mark.slow
def test_binarized_training_tests_on_one_fixed_black_and_white_draw(data_dir, tmp_path, monkeypatch):
    grey = load_mnist("test", data_dir)[0]
    black_and_white = binarize(grey)
    assert set(black_and_white.unique().tolist()) == {0.0, 1.0} and torch.equal(black_and_white, binarize(grey))
    assert black_and_white.mean().item() == pytest.approx(grey.mean().item(), abs=0.01)  # each pixel 1 with its grey level
    out = tmp_path / "binary.pt"
    last = run_train(data_dir, out, "--epochs", "2", "--binarize")
    model, ckpt = load_checkpoint(out)
    assert ckpt["meta"]["binarized"] is True and "--binarize" in ckpt["meta"]["command"]
    assert train.test_metrics(model, black_and_white)["neg_elbo"] == pytest.approx(last["neg_elbo"], abs=0.05)
    assert train.test_metrics(model, grey)["neg_elbo"] != pytest.approx(last["neg_elbo"], abs=0.05)

    real_step, steps = torch.optim.Adam.step, []

    def interrupted_in_second_epoch(self, *args, **kwargs):
        steps.append(1)
        if len(steps) > 2 * math.ceil(N_TRAIN / BATCH):  # an encoder step and a full step a batch
            raise KeyboardInterrupt
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", interrupted_in_second_epoch)
    run_train(data_dir, tmp_path / "unfinished.pt", "--epochs", "2", "--binarize")
    monkeypatch.setattr(torch.optim.Adam, "step", real_step)
    with pytest.raises(SystemExit, match="trained with --binarize; resume it the same way"):
        run_train(data_dir, tmp_path / "unfinished.pt", "--epochs", "2", "--resume")


def test_the_storys_two_other_models_are_what_the_documented_commands_made():
    """The 20-D checkpoint and the binarized run's figures each record a command that docs/training.md gives,
    and the 20-D model's figures are those of the committed file."""
    docs = (CHECKPOINTS.parent / "docs" / "training.md").read_text()
    wide_model, wide = load_checkpoint(CHECKPOINTS / "z20" / "vae.pt")
    wide_metrics = json.loads((CHECKPOINTS / "z20" / "metrics.json").read_text())
    assert wide_model.latent_dim == 20 and wide["meta"]["command"] in docs
    assert wide_metrics["checkpoint_sha256"] == checkpoint_sha256(CHECKPOINTS / "z20" / "vae.pt")
    assert wide_metrics["neg_iwae"] < wide_metrics["neg_elbo"]
    binarized = json.loads((CHECKPOINTS / "binarized" / "metrics.json").read_text())
    assert "--binarize" in binarized["train_command"] and binarized["train_command"] in docs
    assert binarized["neg_log_px"] <= binarized["neg_iwae"] + 0.05 <= binarized["neg_elbo"] + 0.05
    model_md, readme = (CHECKPOINTS.parent / "docs" / "model.md").read_text(), (CHECKPOINTS.parent / "README.md").read_text()
    for figure in (binarized["neg_elbo"], binarized["neg_log_px"], wide_metrics["neg_elbo"], wide_metrics["neg_iwae"]):
        assert f"{figure:.2f}" in model_md and f"{figure:.2f}" in readme, figure  # the documents quote these very files
