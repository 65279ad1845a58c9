"""Do pictures of a digit, as people make them, reconstruct as the same digit as the clean MNIST original?

    python -m bench.robustness --data-dir ../shared/data              # 300 digits per category
    python -m bench.robustness --data-dir ../shared/data --only marker lined

Builds pictures from MNIST test digits, one generator per category (CATEGORIES below): the
digit written with pens of every width (MNIST's strokes are 2-3 pixels of 28), on white, grey,
coloured, lined and squared paper, in coloured ink, under shadows, with specks and stray marks,
touching the edge, turned and seen at an angle, as a 12-megapixel phone photo stored sideways
with an EXIF orientation, as a 320x240 webcam frame, and drawn on a transparent canvas with the
drawing pad's thinnest and widest pens. Each picture goes through vae.preprocess (open_image on
the file's bytes, prepare_image) and the VAE as the app's reconstruction does: encode, then average
the digits decoded around q(z|x), weighted by p(z|x) ** 0.1, for the digit and its copies moved by a
pixel (vae.reading.posterior_reconstruction).

Two judges name the digit a reconstruction shows: a 5-nearest-neighbour classifier over the
60,000 MNIST training images (pixel space), and a small CNN (bench/classifier.py, trained by
that script; skipped with a note where bench/classifier.pt is missing). For each category
and judge: "same", the share whose reconstruction shows the same digit as the clean original's
reconstruction (the goal: >= 90%); "true", the share that shows the digit's true label; and "kept",
of the digits whose clean reconstruction shows the true label, the share whose picture's still does.
"same" also counts against a picture every clean reconstruction that is wrong (10% of them) and that
the picture's gets right or wrong differently; "kept" asks only whether a picture loses a digit the
VAE reads correctly from MNIST.
"""
import argparse
import io
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFilter
from scipy import ndimage

from vae.data import load_mnist
from vae.model import load_model
from vae.preprocess import ImageError, open_image, prepare_image, skeleton
from vae.reading import posterior_reconstruction

ROOT = Path(__file__).resolve().parent.parent
PIXEL_K = 5

# ---------------------------------------------------------------- the digit as ink


def ink_map(digit: np.ndarray, size: int) -> np.ndarray:
    """The 28x28 digit (white on black, 0..1) scaled to size x size, as ink strength 0..1."""
    image = Image.fromarray(np.rint(digit * 255).astype(np.uint8)).resize((size, size), Image.Resampling.BICUBIC)
    return np.asarray(image, dtype=np.float32) / 255


def pen(digit: np.ndarray, size: int, width: float) -> np.ndarray:
    """The digit rewritten at size x size with a round pen `width` times the size wide (MNIST's
    own pens are ~0.1): its skeleton drawn with a soft-edged disc."""
    ridge = skeleton(ink_map(digit, size) > 0.5)
    radius = max(0.5, width * size / 2)
    return np.clip(radius + 0.5 - ndimage.distance_transform_edt(~ridge), 0, 1).astype(np.float32)


def place(ink: np.ndarray, width: int, height: int, rng: np.random.Generator, top: int | None = None,
          left: int | None = None) -> np.ndarray:
    """`ink` on a height x width canvas at a random position (or the one given)."""
    size = ink.shape[0]
    top = rng.integers(0, height - size + 1) if top is None else top
    left = rng.integers(0, width - size + 1) if left is None else left
    canvas = np.zeros((height, width), dtype=np.float32)
    canvas[top:top + size, left:left + size] = ink
    return canvas


def canvas_size(rng: np.random.Generator, lo: int = 200, hi: int = 1200) -> tuple[int, int]:
    return tuple(int(v) for v in rng.integers(lo, hi + 1, size=2))


def digit_size(rng: np.random.Generator, width: int, height: int, lo: float = 0.15, hi: float = 0.9) -> int:
    return int(rng.uniform(lo, hi) * min(width, height))


# ---------------------------------------------------------------- paper, light and camera


def lighting(width: int, height: int, rng: np.random.Generator, strength: tuple[float, float] = (0.05, 0.35)) -> np.ndarray:
    """A brightness ramp across the picture, in some direction. [H, W, 1]"""
    ys, xs = np.mgrid[0:height, 0:width]
    angle = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(angle) * xs / width + np.sin(angle) * ys / height
    ramp = (ramp - ramp.min()) / (ramp.max() - ramp.min())
    return (1.0 - rng.uniform(*strength) * ramp)[..., None]


def shadow(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A soft-edged shadow (of a hand or a phone) over part of the picture. [H, W, 1]"""
    ys, xs = np.mgrid[0:height, 0:width]
    angle = rng.uniform(0, 2 * np.pi)
    along = np.cos(angle) * (xs - width / 2) + np.sin(angle) * (ys - height / 2)
    edge = rng.uniform(-0.3, 0.3) * min(width, height)
    soft = rng.uniform(0.02, 0.1) * min(width, height)
    dark = 1 / (1 + np.exp(-(along - edge) / soft))
    return (1.0 - rng.uniform(0.3, 0.55) * dark)[..., None]


def camera(pixels: np.ndarray, rng: np.random.Generator, noise: tuple[float, float] = (1, 8),
           blur: tuple[float, float] = (0.3, 1.5)) -> Image.Image:
    """Sensor noise and lens blur on an RGB float picture (0..255)."""
    pixels = pixels + rng.normal(0, rng.uniform(*noise), size=pixels.shape)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    return image.filter(ImageFilter.GaussianBlur(rng.uniform(*blur)))


def jpeg(image: Image.Image, rng: np.random.Generator, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=int(rng.integers(50, 91)), **options)
    return out.getvalue()


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def write(ink: np.ndarray, paper: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """Ink of `colour` (RGB) on paper (RGB or [H, W, 3]), ink strength 0..1: the RGB picture, 0..255."""
    ink = ink[..., None]
    return paper * (1 - ink) + colour * ink


OFF_WHITE = ([215, 205, 180], [250, 245, 235])
DARK_PEN = ([10, 10, 20], [70, 70, 110])


def photo_of(ink_on_canvas: Callable[[int, int], np.ndarray], rng: np.random.Generator, paper=OFF_WHITE, colour=DARK_PEN,
             light: bool = True) -> bytes:
    """The usual photo: ink on paper under a lighting ramp, noise, blur, JPEG."""
    width, height = canvas_size(rng)
    ink = ink_on_canvas(width, height)
    pixels = write(ink, rng.uniform(*paper), rng.uniform(*colour))
    if light:
        pixels = pixels * lighting(width, height, rng)
    return jpeg(camera(pixels, rng), rng)


def at_random(digit: np.ndarray, rng: np.random.Generator, width: float | None = None):
    """ink_on_canvas for photo_of: the digit at a random size and place, in MNIST's pen or one `width` wide."""
    def ink(w: int, h: int) -> np.ndarray:
        size = digit_size(rng, w, h)
        return place(ink_map(digit, size) if width is None else pen(digit, size, width), w, h, rng)
    return ink


# ---------------------------------------------------------------- the categories


def photo(digit, rng):
    """dark pen on off-white paper, off-centre, any size, lighting ramp, noise, blur, JPEG"""
    return photo_of(at_random(digit, rng), rng)


def drawing(digit, rng):
    """the ink as opacity on a transparent canvas (200-800 px), PNG"""
    width, height = canvas_size(rng, 200, 800)
    rgba = np.zeros((height, width, 4), dtype=np.uint8)
    rgba[..., 3] = np.rint(place(ink_map(digit, digit_size(rng, width, height)), width, height, rng) * 255)
    return png(Image.fromarray(rgba))


def pad_drawing(digit, rng, width_px: float):
    """The drawing pad: black strokes `width_px` wide on a transparent 280x280 canvas, the digit 135-200 px tall."""
    size = int(rng.uniform(190, 280))  # the 28x28 field; MNIST's digits fill 20 of its 28 pixels
    ink = pen(digit, size, width_px / size)
    rgba = np.zeros((280, 280, 4), dtype=np.uint8)
    rgba[..., 3] = np.rint(place(ink, 280, 280, rng) * 255)
    return png(Image.fromarray(rgba))


def pad_thin(digit, rng):
    """the drawing pad's thinnest pen (8 px of 280)"""
    return pad_drawing(digit, rng, 8)


def pad_wide(digit, rng):
    """the drawing pad's widest pen (28 px of 280)"""
    return pad_drawing(digit, rng, 28)


def marker(digit, rng):
    """a thick marker (a sixth to a quarter of the digit's height wide) on grey paper"""
    grey = rng.uniform(110, 190)
    return photo_of(at_random(digit, rng, rng.uniform(0.12, 0.18)), rng, paper=([grey] * 3, [grey + 10] * 3))


def felt_pen(digit, rng):
    """a felt pen (a seventh to a fifth of the digit's height wide) on white"""
    return photo_of(at_random(digit, rng, rng.uniform(0.10, 0.14)), rng)


def pencil(digit, rng):
    """a pencil: thin (0.025-0.045), grey and grainy"""
    width, height = canvas_size(rng)
    size = digit_size(rng, width, height, 0.25, 0.9)
    ink = place(pen(digit, size, rng.uniform(0.025, 0.045)), width, height, rng)
    ink *= rng.uniform(0.45, 0.75) * rng.uniform(0.6, 1.0, size=ink.shape)  # graphite leaves grain
    pixels = write(ink, rng.uniform(*OFF_WHITE), np.array([60, 60, 65])) * lighting(width, height, rng)
    return jpeg(camera(pixels, rng), rng)


PAPER_HUES = {"yellow": [250, 235, 140], "blue": [170, 200, 240], "pink": [245, 190, 210], "green": [190, 230, 180],
              "grey": [170, 170, 170], "kraft": [200, 170, 120]}


def coloured_paper(digit, rng):
    """dark pen on yellow, blue, pink, green, grey or brown paper"""
    hue = np.array(PAPER_HUES[rng.choice(list(PAPER_HUES))], dtype=float)
    return photo_of(at_random(digit, rng), rng, paper=(hue - 15, hue + 5))


def ruled(width: int, height: int, rng: np.random.Generator, squared: bool) -> tuple[np.ndarray, np.ndarray]:
    """Ruling lines (ink strength 0..1) and their colour: lines every 20-45 px, a grid if `squared`."""
    gap = rng.uniform(20, 45)
    thickness = rng.uniform(1, 2.5)
    offset = rng.uniform(0, gap)
    ys, xs = np.mgrid[0:height, 0:width]

    def lines(coord):
        d = np.abs((coord - offset + gap / 2) % gap - gap / 2)
        return np.clip(thickness / 2 + 0.5 - d, 0, 1)

    ink = lines(ys) if not squared else np.maximum(lines(ys), lines(xs))
    strength = rng.uniform(0.35, 0.7)
    colour = np.array([120, 160, 220]) if rng.random() < 0.7 else np.array([150, 150, 150])
    return (ink * strength).astype(np.float32), colour


def on_ruled_paper(digit, rng, squared: bool):
    width, height = canvas_size(rng, 300, 1200)
    lines, line_colour = ruled(width, height, rng, squared)
    paper = write(lines, rng.uniform([240, 240, 235], [255, 255, 250]), line_colour)
    size = digit_size(rng, width, height, 0.2, 0.8)
    pixels = write(place(ink_map(digit, size), width, height, rng), paper, rng.uniform(*DARK_PEN))
    return jpeg(camera(pixels * lighting(width, height, rng), rng), rng)


def lined(digit, rng):
    """dark pen on lined paper (blue or grey rules every 20-45 px)"""
    return on_ruled_paper(digit, rng, squared=False)


def squared(digit, rng):
    """dark pen on squared paper (a grid of rules every 20-45 px)"""
    return on_ruled_paper(digit, rng, squared=True)


def shadowed(digit, rng):
    """dark pen on off-white paper half in shadow, with a strong lighting ramp"""
    width, height = canvas_size(rng)
    ink = at_random(digit, rng)(width, height)
    pixels = write(ink, rng.uniform(*OFF_WHITE), rng.uniform(*DARK_PEN))
    pixels = pixels * lighting(width, height, rng, (0.3, 0.5)) * shadow(width, height, rng)
    return jpeg(camera(pixels, rng), rng)


INKS = {"blue ballpoint": ([20, 30, 120], [60, 80, 190], 0.08), "red marker": ([170, 10, 20], [220, 50, 60], 0.15),
        "green felt pen": ([10, 110, 40], [40, 150, 70], 0.11)}


def coloured_ink(digit, rng):
    """blue ballpoint, red marker or green felt pen, on white or coloured paper"""
    lo, hi, width = INKS[rng.choice(list(INKS))]
    paper = OFF_WHITE
    if rng.random() < 0.5:
        hue = np.array(PAPER_HUES[rng.choice(["yellow", "blue", "pink", "green"])], dtype=float)
        paper = (hue - 15, hue + 5)
    return photo_of(at_random(digit, rng, width * rng.uniform(0.8, 1.2)), rng, paper=paper, colour=(lo, hi))


def specks(digit, rng):
    """the photo, with 4-12 specks (dust, dots) and a short stray mark away from the digit"""
    def ink(width, height):
        size = digit_size(rng, width, height, 0.2, 0.6)
        canvas = place(ink_map(digit, size), width, height, rng)
        image = Image.fromarray(np.zeros((height, width), np.uint8))
        draw = ImageDraw.Draw(image)
        taken = ndimage.binary_dilation(canvas > 0.1, iterations=max(3, size // 8))
        for k in range(int(rng.integers(5, 14))):
            for _ in range(50):  # somewhere clear of the digit
                x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
                if not taken[y, x]:
                    break
            if k == 0:  # one stray line, shorter than a stroke of the digit
                length = rng.uniform(0.1, 0.25) * size
                angle = rng.uniform(0, np.pi)
                draw.line([(x, y), (x + length * np.cos(angle), y + length * np.sin(angle))], fill=255,
                          width=max(2, size // 14))
            else:
                r = rng.uniform(1, max(2, size / 40))
                draw.ellipse([x - r, y - r, x + r, y + r], fill=255)
        return np.maximum(canvas, np.asarray(image, dtype=np.float32) / 255)
    return photo_of(ink, rng)


def at_the_edge(digit, rng):
    """the photo, the digit touching one edge of the picture"""
    def ink(width, height):
        size = digit_size(rng, width, height, 0.3, 0.9)
        strokes = ink_map(digit, size)
        rows, cols = np.nonzero(strokes.any(axis=1))[0], np.nonzero(strokes.any(axis=0))[0]
        side = rng.integers(4)
        top, left = rng.integers(0, height - size + 1), rng.integers(0, width - size + 1)
        if side == 0:
            top = -rows[0]
        elif side == 1:
            top = height - 1 - rows[-1]
        elif side == 2:
            left = -cols[0]
        else:
            left = width - 1 - cols[-1]
        canvas = np.zeros((height + 2 * size, width + 2 * size), np.float32)
        canvas[top + size:top + 2 * size, left + size:left + 2 * size] = strokes
        return canvas[size:size + height, size:size + width]
    return photo_of(ink, rng)


def turned(digit, rng):
    """the photo turned by 5-15 degrees either way and seen at a mild angle (a perspective of up to 8%)"""
    width, height = canvas_size(rng, 300, 1200)
    size = digit_size(rng, width, height, 0.15, 0.7)
    margin = 0.1  # the perspective trims up to 8% of each side: the digit stays in the picture
    ink = place(ink_map(digit, size), width, height, rng, top=int(rng.uniform(margin * height, (1 - margin) * height - size)),
                left=int(rng.uniform(margin * width, (1 - margin) * width - size)))
    pixels = write(ink, rng.uniform(*OFF_WHITE), rng.uniform(*DARK_PEN)) * lighting(width, height, rng)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    paper = tuple(int(v) for v in np.median(pixels.reshape(-1, 3), axis=0))
    image = image.rotate(rng.choice([-1, 1]) * rng.uniform(5, 15), Image.Resampling.BICUBIC, expand=True, fillcolor=paper)
    # A mild perspective: the corners pulled in by up to 8% of the picture's size.
    width, height = image.size
    d = rng.uniform(0, 0.08, size=8) * np.array([width, height] * 4)
    quad = (d[0], d[1], d[2], height - d[3], width - d[4], height - d[5], width - d[6], d[7])
    image = image.transform((width, height), Image.Transform.QUAD, quad, Image.Resampling.BICUBIC, fillcolor=paper)
    return jpeg(camera(np.asarray(image, dtype=np.float32), rng, noise=(1, 4), blur=(0.3, 1.0)), rng)


def phone_12mp(digit, rng):
    """a 4000x3000 phone photo stored sideways or upside down, its EXIF orientation saying so"""
    width, height = 1000, 750  # made at a quarter of the size, then enlarged: 12 MP of noise cost seconds a picture
    size = int(rng.uniform(0.2, 0.6) * height)
    ink = place(ink_map(digit, size), width, height, rng)
    pixels = write(ink, rng.uniform(*OFF_WHITE), rng.uniform(*DARK_PEN)) * lighting(width, height, rng, (0.05, 0.2))
    image = camera(pixels, rng, noise=(2, 5), blur=(0.3, 0.8)).resize((4000, 3000), Image.Resampling.BICUBIC)
    orientation = int(rng.choice([3, 6, 8]))  # stored turned 180, 90 clockwise, 90 anticlockwise
    stored = image.transpose({3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90,
                              8: Image.Transpose.ROTATE_270}[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    return jpeg(stored, rng, exif=exif.tobytes())


def webcam(digit, rng):
    """a 320x240 webcam frame: the digit small (60-180 px), dim, noisy and soft"""
    width, height = 320, 240
    size = int(rng.uniform(60, 180))
    ink = place(ink_map(digit, size), width, height, rng)
    paper = rng.uniform(140, 200) * np.array([1.0, 0.97, 0.9])
    pixels = write(ink, paper, rng.uniform([40, 40, 45], [100, 100, 110])) * lighting(width, height, rng, (0.1, 0.4))
    return jpeg(camera(pixels, rng, noise=(4, 10), blur=(0.5, 1.2)), rng)


CATEGORIES: dict[str, Callable[[np.ndarray, np.random.Generator], bytes]] = {
    "photo": photo, "drawing": drawing, "pad thin": pad_thin, "pad wide": pad_wide, "marker": marker, "felt pen": felt_pen,
    "pencil": pencil, "coloured paper": coloured_paper, "lined": lined, "squared": squared, "shadow": shadowed,
    "coloured ink": coloured_ink, "specks": specks, "edge": at_the_edge, "turned": turned, "phone 12 MP": phone_12mp,
    "webcam": webcam}


# ---------------------------------------------------------------- judging


def knn_classify(points: torch.Tensor, ref_points: torch.Tensor, ref_labels: torch.Tensor, k: int) -> torch.Tensor:
    """Majority label of the k reference points nearest to each point (rows, any trailing shape). [N]"""
    points, ref_points = points.flatten(1), ref_points.flatten(1)
    nearest = torch.cat([torch.cdist(chunk, ref_points).topk(k, largest=False).indices for chunk in points.split(100)])
    return ref_labels[nearest].long().mode(dim=1).values


@torch.no_grad()
def measure(model: torch.nn.Module, digits: torch.Tensor, labels: torch.Tensor, train_images: torch.Tensor,
            train_labels: torch.Tensor, classifier: torch.nn.Module | None = None, categories: list[str] | None = None,
            seed: int = 0, progress: Callable[[str, dict], None] | None = None) -> dict[str, dict[str, float]]:
    """For each category: {"same_knn", "true_knn", "kept_knn"[, the same for "cnn"], "ms"} over pictures
    made from `digits` [N, 1, 28, 28] in [0, 1]; "same" is the share whose reconstruction shows the same
    digit as the clean original's, "true" the share that shows the label, "kept" the share that shows
    the label among the digits whose clean reconstruction does, "ms" the mean time of
    open_image + prepare_image, "refused" the share prepare_image refused (counted as not the same).
    Also "clean": the clean reconstructions' "true" shares. progress(category, its row) follows each category."""
    judges = {"knn": lambda x: knn_classify(x, train_images, train_labels, PIXEL_K)}
    if classifier is not None:
        judges["cnn"] = lambda x: classifier(x).argmax(1)

    def named(x: torch.Tensor) -> dict[str, torch.Tensor]:
        shown = posterior_reconstruction(model, x).image
        return {name: judge(shown) for name, judge in judges.items()}

    clean = named(digits)
    read = {j: clean[j] == labels for j in judges}  # the digits each judge finds right in the clean reconstructions
    results = {"clean": {f"true_{j}": read[j].float().mean().item() for j in judges}}
    for name in categories or list(CATEGORIES):
        rng = np.random.default_rng([seed, sum(map(ord, name))])
        files = [CATEGORIES[name](d[0].numpy(), rng) for d in digits]
        start = time.perf_counter()
        inputs, refused = [], 0
        for f in files:
            try:
                inputs.append(prepare_image(open_image(f)))
            except ImageError:  # counted as a failure: an empty field reconstructs as no digit in particular
                inputs.append(torch.zeros(1, 1, 28, 28))
                refused += 1
        ms = 1000 * (time.perf_counter() - start) / len(files)
        shown = named(torch.cat(inputs))
        results[name] = {"ms": ms, "refused": refused / len(files)}
        for j in judges:
            results[name][f"same_{j}"] = (shown[j] == clean[j]).float().mean().item()
            results[name][f"true_{j}"] = (shown[j] == labels).float().mean().item()
            results[name][f"kept_{j}"] = (shown[j][read[j]] == labels[read[j]]).float().mean().item()
        if progress:
            progress(name, results[name])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None, help="folder holding MNIST/raw (default: $VAE_DATA_DIR)")
    parser.add_argument("--n", type=int, default=300, help="MNIST test digits per category")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint", default=None, help="VAE checkpoint (default: checkpoints/vae.pt)")
    parser.add_argument("--classifier", default=str(ROOT / "bench" / "classifier.pt"), help="bench/classifier.py's output")
    parser.add_argument("--only", nargs="*", choices=list(CATEGORIES), help="these categories only")
    args = parser.parse_args()

    from vae.classifier import load_classifier

    torch.set_num_threads(1)  # a shared machine; the pictures are prepared one at a time anyway
    images, labels = load_mnist("test", args.data_dir)
    train_images, train_labels = load_mnist("train", args.data_dir)
    pick = torch.from_numpy(np.random.default_rng(args.seed).choice(len(images), args.n, replace=False))
    classifier = load_classifier(args.classifier) if Path(args.classifier).exists() else None
    if classifier is None:
        print(f"no {args.classifier}: only the kNN judge (python bench/classifier.py makes the CNN)")
    judges = ["knn"] + (["cnn"] if classifier is not None else [])
    print(f"{args.n} MNIST test digits per category (seed {args.seed}); judges: {PIXEL_K}-NN over the training "
          f"images{', the CNN of bench/classifier.py' if classifier is not None else ''}")
    print(f"{'category':16s}" + "".join(f"  same ({j})  true ({j})  kept ({j})" for j in judges) + "  refused  ms/picture")

    def row(name: str, r: dict) -> None:
        cells = "".join(f"  {r[f'same_{j}']:9.1%}  {r[f'true_{j}']:9.1%}  {r[f'kept_{j}']:9.1%}" for j in judges)
        print(f"{name:16s}{cells}  {r['refused']:7.1%}  {r['ms']:9.1f}", flush=True)

    r = measure(load_model(args.checkpoint), images[pick], labels[pick], train_images, train_labels, classifier,
                args.only, args.seed, progress=row)
    print("clean originals' reconstructions show the true label: " + ", ".join(f"{r['clean'][f'true_{j}']:.1%} ({j})" for j in judges))


if __name__ == "__main__":
    main()
