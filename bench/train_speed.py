"""Training throughput: our loop against the textbook one, measured in one run.

    python bench/train_speed.py --data-dir ../shared/data

Ours is vae.train.train_epoch slicing batches from MNIST held in memory as one
tensor. The textbook loop (pytorch/examples' VAE) reads torchvision's MNIST
through transforms.ToTensor() and a shuffling DataLoader. Both train the same
model with the same loss, optimizer and batch size for the same number of
batches (ours without vae.train's extra encoder steps, so both do the same work per batch); the two alternate for a few rounds so that other work on the machine
slows both alike. Prints the median images/s of each and their ratio (goal: >= 3).
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


def ours(loss_fn: torch.nn.Module, opt: torch.optim.Optimizer, images: torch.Tensor, batches: int, batch_size: int) -> float:
    order = torch.randperm(len(images))[:batches * batch_size]
    t0 = time.perf_counter()
    train.train_epoch(loss_fn, opt, images, order, batch_size, progress=False)
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
    """Seconds spent just producing each batch, ours and textbook: the part the two loops differ in."""
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
    defaults = train.parse_args([])
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None, help="folder holding MNIST/raw/ (default: $VAE_DATA_DIR)")
    p.add_argument("--batches", type=int, default=50, help="batches per measurement")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=defaults.batch_size)
    p.add_argument("--hidden", type=int, default=defaults.hidden)
    p.add_argument("--depth", type=int, default=defaults.depth)
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice); 1 is steadier on a busy machine")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    root, download = resolve_data_dir(args.data_dir)

    torch.manual_seed(0)
    t0 = time.perf_counter()
    images, _ = load_mnist("train", args.data_dir)
    load_seconds = time.perf_counter() - t0
    loader = DataLoader(datasets.MNIST(root, train=True, download=download, transform=transforms.ToTensor()),
                        batch_size=args.batch_size, shuffle=True)

    # One model per loop, so both see the same kind of weights all along.
    runs = {}
    for name in ("ours", "textbook"):
        model = VAE(hidden=args.hidden, depth=args.depth)
        runs[name] = (train.NegativeELBO(model), torch.optim.Adam(model.parameters(), lr=defaults.lr))
    ours(*runs["ours"], images, 5, args.batch_size)  # warm-up: allocator, first kernels
    textbook(*runs["textbook"], loader, 5)

    rates = {"ours": [], "textbook": []}
    for r in range(args.rounds):
        rates["ours"].append(ours(*runs["ours"], images, args.batches, args.batch_size))
        rates["textbook"].append(textbook(*runs["textbook"], loader, args.batches))
        print(f"round {r + 1}: ours {rates['ours'][-1]:8.0f} img/s   textbook {rates['textbook'][-1]:8.0f} img/s", flush=True)

    ours_batch, textbook_batch = [], []
    for _ in range(args.rounds):
        o, t = data_only(images, loader, args.batches, args.batch_size)
        ours_batch += o
        textbook_batch += t
    med = {k: statistics.median(v) for k, v in rates.items()}
    print(f"\nVAE(hidden={args.hidden}, depth={args.depth}), batch {args.batch_size}, {args.batches} batches x "
          f"{args.rounds} rounds, {torch.get_num_threads()} threads")
    print(f"ours (in-memory tensor, train_epoch): {med['ours']:8.0f} images/s (median)")
    print(f"textbook (ToTensor + DataLoader):     {med['textbook']:8.0f} images/s (median)")
    print(f"ratio ours/textbook: {med['ours'] / med['textbook']:.2f}x (goal >= 3x)")
    ours_data, textbook_data = statistics.median(ours_batch) * 1e3, statistics.median(textbook_batch) * 1e3
    print(f"making one batch alone (median): ours {ours_data:.3f} ms, textbook {textbook_data:.3f} ms "
          f"({textbook_data / ours_data:.0f}x); the rest of a step is the model's forward and backward pass")
    print(f"one-time cost of ours: loading MNIST into memory took {load_seconds:.2f} s")


if __name__ == "__main__":
    main()
