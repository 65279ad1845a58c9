"""A small CNN that names MNIST digits: a judge for the benchmarks that is not nearest-neighbour.

    python bench/classifier.py --data-dir ../shared/data      # ~3 minutes on 2 cores; prints its test accuracy

Two conv layers and two linear ones, trained with Adam for a few epochs on the 60,000 training
digits, lightly shifted and rotated so that it also judges digits that are not centred exactly as
MNIST's. Writes bench/classifier.pt (the weights in float16, 0.85 MB, the command and the test
accuracy of those very weights). The network and its loading are in vae/classifier.py:
bench/robustness.py asks it which digit a reconstruction shows, and vae.evaluate how legible a
VAE's prior samples are.
"""
import argparse
import shlex
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from vae.classifier import DEFAULT_CLASSIFIER as DEFAULT_OUT, DigitClassifier, predict  # noqa: E402
from vae.data import load_mnist  # noqa: E402


def jitter(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """x moved by up to 2 pixels and turned by up to 10 degrees, each digit its own way."""
    n = len(x)
    angle = (torch.rand(n, generator=generator) * 2 - 1) * (10 * torch.pi / 180)
    shift = (torch.rand(n, 2, generator=generator) * 2 - 1) * (2 / 14)  # 2 pixels in [-1, 1] units
    cos, sin = angle.cos(), angle.sin()
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, align_corners=False)


def main(argv: list[str] | None = None) -> float:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None, help="folder holding MNIST/raw/ (default: $VAE_DATA_DIR)")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(DEFAULT_OUT))
    args = p.parse_args(argv)

    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    train_x, train_y = load_mnist("train", args.data_dir)
    test_x, test_y = load_mnist("test", args.data_dir)
    model = DigitClassifier()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.time()
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(train_x), generator=generator)
        for group in opt.param_groups:
            group["lr"] = 1e-3 * 0.3 ** epoch
        for i in tqdm(range(0, len(order), 128), desc=f"epoch {epoch + 1}/{args.epochs}", leave=False):
            batch = order[i:i + 128]
            loss = F.cross_entropy(model(jitter(train_x[batch], generator)), train_y[batch].long())
            opt.zero_grad()
            loss.backward()
            opt.step()
        accuracy = (predict(model, test_x) == test_y).float().mean().item()
        print(f"epoch {epoch + 1}: MNIST test accuracy {accuracy:.2%}", flush=True)
    weights = {name: weight.half() for name, weight in model.state_dict().items()}  # half the file, same answers
    model.load_state_dict({name: weight.float() for name, weight in weights.items()})
    accuracy = (predict(model, test_x) == test_y).float().mean().item()
    command = "python bench/classifier.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    torch.save({"model": weights, "test_accuracy": accuracy, "command": command,
                "seconds": round(time.time() - start, 1)}, args.out)
    print(f"wrote {args.out}: MNIST test accuracy {accuracy:.2%} ({time.time() - start:.0f} s)")
    return accuracy


if __name__ == "__main__":
    main()
