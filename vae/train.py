"""Train the VAE on MNIST.

    python -m vae.train --data-dir ../shared/data --out runs/fast60.pt

Maximizes the ELBO with one reparameterized sample per digit, Adam and a cosine
learning-rate decay; `--beta` weighs the KL term (1, the ELBO, by default; 0 trains on the
reconstruction term alone; more than 1 pulls q(z|x) harder toward the prior). Batches are sliced from tensors held in memory; matrix products
run in bfloat16 (weights and Adam stay float32) and torch.compile fuses the rest,
which makes a step several times cheaper than the textbook float32 loop on CPUs with
bfloat16 units (bench/train_speed.py measures it). The checkpoint is written after every epoch, with its training replay beside it (vae/replay.py:
the posterior means of --replay test digits after each epoch, and a few decoded manifolds); Ctrl-C
stops, leaving the last finished epoch's checkpoint,
and `--resume` carries on from it. Also runs under `torchrun --nproc_per_node=N -m vae.train ...` (DDP: gloo on
CPUs, NCCL with one process per GPU): each process takes every N-th digit of the epoch's shuffled order.
`--device` picks the CPU or a GPU (docs/training.md), `--dataset` MNIST or another MNIST-format dataset
(vae/data.py); the checkpoint records both, and the dataset's class names for the explorer's map.
`--latent-dim` and `--binarize` make models to compare with: more latent dimensions, black-and-white digits.
"""
import argparse
import math
import os
import shlex
import sys
import time

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from vae.data import DATASETS, DEFAULT_DATASET, binarize, load_mnist
from vae.device import DEVICES, DeviceError, fixed_noise, pick_device
from vae.model import VAE, elbo, load_checkpoint, save_checkpoint
from vae.replay import load_replay, new_replay, record, replay_path, save_replay

TRAIN_SAMPLE = 5000  # training digits whose ELBO terms are measured after each epoch, as the test set's are


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None, help="folder holding MNIST/raw/ (default: $VAE_DATA_DIR, else download to ./data)")
    p.add_argument("--dataset", choices=tuple(DATASETS), default=DEFAULT_DATASET,
                   help="MNIST or an MNIST-format dataset, read from <data-dir>/MNIST/raw, FashionMNIST/raw or KMNIST/raw")
    p.add_argument("--device", choices=DEVICES, default="auto",
                   help="where to train: auto takes a GPU when torch sees one (under torchrun, the GPU of the process's LOCAL_RANK)")
    p.add_argument("--out", default="runs/vae.pt", help="checkpoint to write (and to read with --resume); the app loads checkpoints/vae.pt once vae.fit_encoder has refitted it")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint at --out")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--batch-size", type=int, default=256, help="per process")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--clip", type=float, default=300.0,
                   help="largest gradient norm a step may take (0: no clipping); it keeps rare spikes from derailing bf16 training")
    p.add_argument("--precision", choices=("bf16", "fp32"), default="bf16",
                   help="bf16: matrix products in bfloat16 under autocast, weights and Adam in float32 "
                        "(fast on CPUs with AVX-512 BF16 or AMX; use fp32 elsewhere)")
    p.add_argument("--compile", action=argparse.BooleanOptionalAction, default=True,
                   help="run the loss through torch.compile (needs a C++ compiler; the first batch waits ~17 s for it, ~1 s once cached)")
    p.add_argument("--hidden", type=int, default=768)
    p.add_argument("--depth", type=int, default=3)
    p.add_argument("--latent-dim", type=int, default=2,
                   help="dimensions of z: the explorer draws 2; more make a model to compare with (no replay, no quadrature)")
    p.add_argument("--binarize", action="store_true",
                   help="train on digits binarized afresh each batch (pixel ~ Bernoulli(grey level)) and test on one fixed "
                        "binarization: the ELBO is then a bound on a true log-probability (docs/model.md)")
    p.add_argument("--encoder-steps", type=int, default=1,
                   help="extra steps of the encoder alone per batch, before each step of the whole model")
    p.add_argument("--beta", type=float, default=1.0,
                   help="weight of the KL term in the loss: 1 is the ELBO; 0 the reconstruction term alone (an autoencoder)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train-subset", type=int, default=None, help="use only the first N training digits")
    p.add_argument("--test-subset", type=int, default=None, help="evaluate on only the first N test digits")
    p.add_argument("--replay", type=int, default=2000,
                   help="test digits whose posterior means the replay records after each epoch (0: no replay file)")
    return p.parse_args(argv)


def learning_rate(base: float, epoch: int, epochs: int) -> float:
    """Cosine decay from `base` towards zero; a function of the epoch, so resuming needs no scheduler state."""
    return base * 0.5 * (1 + math.cos(math.pi * epoch / epochs))


def step(loss_fn: torch.nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, frozen: list[torch.Tensor] = (),
         clip: float = 0.0) -> float:
    """One optimizer step on the loss of batch x, leaving the parameters in `frozen` as they are
    (Adam skips a parameter without a gradient), the gradient's norm clipped to `clip` if set. Returns the loss."""
    loss = loss_fn(x)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    for p in frozen:
        p.grad = None
    if clip:
        torch.nn.utils.clip_grad_norm_([p for group in opt.param_groups for p in group["params"]], clip)
    opt.step()
    return loss.item()


def train_epoch(loss_fn: torch.nn.Module, opt: torch.optim.Optimizer, images: torch.Tensor, order: torch.Tensor,
                batch_size: int, encoder_steps: int = 0, clip: float = 0.0, progress: bool = True, desc: str = "",
                binarize: bool = False) -> float:
    """One pass over images[order] in batches; returns the mean loss (nats: the negative ELBO for beta 1).
    With `binarize`, each batch is drawn black and white from its grey levels (a fresh draw every epoch).

    Before each step of the whole model, `encoder_steps` steps of the encoder alone on the same
    batch, so that q(z|x) keeps up with the decoder (after He et al., 2019, "Lagging inference
    networks"): it narrows the amortization gap, most of the looseness of this VAE's ELBO."""
    loss_fn.train()
    vae = loss_fn.module.vae if isinstance(loss_fn, DistributedDataParallel) else loss_fn.vae
    decoder = list(vae.decoder.parameters())
    total, count = 0.0, 0
    batches = range(0, len(order), batch_size)
    for start in tqdm(batches, desc=desc, leave=False, disable=not progress):
        x = images[order[start:start + batch_size]]
        if binarize:
            x = torch.bernoulli(x)
        for _ in range(encoder_steps):
            step(loss_fn, opt, x, frozen=decoder, clip=clip)
        total += step(loss_fn, opt, x, clip=clip) * len(x)
        count += len(x)
    return total / max(count, 1)


class NegativeELBO(torch.nn.Module):
    """The training loss as a module, so DDP sees encoder and decoder run inside one forward(),
    and torch.compile compiles both with the loss: -(reconstruction - beta * KL), the negative
    ELBO for beta = 1. With `bf16`, autocast runs the matrix products in bfloat16 on whichever device
    the batch is on; log_bernoulli sums the loss in float32."""

    def __init__(self, vae: VAE, bf16: bool = False, beta: float = 1.0):
        super().__init__()
        self.vae, self.bf16, self.beta = vae, bf16, beta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            terms = elbo(self.vae, x)
            return -(terms.reconstruction - self.beta * terms.kl).mean()


def training_loss(model: VAE, precision: str = "fp32", compiled: bool = False, beta: float = 1.0) -> torch.nn.Module:
    """The loss module vae.train steps: NegativeELBO with KL weight `beta`, under bfloat16 autocast if
    `precision` is "bf16", through torch.compile if `compiled` (one graph per batch shape)."""
    net = NegativeELBO(model, bf16=precision == "bf16", beta=beta)
    return torch.compile(net, dynamic=False) if compiled else net


@torch.no_grad()
def test_metrics(model: VAE, images: torch.Tensor, seed: int = 0, batch_size: int = 1000) -> dict:
    """Mean negative ELBO, reconstruction term and KL over `images` (one sample each, fixed seed)."""
    model.eval()
    with fixed_noise(seed, images.device):
        parts = [elbo(model, images[i:i + batch_size]) for i in range(0, len(images), batch_size)]
    cat = lambda k: torch.cat([getattr(p, k) for p in parts])
    return {"neg_elbo": -cat("elbo").mean().item(), "reconstruction": cat("reconstruction").mean().item(),
            "kl": cat("kl").mean().item()}


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    try:
        device = pick_device(args.device)
    except DeviceError as e:
        sys.exit(str(e))
    if world > 1:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    is_main = rank == 0

    torch.manual_seed(args.seed + rank)
    # The whole dataset sits on the device (MNIST's 60,000 digits are 190 MB in float32): batches are slices of it.
    train_x, _ = load_mnist("train", args.data_dir, args.dataset)
    test_x, test_labels = load_mnist("test", args.data_dir, args.dataset)
    if args.binarize:  # one fixed draw of the whole test set, as vae.evaluate draws it
        test_x = binarize(test_x)
    train_x = train_x[:args.train_subset].to(device)
    test_x, test_labels = test_x[:args.test_subset].to(device), test_labels[:args.test_subset]
    if args.latent_dim != 2 and args.replay:
        print(f"--latent-dim {args.latent_dim}: no replay (it records a 2-D map)", flush=True)
        args.replay = 0

    if args.resume:
        model, ckpt = load_checkpoint(args.out)
        if "optimizer" not in ckpt:
            sys.exit(f"{args.out} holds a finished run (no optimizer state); nothing to resume.")
        if ckpt["meta"].get("binarized", False) != args.binarize:
            sys.exit(f"{args.out} was trained {'with' if ckpt['meta'].get('binarized') else 'without'} --binarize; resume it the same way.")
        if ckpt["meta"].get("dataset", DEFAULT_DATASET) != args.dataset:
            sys.exit(f"{args.out} was trained on {ckpt['meta'].get('dataset', DEFAULT_DATASET)}; resume it with that --dataset.")
    else:
        model = VAE(hidden=args.hidden, depth=args.depth, latent_dim=args.latent_dim)
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, fused=True)
    start_epoch, history = 0, []
    if args.resume:
        opt.load_state_dict(ckpt["optimizer"])  # Adam moves its saved state onto the parameters' device
        start_epoch, history = ckpt["meta"]["epochs"], ckpt["meta"]["history"]
        torch.set_rng_state(ckpt["rng_state"])
        if "cuda_rng_state" in ckpt and device.type == "cuda":  # the noise of a GPU run comes from the GPU's generator
            torch.cuda.set_rng_state(ckpt["cuda_rng_state"], device)
        if rank:  # the saved state is rank 0's; other processes need noise of their own
            torch.manual_seed(args.seed + rank + 1_000 * start_epoch)
    net = training_loss(model, args.precision, args.compile, args.beta)
    replay_digits = test_x[:args.replay]
    replay_file = replay_path(args.out)
    resumed = args.resume and replay_file.is_file()
    replay = load_replay(replay_file, upto=start_epoch) if resumed else new_replay(test_labels[:args.replay])
    if world > 1:
        net = DistributedDataParallel(net, device_ids=[device.index] if device.type == "cuda" else None)

    command = "python -m vae.train " + shlex.join(sys.argv[1:] if argv is None else argv)
    if world > 1:
        command = f"torchrun --nproc_per_node={world} -m vae.train " + command.split(" ", 3)[-1]

    def save(epochs_done: int, finished: bool) -> None:
        if not is_main:
            return
        meta = {"command": command, "device": str(device), "dataset": args.dataset, "classes": list(DATASETS[args.dataset].classes),
                "binarized": args.binarize, "epochs": epochs_done, "epochs_planned": args.epochs, "seed": args.seed, "beta": args.beta,
                "encoder_steps": args.encoder_steps, "precision": args.precision, "compile": args.compile, "clip": args.clip,
                "world_size": world, "batch_size": args.batch_size, "lr": args.lr, "history": history,
                "metrics": history[-1] if history else {}}
        extra = {} if finished else {"optimizer": opt.state_dict(), "rng_state": torch.get_rng_state(),
                                     **({"cuda_rng_state": torch.cuda.get_rng_state(device)} if device.type == "cuda" else {})}
        save_checkpoint(args.out, model, meta, compact=finished, **extra)

    epoch = start_epoch
    try:
        for epoch in range(start_epoch, args.epochs):
            for group in opt.param_groups:
                group["lr"] = learning_rate(args.lr, epoch, args.epochs)
            # Same permutation in every process (seeded by epoch); each takes its own slice.
            order = torch.randperm(len(train_x), generator=torch.Generator().manual_seed(args.seed * 10_000 + epoch))
            order = order[rank::world].to(device)
            t0 = time.time()
            train_loss = train_epoch(net, opt, train_x, order, args.batch_size, args.encoder_steps, args.clip, progress=is_main,
                                     desc=f"epoch {epoch + 1}/{args.epochs}", binarize=args.binarize)
            if is_main:
                # The training loss is the negative ELBO only for beta = 1; the test metrics always are ELBO terms.
                sample = test_metrics(model, binarize(train_x[:TRAIN_SAMPLE]) if args.binarize else train_x[:TRAIN_SAMPLE])
                metrics = {"epoch": epoch + 1, "train_neg_elbo" if args.beta == 1 else "train_loss": train_loss,
                           **test_metrics(model, test_x), **{f"train_sample_{k}": v for k, v in sample.items()},
                           "seconds": time.time() - t0}
                history.append(metrics)
                print(f"epoch {epoch + 1:3d}  train {'-ELBO' if args.beta == 1 else 'loss'} {train_loss:8.3f}  "
                      f"test -ELBO {metrics['neg_elbo']:8.3f} "
                      f"(recon {-metrics['reconstruction']:8.3f}, KL {metrics['kl']:6.3f})  {metrics['seconds']:.1f}s",
                      flush=True)
            if is_main and args.replay:  # before the checkpoint: a resumed run drops epochs beyond the checkpoint's
                record(replay, model, replay_digits, epoch + 1, last=epoch + 1 == args.epochs)
                save_replay(replay_file, replay, history)
            save(epoch + 1, finished=epoch + 1 == args.epochs)
    except KeyboardInterrupt:
        # The checkpoint written after the last finished epoch stays as it is: saving now
        # would keep the interrupted epoch's partial updates, and --resume would redo it on top.
        if is_main:
            done = epoch - start_epoch
            where = f"{args.out} holds epoch {epoch}; continue with --resume" if done else "no epoch finished, nothing saved"
            print(f"\ninterrupted in epoch {epoch + 1}: {where}", flush=True)
    finally:
        if world > 1:
            dist.destroy_process_group()
    return history[-1] if history else {}


if __name__ == "__main__":
    main()
