"""Turn an uploaded picture of a digit into the 28x28 input the VAE was trained on.

MNIST digits are white ink on black, scaled to fit a 20x20 box keeping their aspect
ratio (with anti-aliasing), and placed in a 28x28 field so that their centre of mass
is in the middle. Uploads are anything but: photos of dark ink on off-white paper
under uneven light, drawings on a transparent canvas, 16-bit scans, palette GIFs.

`open_image` reads an upload safely: size limits are checked before anything is
decoded, and only the raster formats below are parsed. `prepare_image` redoes the
MNIST procedure on the picture. Every rejection is an `ImageError` whose message can
be shown to the user as is.
"""
import io
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000
# Photos are shrunk to this long side first: a digit needs far fewer pixels than a
# phone camera gives, and everything after this point costs time per pixel.
WORK_SIZE = 512
# Pillow can parse many more formats, some through external programs (EPS runs
# Ghostscript); uploads only ever need these.
IMAGE_FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF")  # JPEG includes multi-picture (MPO) phone photos
NOT_AN_IMAGE = "This file is not an image we can read (PNG, JPEG, GIF, WebP, BMP or TIFF)."
BLANK = "No digit found: the image is blank or has too little contrast. Draw or photograph a single dark digit on light paper (or a light one on dark)."

# The MNIST layout: the digit fits a DIGIT_BOX square inside a FIELD square, and its
# centre of mass sits at pixel index FIELD / 2 in both directions (measured on the
# MNIST test set: 13.99 rows, 14.01 columns).
FIELD = 28
DIGIT_BOX = 20
# Ink weaker than this fraction of the stroke level is noise (JPEG ringing, paper texture).
NOISE_FLOOR = 0.05
# At least this (on a 0..1 grey scale) and this many noise deviations separate ink from paper.
MIN_CONTRAST = 0.08
MIN_SNR = 6.0
# Mass share trimmed from each side when finding the ink's bounding box, so that
# stray specks far from the digit do not stretch the box.
TRIM = 0.001
# The ink level of a full stroke: this percentile of the pixels in the strokes' cores.
STROKE_PERCENTILE = 90


class ImageError(ValueError):
    """An upload we cannot turn into a digit; the message is meant for the user."""


def open_image(data: bytes | str | Path) -> Image.Image:
    """Read an uploaded image file (raw bytes, or the path of Gradio's temp file).

    Rejects empty files, files over MAX_UPLOAD_BYTES, images over MAX_PIXELS (judged
    from the header, before decoding), anything that is not a PNG/JPEG/GIF/WebP/BMP/TIFF
    and damaged or truncated files, all with an ImageError. Returns the first frame,
    turned upright by its EXIF orientation, in whatever mode the file has. Large JPEGs
    are decoded at a reduced scale (never below WORK_SIZE on either side).
    """
    raw = _read_upload(data)
    with warnings.catch_warnings():
        # Damaged metadata only earns a warning from Pillow: fatal damage raises anyway.
        warnings.simplefilter("ignore")
        # Pillow only warns between its own pixel limit and twice that; make it an error.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(raw), formats=IMAGE_FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageError(f"The image has too many pixels (the limit is {MAX_PIXELS // 1_000_000} megapixels).") from None
        except Exception:
            raise ImageError(NOT_AN_IMAGE) from None
        check_size(*image.size)
        image.draft(None, (WORK_SIZE, WORK_SIZE))
        try:
            image.load()
        except Exception:
            raise ImageError("The image file is damaged or incomplete (was the upload cut short?).") from None
        try:
            return ImageOps.exif_transpose(image)
        except Exception:
            return image  # unreadable EXIF data: the pixels themselves are fine


def check_size(width: int, height: int) -> None:
    """ImageError unless a picture of width x height has at least one and at most MAX_PIXELS pixels."""
    if width * height == 0:
        raise ImageError("The image has no pixels.")
    if width * height > MAX_PIXELS:
        raise ImageError(f"The image is too large: {width} x {height} pixels (the limit is {MAX_PIXELS // 1_000_000} megapixels).")


def _read_upload(data: bytes | str | Path) -> bytes:
    too_big = f"The file is too large (the limit is {MAX_UPLOAD_BYTES // (1024 * 1024)} MB)."
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
    elif isinstance(data, (str, Path)):
        path = Path(data)
        try:
            if path.stat().st_size > MAX_UPLOAD_BYTES:
                raise ImageError(too_big)
            with path.open("rb") as f:
                raw = f.read(MAX_UPLOAD_BYTES + 1)
        except OSError:
            raise ImageError("The uploaded file could not be read.") from None
    else:
        raise ImageError(f"Expected an image file, got {type(data).__name__}.")
    if not raw:
        raise ImageError("The file is empty.")
    if len(raw) > MAX_UPLOAD_BYTES:
        raise ImageError(too_big)
    return raw


def prepare_image(image: Image.Image | np.ndarray) -> torch.Tensor:
    """An MNIST-like input [1, 1, 28, 28] float32 in [0, 1] (white ink on black) from a picture.

    `image` is a PIL image (e.g. from open_image) or a numpy array HxW, HxWx1, HxWx3 or
    HxWx4 of uint8 (0..255) or float (0..1), as Gradio's image components give. Transparent
    pixels count as background, whatever their colour. Polarity (dark ink on light paper or
    the reverse) is detected; uneven lighting is removed by subtracting a smooth background;
    then the ink is cropped, scaled to fit 20x20 keeping its aspect ratio and centred by its
    centre of mass in 28x28, as MNIST was made. Raises ImageError for unusable input and for
    pictures without a digit.
    """
    if isinstance(image, np.ndarray):
        image = _array_to_image(image)
    elif not isinstance(image, Image.Image):
        raise ImageError(f"Expected an image, got {type(image).__name__}.")
    check_size(*image.size)
    gray, alpha = _gray_and_alpha(image)
    if alpha is not None:
        gray = _composite(gray, alpha)
    ink = _ink(gray)
    digit = _fit_box(_crop_to_ink(ink))
    return torch.from_numpy(_centre_by_mass(digit)).view(1, 1, FIELD, FIELD)


def _array_to_image(array: np.ndarray) -> Image.Image:
    """Validate a numpy picture and wrap it as an 8-bit PIL image (L, RGB or RGBA)."""
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (3, 4))):
        raise ImageError(f"Expected an image array of shape HxW, HxWx3 or HxWx4, got shape {tuple(array.shape)}.")
    check_size(array.shape[1], array.shape[0])
    if array.dtype == np.bool_:
        array = array.astype(np.uint8) * 255
    elif np.issubdtype(array.dtype, np.integer):
        if array.min() < 0 or array.max() > 255:
            raise ImageError("Integer pixel values must lie in 0..255.")
        array = array.astype(np.uint8)
    elif np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all():
            raise ImageError("The image contains NaN or infinite pixel values.")
        if array.min() < 0 or array.max() > 1:
            raise ImageError("Floating-point pixel values must lie in 0..1.")
        array = np.rint(array * 255).astype(np.uint8)
    else:
        raise ImageError(f"Unsupported pixel type {array.dtype}: use uint8 (0..255) or float (0..1).")
    return Image.fromarray(np.ascontiguousarray(array))


def _gray_and_alpha(image: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """Grey levels and opacity in [0, 1] (float32 arrays), shrunk to at most WORK_SIZE on the long side."""
    if image.mode.startswith("I;16") or image.mode in ("I", "F"):
        # 16- and 32-bit grey: Pillow's conversion to L would clip instead of scaling.
        scale = 65535.0 if image.mode != "F" else 1.0
        image, transparent = image.convert("F"), False
    else:
        scale = 255.0
        transparent = image.mode in ("LA", "La", "PA", "RGBA", "RGBa") or "transparency" in image.info
        try:
            image = image.convert("RGBA" if transparent else "L")
        except (ValueError, OSError):
            raise ImageError(f"Images in colour mode {image.mode} are not supported; save it as an ordinary RGB or greyscale picture.") from None
    image = _shrink(image)
    if transparent:
        rgba = image
        gray = np.asarray(rgba.convert("L"), dtype=np.float32) / scale
        alpha = np.asarray(rgba.getchannel("A"), dtype=np.float32) / scale
        return gray, alpha
    gray = np.asarray(image, dtype=np.float32) / scale
    return np.clip(np.nan_to_num(gray), 0.0, 1.0), None


def _shrink(image: Image.Image) -> Image.Image:
    width, height = image.size
    factor = WORK_SIZE / max(width, height)
    if factor >= 1:
        return image
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return image.resize(size, Image.Resampling.BOX, reducing_gap=2.0)


def _composite(gray: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Flatten onto a background: transparent pixels become background, never ink."""
    opaque = alpha > 0.5
    if not opaque.any():
        raise ImageError(BLANK)
    level = float(np.median(gray[opaque]))
    if opaque.mean() < 0.5:
        # Strokes on a transparent canvas: put them on a background that contrasts with them.
        background = 1.0 if level < 0.5 else 0.0
    else:
        # A picture with transparent margins: extend its own paper.
        background = level
    return gray * alpha + background * (1.0 - alpha)


def _ink(gray: np.ndarray) -> np.ndarray:
    """Ink strength in [0, 1] (0 = paper, 1 = full stroke) from grey levels of either polarity."""
    paper = _background(gray)
    flat = gray - paper
    smooth = _blur3(flat)
    if -smooth.min() > smooth.max():  # the strongest marks are darker than the paper
        # Light multiplies what paper and ink reflect: measure ink relative to the local
        # paper brightness, so a shadow dims the strokes' contrast no more than the paper.
        flat = -flat / np.maximum(paper, MIN_CONTRAST)
        smooth = _blur3(flat)
    noise = 1.4826 * float(np.median(np.abs(flat[::2, ::2])))  # robust std of the paper, which is most pixels
    contrast = float(smooth.max())
    if contrast < max(MIN_CONTRAST, MIN_SNR * noise):
        raise ImageError(BLANK)
    stroke = float(np.percentile(flat[smooth > contrast / 2], STROKE_PERCENTILE))
    floor = max(NOISE_FLOOR * stroke, 3 * noise)
    if stroke <= floor:
        raise ImageError(BLANK)
    return np.clip((flat - floor) / (stroke - floor), 0.0, 1.0)


def _background(gray: np.ndarray) -> np.ndarray:
    """The paper's brightness as a smooth quadratic surface fitted to the non-ink pixels.

    Ink covers a minority of the picture, so fitting to all pixels and then refitting to
    those close to the fit ignores it. A quadratic follows lighting gradients and
    vignetting; strokes are far too sharp to be absorbed by it.
    """
    height, width = gray.shape
    y = np.linspace(-0.5, 0.5, height, dtype=np.float32)[:, None]
    x = np.linspace(-0.5, 0.5, width, dtype=np.float32)[None, :]

    def quadratic(y: np.ndarray, x: np.ndarray) -> list[np.ndarray]:
        return [np.ones_like(y * x), x, y, x * x, x * y, y * y]

    step = max(1, int(np.sqrt(height * width / 10_000)))  # ~10k points are plenty for 6 coefficients
    a = np.stack(np.broadcast_arrays(*quadratic(y[::step], x[:, ::step])), axis=-1).reshape(-1, 6).astype(np.float64)
    b = gray[::step, ::step].reshape(-1).astype(np.float64)
    residual = b - np.median(b)
    for _ in range(3):
        spread = 1.4826 * np.median(np.abs(residual))
        keep = np.abs(residual) <= max(2.5 * spread, 1e-3)
        kept = a[keep]
        # Normal equations: 6 unknowns on [-0.5, 0.5] are well conditioned, and far cheaper than lstsq.
        coef = np.linalg.solve(kept.T @ kept + 1e-9 * np.eye(6), kept.T @ b[keep])
        residual = b - a @ coef
    return sum(c * term for c, term in zip(coef.astype(np.float32), quadratic(y, x)))


def _blur3(a: np.ndarray) -> np.ndarray:
    """3x3 mean, so single noisy pixels do not count as the strongest mark."""
    p = np.pad(a, 1, mode="edge")
    h, w = a.shape
    return sum(p[i:i + h, j:j + w] for i in range(3) for j in range(3)) / 9.0


def _crop_to_ink(ink: np.ndarray) -> np.ndarray:
    rows, cols = _span(ink.sum(axis=1)), _span(ink.sum(axis=0))
    return ink[rows, cols]


def _span(mass: np.ndarray) -> slice:
    """Index range holding all but TRIM of the mass at each end."""
    cut = TRIM * mass.sum()
    start = int(np.argmax(np.cumsum(mass) > cut))
    stop = len(mass) - int(np.argmax(np.cumsum(mass[::-1]) > cut))
    return slice(start, stop)


def _fit_box(ink: np.ndarray) -> np.ndarray:
    """Scale so the longer side is DIGIT_BOX pixels, keeping the aspect ratio, with anti-aliasing."""
    height, width = ink.shape
    factor = DIGIT_BOX / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    resample = Image.Resampling.BOX if factor < 1 else Image.Resampling.BILINEAR
    scaled = Image.fromarray(ink.astype(np.float32)).resize(size, resample)
    return np.clip(np.asarray(scaled, dtype=np.float32), 0.0, 1.0)


def _centre_by_mass(digit: np.ndarray) -> np.ndarray:
    height, width = digit.shape
    mass = digit.sum()
    cy = (digit.sum(axis=1) * np.arange(height)).sum() / mass
    cx = (digit.sum(axis=0) * np.arange(width)).sum() / mass
    top = int(np.clip(round(FIELD / 2 - cy), 0, FIELD - height))
    left = int(np.clip(round(FIELD / 2 - cx), 0, FIELD - width))
    field = np.zeros((FIELD, FIELD), dtype=np.float32)
    field[top:top + height, left:left + width] = digit
    return field
