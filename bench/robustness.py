"""Do photos and drawings of a digit reconstruct as the same digit as the clean MNIST original?

The requirement: a photo of a handwritten digit (dark ink on off-white paper, off-centre,
any size) and a drawing on a transparent canvas reconstruct as the same digit as the clean
MNIST original in at least 90% of cases. This builds such pictures from MNIST test digits:

  photo    the digit as dark pen ink on off-white paper, at a random position and scale on a
           canvas of random size and aspect (200-1200 px), under a lighting gradient, with
           sensor noise and blur, saved as JPEG;
  drawing  the digit as black ink whose opacity is the stroke, on a fully transparent canvas
           of random size (200-800 px), saved as PNG (what a sketchpad exports).

Each picture goes through vae.preprocess (open_image from the file's bytes, prepare_image)
and the VAE (encode, decode the posterior mean). Two judges of "the same digit":

  reconstruction  the digit the reconstruction shows, named by a k-nearest-neighbour
                  classifier over the MNIST training images (pixel space), must match the
                  one the clean original's reconstruction shows. This is the requirement read
                  literally, and the figure for the README.
  latent          the majority label of the nearest committed test-set latents
                  (checkpoints/test_latents.pt) at the picture's mu must match the one at the
                  clean original's mu. While the classes overlap a lot in the latent space
                  (a weakly trained model), this judge flips on tiny changes: printed as well,
                  next to the same judge's agreement for the clean digit moved by one pixel.

Run from the repository root:

    python -m bench.robustness --data-dir /work/shared/data --n 500
"""
import argparse
import io
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageFilter

from vae.data import load_mnist
from vae.model import load_model
from vae.preprocess import open_image, prepare_image

DEFAULT_LATENTS = Path(__file__).resolve().parent.parent / "checkpoints" / "test_latents.pt"
LATENT_K = 50  # best leave-one-out accuracy over the provisional test latents (k tried: 1 to 300)
PIXEL_K = 5


def knn_classify(points: torch.Tensor, ref_points: torch.Tensor, ref_labels: torch.Tensor, k: int) -> torch.Tensor:
    """Majority label of the k reference points nearest to each point (rows, any trailing shape). [N]"""
    points, ref_points = points.flatten(1), ref_points.flatten(1)
    nearest = torch.cat([torch.cdist(chunk, ref_points).topk(k, largest=False).indices for chunk in points.split(100)])
    return ref_labels[nearest].long().mode(dim=1).values


def _ink_map(digit: np.ndarray, size: int) -> np.ndarray:
    """The 28x28 digit (white on black, 0..1) scaled to size x size, as ink strength 0..1."""
    image = Image.fromarray(np.rint(digit * 255).astype(np.uint8)).resize((size, size), Image.Resampling.BICUBIC)
    return np.asarray(image, dtype=np.float32) / 255


def _place(digit: np.ndarray, width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """Ink strength on a height x width canvas: the digit at a random scale and position."""
    size = int(rng.uniform(0.15, 0.9) * min(width, height))
    top, left = rng.integers(0, height - size + 1), rng.integers(0, width - size + 1)
    ink = np.zeros((height, width), dtype=np.float32)
    ink[top:top + size, left:left + size] = _ink_map(digit, size)
    return ink


def synthetic_photo(digit: np.ndarray, rng: np.random.Generator) -> bytes:
    """JPEG bytes of the digit written in dark pen on off-white paper, photographed badly."""
    width, height = (int(v) for v in rng.integers(200, 1201, size=2))
    ink = _place(digit, width, height, rng)[..., None]
    paper = rng.uniform([215, 205, 180], [250, 245, 235])
    pen = rng.uniform([10, 10, 20], [70, 70, 110])
    ys, xs = np.mgrid[0:height, 0:width]
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * xs / width + np.sin(angle) * ys / height)
    ramp = (ramp - ramp.min()) / (ramp.max() - ramp.min())
    light = 1.0 - rng.uniform(0.05, 0.35) * ramp[..., None]
    pixels = (paper * (1 - ink) + pen * ink) * light + rng.normal(0, rng.uniform(1, 8), size=(height, width, 3))
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.5)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=int(rng.integers(50, 91)))
    return out.getvalue()


def synthetic_drawing(digit: np.ndarray, rng: np.random.Generator) -> bytes:
    """PNG bytes of the digit drawn in black on a fully transparent canvas."""
    width, height = (int(v) for v in rng.integers(200, 801, size=2))
    rgba = np.zeros((height, width, 4), dtype=np.uint8)
    rgba[..., 3] = np.rint(_place(digit, width, height, rng) * 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(rgba).save(out, "PNG")
    return out.getvalue()


@torch.no_grad()
def measure(model: torch.nn.Module, digits: torch.Tensor, labels: torch.Tensor,
            train_images: torch.Tensor, train_labels: torch.Tensor,
            latent_mu: torch.Tensor, latent_labels: torch.Tensor, seed: int = 0) -> dict[str, float]:
    """Agreement rates for photos and drawings made from `digits` [N, 1, 28, 28] in [0, 1].

    For kind in photo, drawing: "<kind>_same" is the share whose reconstruction shows the same
    digit as the clean original's (pixel kNN over train_images), "<kind>_true" the share
    whose reconstruction shows the true label, "<kind>_same_latent" the share with the same
    latent kNN label as the clean original. Also "clean_true" (the clean reconstructions'
    accuracy), "shifted_same_latent" (the latent judge for the clean digit moved one pixel
    right) and "ms_per_picture" (open_image + prepare_image).
    """
    def judge(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu = model.encode(x)[0]
        return (knn_classify(model.decode(mu), train_images, train_labels, PIXEL_K),
                knn_classify(mu, latent_mu, latent_labels, LATENT_K))

    rng = np.random.default_rng(seed)
    clean, clean_latent = judge(digits)
    result = {"clean_true": (clean == labels).float().mean().item(),
              "shifted_same_latent": (judge(digits.roll(1, dims=3))[1] == clean_latent).float().mean().item()}
    seconds = 0.0
    for kind, make in (("photo", synthetic_photo), ("drawing", synthetic_drawing)):
        files = [make(d[0].numpy(), rng) for d in digits]
        start = time.perf_counter()
        inputs = torch.cat([prepare_image(open_image(f)) for f in files])
        seconds += time.perf_counter() - start
        shown, latent = judge(inputs)
        result[f"{kind}_same"] = (shown == clean).float().mean().item()
        result[f"{kind}_true"] = (shown == labels).float().mean().item()
        result[f"{kind}_same_latent"] = (latent == clean_latent).float().mean().item()
    result["ms_per_picture"] = 1000 * seconds / (2 * len(digits))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None, help="folder holding MNIST/raw (default: $VAE_DATA_DIR)")
    parser.add_argument("--n", type=int, default=500, help="number of MNIST test digits")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint", default=None, help="VAE checkpoint (default: checkpoints/vae.pt)")
    parser.add_argument("--latents", default=str(DEFAULT_LATENTS), help="test-set latents with mu and labels")
    args = parser.parse_args()

    torch.set_num_threads(1)  # a shared machine; the pictures are prepared one at a time anyway
    images, labels = load_mnist("test", args.data_dir)
    train_images, train_labels = load_mnist("train", args.data_dir)
    pick = torch.from_numpy(np.random.default_rng(args.seed).choice(len(images), args.n, replace=False))
    latents = torch.load(args.latents, map_location="cpu", weights_only=True)
    r = measure(load_model(args.checkpoint), images[pick], labels[pick], train_images, train_labels,
                latents["mu"], latents["labels"], args.seed)
    print(f"{args.n} MNIST test digits (seed {args.seed}); reconstruction judge: {PIXEL_K}-NN over {len(train_images)} training images")
    for kind in ("photo", "drawing"):
        print(f"{kind:8} reconstructs as the same digit as the clean original: {r[kind + '_same']:.1%}"
              f"  (shows the true label: {r[kind + '_true']:.1%}; same {LATENT_K}-NN latent label: {r[kind + '_same_latent']:.1%})")
    print(f"clean originals' reconstructions show the true label: {r['clean_true']:.1%}; "
          f"the clean digit moved one pixel keeps its latent label: {r['shifted_same_latent']:.1%}")
    print(f"open_image + prepare_image: {r['ms_per_picture']:.1f} ms per picture")


if __name__ == "__main__":
    main()
