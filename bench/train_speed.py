"""Training throughput: our loop against the textbook one, measured in one run.

    python bench/train_speed.py --data-dir ../shared/data

Ours is vae.train.train_epoch as `python -m vae.train` runs it with its defaults:
batches sliced from MNIST held in memory as one tensor, matrix products in bfloat16,
the loss compiled with torch.compile, fused Adam, gradient clipping, batch 256.
The textbook loop (pytorch/examples' VAE) reads torchvision's MNIST through
transforms.ToTensor() and a shuffling DataLoader and steps a float32 model with
plain Adam. Both train the same model with the same loss for the same number of
batches (ours without vae.train's extra encoder steps, so both do the same work per
batch). The goal (ours >= 3x the textbook loop) is measured against the textbook loop
as pytorch/examples runs it, at batch 128. To tell the gains apart, it also runs at our
batch size, and ours once more in float32 without compile. All loops alternate for a
few rounds so that other work on the machine slows them alike. Prints the median
images/s of each and the ratios.
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from vae import train  # noqa: E402
from vae.data import load_mnist, resolve_data_dir  # noqa: E402
from vae.model import VAE  # noqa: E402


def ours(loss_fn: torch.nn.Module, opt: torch.optim.Optimizer, images: torch.Tensor, batches: int, batch_size: int,
         clip: float) -> float:
    order = torch.randperm(len(images))[:batches * batch_size]
    t0 = time.perf_counter()
    train.train_epoch(loss_fn, opt, images, order, batch_size, clip=clip, progress=False)
    return batches * batch_size / (time.perf_counter() - t0)


def textbook(loss_fn: torch.nn.Module, opt: torch.optim.Optimizer, loader: DataLoader, batches: int) -> float:
    loss_fn.train()
    seen, total = 0, 0.0
    t0 = time.perf_counter()
    for i, (x, _) in enumerate(loader):
        if i == batches:
            break
        loss = loss_fn(x)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * len(x)
        seen += len(x)
    return seen / (time.perf_counter() - t0)


def data_only(images: torch.Tensor, loader: DataLoader, batches: int, batch_size: int) -> tuple[list[float], list[float]]:
    """Seconds spent just producing each batch, ours and textbook: the part the two loops differ in besides the step."""
    order = torch.randperm(len(images))[:batches * batch_size]
    ours_times, textbook_times = [], []
    for start in range(0, len(order), batch_size):
        t0 = time.perf_counter()
        images[order[start:start + batch_size]]
        ours_times.append(time.perf_counter() - t0)
    batch_iter = iter(loader)
    for _ in range(batches):
        t0 = time.perf_counter()
        next(batch_iter)
        textbook_times.append(time.perf_counter() - t0)
    return ours_times, textbook_times


def main() -> None:
    recipe = train.parse_args([])
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None, help="folder holding MNIST/raw/ (default: $VAE_DATA_DIR)")
    p.add_argument("--batches", type=int, default=40, help="batches per measurement")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--hidden", type=int, default=recipe.hidden)
    p.add_argument("--depth", type=int, default=recipe.depth)
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice); 1 is steadier on a busy machine")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    root, download = resolve_data_dir(args.data_dir)
    batch = recipe.batch_size

    torch.manual_seed(0)
    t0 = time.perf_counter()
    images, _ = load_mnist("train", args.data_dir)
    load_seconds = time.perf_counter() - t0
    mnist = datasets.MNIST(root, train=True, download=download, transform=transforms.ToTensor())
    loaders = {b: DataLoader(mnist, batch_size=b, shuffle=True) for b in (128, batch)}

    # One model and optimizer per loop, so each sees the same kind of weights all along.
    def make(precision: str, compiled: bool, fused: bool) -> tuple[torch.nn.Module, torch.optim.Optimizer]:
        model = VAE(hidden=args.hidden, depth=args.depth)
        return train.training_loss(model, precision, compiled), torch.optim.Adam(model.parameters(), lr=recipe.lr,
                                                                                  fused=fused or None)

    fast = make(recipe.precision, recipe.compile, True)
    plain = make("fp32", False, True)
    textbook_models = {b: make("fp32", False, False) for b in loaders}
    loops = {
        "textbook, batch 128 (pytorch/examples)": lambda n: textbook(*textbook_models[128], loaders[128], n * batch // 128),
        f"textbook, batch {batch}": lambda n: textbook(*textbook_models[batch], loaders[batch], n),
        f"ours in float32, eager, batch {batch}": lambda n: ours(*plain, images, n, batch, recipe.clip),
        f"ours (vae.train's defaults), batch {batch}": lambda n: ours(*fast, images, n, batch, recipe.clip),
    }
    t0 = time.perf_counter()
    for loop in loops.values():  # warm-up: allocator, first kernels, torch.compile
        loop(3)
    warm_seconds = time.perf_counter() - t0

    rates = {name: [] for name in loops}
    for r in range(args.rounds):
        for name, loop in loops.items():
            rates[name].append(loop(args.batches))
        print(f"round {r + 1}: " + "  ".join(f"{v[-1]:6.0f}" for v in rates.values()) + "  images/s", flush=True)

    ours_batch, textbook_batch = [], []
    for _ in range(args.rounds):
        o, t = data_only(images, loaders[batch], args.batches, batch)
        ours_batch += o
        textbook_batch += t
    med = {k: statistics.median(v) for k, v in rates.items()}
    names = list(loops)
    print(f"\nVAE(hidden={args.hidden}, depth={args.depth}), {args.batches} batches of {batch} x {args.rounds} rounds, "
          f"{torch.get_num_threads()} threads, precision {recipe.precision}, compile {recipe.compile}")
    for name in names:
        print(f"{name:48s} {med[name]:8.0f} images/s (median)")
    print(f"ratio ours / textbook as pytorch/examples runs it (batch 128): {med[names[3]] / med[names[0]]:.2f}x (goal >= 3x)")
    print(f"ratio ours / textbook at the same batch size {batch}: {med[names[3]] / med[names[1]]:.2f}x "
          f"(the gain without the larger batch)")
    print(f"of which: in-memory batches {med[names[2]] / med[names[1]]:.2f}x, "
          f"then {'bfloat16, ' if recipe.precision == 'bf16' else ''}compile and clipping {med[names[3]] / med[names[2]]:.2f}x")
    ours_data, textbook_data = statistics.median(ours_batch) * 1e3, statistics.median(textbook_batch) * 1e3
    print(f"making one batch of {batch} alone (median): ours {ours_data:.3f} ms, textbook {textbook_data:.3f} ms "
          f"({textbook_data / ours_data:.0f}x)")
    print(f"one-time costs of ours: loading MNIST into memory {load_seconds:.2f} s; warm-up of all loops "
          f"(mostly torch.compile) {warm_seconds:.0f} s")


if __name__ == "__main__":
    main()
