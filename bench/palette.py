"""How vae/draw.py's DIGIT_COLOURS were chosen: by measurement, under normal colour vision and the
three simulated deficiencies of vae/colour.py.

    python bench/palette.py        # ~1 minute on one core

1. Candidates: the sRGB colours on a grid of 18 levels a channel that the map can use (vae/colour.py's
   DARKEST, and FROM_WHITE and FROM_GREY under every vision: seen on white, never taken for an
   overlay's grey).
2. Ten of them whose closest pair, under whichever vision makes it closest, is as far apart as the
   search finds: from many starts, farthest-point picks, then swaps while one helps.
3. Which digit gets which colour: the pairs of colours closest together go to digits whose clusters
   are far apart on the default model's map (its test digits' medians), so that neighbours on the
   map differ most.
Prints the palette, to paste into vae/draw.py, and each vision's worst pair.
"""
import itertools
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from vae import colour  # noqa: E402

CHECKPOINTS = Path(__file__).resolve().parent.parent / "checkpoints"
STARTS = 200
NEIGHBOURS = 3  # a digit's map neighbours: the clusters nearest to its own


def candidates(levels: int = 18) -> np.ndarray:
    """The grid's colours [N, 3] that the map can use as class colours."""
    axis = np.linspace(0, 255, levels).round()
    rgb = np.array(list(itertools.product(axis, axis, axis)))
    white = np.array([255.0, 255.0, 255.0])
    keep = colour.to_lab(rgb)[:, 0] >= colour.DARKEST
    for vision in colour.VISIONS:
        keep &= (colour.from_greys(rgb, vision) >= colour.FROM_GREY) & (colour.difference(rgb, white, vision) >= colour.FROM_WHITE)
    return rgb[keep]


def closeness(rgb: np.ndarray) -> np.ndarray:
    """[N, N]: each pair's difference under the vision that makes it smallest (the diagonal infinite)."""
    out = np.full((len(rgb), len(rgb)), np.inf)
    for vision in colour.VISIONS:
        lab = colour.to_lab(colour.simulate(rgb, vision))
        for start in range(0, len(rgb), 256):  # rows in blocks: the full table's temporaries would not fit
            block = colour.ciede2000(lab[start:start + 256, None], lab[None])
            out[start:start + 256] = np.minimum(out[start:start + 256], block)
    np.fill_diagonal(out, np.inf)
    return out


def maximin(d: np.ndarray, n: int, rng: np.random.Generator) -> list[int]:
    """n indices whose smallest d among them is as large as the search finds."""
    best, best_score = [], -1.0
    for _ in range(STARTS):
        picked = [int(rng.integers(len(d)))]
        while len(picked) < n:
            far = d[:, picked].min(axis=1)
            far[picked] = -1
            picked.append(int(np.argmax(far)))
        score = d[np.ix_(picked, picked)].min()
        while True:  # swap the member that is closest to another for the candidate farthest from the rest
            for i in range(n):
                rest = picked[:i] + picked[i + 1:]
                far = d[:, rest].min(axis=1)
                far[rest] = -1
                j = int(np.argmax(far))
                new = min(far[j], d[np.ix_(rest, rest)].min())
                if new > score + 1e-9:
                    picked[i], score = j, new
                    break
            else:
                break
        if score > best_score:
            best, best_score = list(picked), score
    return best


def assign(d: np.ndarray, centres: np.ndarray) -> list[int]:
    """The order of the ten colours (d: their [10, 10] closeness) for digits 0-9 that makes the closest pair
    of colours among map neighbours as far apart as possible (then their sum): every order is tried."""
    dist = np.linalg.norm(centres[:, None] - centres[None], axis=-1)
    np.fill_diagonal(dist, np.inf)
    near = np.argsort(dist, axis=1)[:, :NEIGHBOURS]
    pairs = np.array(sorted({tuple(sorted((a, int(b)))) for a in range(10) for b in near[a]}))
    orders = np.array(list(itertools.permutations(range(10))))  # 3.6 million: ~10 s
    seen = d[orders[:, pairs[:, 0]], orders[:, pairs[:, 1]]]
    score = seen.min(axis=1) * 1000 + seen.sum(axis=1)
    return orders[int(np.argmax(score))].tolist()


def main() -> None:
    rgb = candidates()
    print(f"{len(rgb)} candidate colours")
    d = closeness(rgb)
    picked = rgb[maximin(d, 10, np.random.default_rng(0))]
    latents = torch.load(CHECKPOINTS / "test_latents.pt", map_location="cpu", weights_only=True)
    mu, labels = latents["mu"].double().numpy(), latents["labels"].numpy()
    centres = np.array([np.median(mu[labels == k], axis=0) for k in range(10)])
    palette = picked[assign(closeness(picked), centres)].astype(int)
    print("DIGIT_COLOURS =", palette.tolist())
    for vision in colour.VISIONS:
        worst, (a, b) = colour.worst_pair(palette, vision)
        print(f"{vision:>12}: worst pair {a}/{b} at {worst:.1f}")


if __name__ == "__main__":
    main()
