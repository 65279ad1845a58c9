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
from scipy import ndimage

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
# Pen widths are measured and rewritten on the crop scaled to this longer side: 4x MNIST's 20-pixel box.
WIDTH_SCALE = 80
# There, ink above this level is stroke: what the skeleton thins, the pen's width is measured on and filled
# loops are found in.
STROKE_LEVEL = 0.5
# MNIST's pens at WIDTH_SCALE, by strokes_and_width over 5,000 training digits (every 12th): the median,
# and the 2nd and 98th percentiles. Strokes outside that range are thinned or thickened to the median.
MNIST_WIDTH, MNIST_WIDTH_RANGE = 9.65, (5.46, 18.25)
# A pen wider than a loop fills it, and leaves ink deeper than FILLED_LOOP times its half-width (a
# stroke is never deeper than that, nor a corner of 40 degrees or more). The loop is the rim of the ink's
# core at the pen's half-width, less LOOP_SLACK pixels at WIDTH_SCALE for a picture's ragged edges.
FILLED_LOOP, LOOP_SLACK = 1.5, 1.5
# A digit smaller than this (pixels, its longer side) is enlarged from very little: said in the notes.
TINY = 12
# A separate mark is dropped when its nearest pixel is this far from the largest one's strokes (in the
# largest one's sizes)...
FAR = 0.12
# ...or holds less than this share of the largest one's ink wherever it is.
SPECK = 0.03
# Ruled paper: rows (or columns) where at least RULE_COVER of the pixels hold ink, in at least RULE_LINES
# separate runs; no digit crosses the whole picture three times.
RULE_COVER, RULE_LINES = 0.85, 3
RULE_LEVEL = 0.02  # ...and at a level above this (a row of paper is 0)
RULE_LENGTH = 64  # pixels: a picture narrower than this has no rules to find across it


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


def prepare_image(image: Image.Image | np.ndarray, notes: list[str] | None = None) -> torch.Tensor:
    """An MNIST-like input [1, 1, 28, 28] float32 in [0, 1] (white ink on black) from a picture.

    `image` is a PIL image (e.g. from open_image) or a numpy array HxW, HxWx1, HxWx3 or
    HxWx4 of uint8 (0..255) or float (0..1), as Gradio's image components give. Transparent
    pixels count as background, whatever their colour. Polarity (dark ink on light paper or
    the reverse) is detected; uneven lighting and shadows are removed against the paper's own
    brightness; the rules of lined or squared paper and marks apart from the digit are dropped;
    strokes much thinner or thicker than MNIST's pens are redrawn at MNIST's width; then the ink
    is cropped, scaled to fit 20x20 keeping its aspect ratio and centred by its centre of mass in
    28x28, as MNIST was made. Raises ImageError for unusable input and for pictures without a
    digit. Where the picture is doubtful, a sentence saying what was done is appended to `notes`.
    """
    if isinstance(image, np.ndarray):
        image = _array_to_image(image)
    elif not isinstance(image, Image.Image):
        raise ImageError(f"Expected an image, got {type(image).__name__}.")
    check_size(*image.size)
    notes = [] if notes is None else notes
    gray, alpha = _gray_and_alpha(image)
    if alpha is not None:
        gray = _composite(gray, alpha)
    ink = _crop_to_ink(keep_the_digit(remove_rules(_ink(gray, notes)), notes))
    if not ink.any():
        raise ImageError(BLANK)
    if max(ink.shape) < TINY:
        notes.append(f"The digit is only {max(ink.shape)} pixels tall in the picture; "
                     f"it was enlarged {DIGIT_BOX / max(ink.shape):.0f}-fold.")
    digit = _fit_box(_crop_to_ink(mnist_pen(ink)))
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


def _ink(gray: np.ndarray, notes: list[str]) -> np.ndarray:
    """Ink strength in [0, 1] (0 = paper, 1 = full stroke) from grey levels of either polarity."""
    paper = _background(gray)
    marks = _blur3(gray - paper)
    dark = -marks.min() > marks.max()  # the strongest marks are darker than the paper
    paper = paper + _shade(gray - paper, dark)
    flat = gray - paper
    smooth = _blur3(flat)
    if dark:
        # Light multiplies what paper and ink reflect: measure ink relative to the local
        # paper brightness, so a shadow dims the strokes' contrast no more than the paper.
        flat = -flat / np.maximum(paper, MIN_CONTRAST)
        smooth = _blur3(flat)
    noise = 1.4826 * float(np.median(np.abs(flat[::2, ::2])))  # robust std of the paper, which is most pixels
    contrast = float(smooth.max())
    if contrast < max(MIN_CONTRAST, MIN_SNR * noise):
        raise ImageError(BLANK)
    if contrast < 2 * max(MIN_CONTRAST, MIN_SNR * noise):
        notes.append("The contrast between ink and paper is very low; the digit may be misread.")
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


def _shade(residual: np.ndarray, dark_ink: bool) -> np.ndarray:
    """What the paper's brightness does beyond the quadratic (a shadow's edge, a fold), from the
    residual of that fit: its morphological closing over squares of a third of the picture (an
    opening for light ink), which erases every stroke narrower than that and keeps every larger
    patch of light or shade, edges included. The closing sits on the paper's noise peaks: the
    median gap between it and the residual, most pixels being paper, is taken back off."""
    size = max(3, min(residual.shape) // 3)
    close = ndimage.grey_closing if dark_ink else ndimage.grey_opening
    level = close(residual, size=(size, size))
    return level - np.median(level - residual)


def _blur3(a: np.ndarray) -> np.ndarray:
    """3x3 mean, so single noisy pixels do not count as the strongest mark."""
    p = np.pad(a, 1, mode="edge")
    h, w = a.shape
    return sum(p[i:i + h, j:j + w] for i in range(3) for j in range(3)) / 9.0


def remove_rules(ink: np.ndarray) -> np.ndarray:
    """The ink without the printed rules of lined or squared paper: rows (then columns) where ink
    crosses nearly the whole picture, in RULE_LINES or more separate runs. Each such row keeps
    what rises above its rule's own level, so strokes crossing a rule stay whole."""
    for axis in (1, 0):
        if ink.shape[axis] < RULE_LENGTH:
            continue
        level = np.quantile(ink, 1 - RULE_COVER, axis=axis)  # exceeded by RULE_COVER of the row's pixels
        ruled = level > RULE_LEVEL
        starts = np.count_nonzero(ruled[1:] & ~ruled[:-1]) + int(ruled[0])
        if starts < RULE_LINES:
            continue
        level = np.where(ruled, level, 0.0)
        level = level[:, None] if axis == 1 else level[None, :]
        ink = np.clip((ink - level) / np.maximum(1.0 - level, 1e-3), 0.0, 1.0)
    return ink


def keep_the_digit(ink: np.ndarray, notes: list[str]) -> np.ndarray:
    """The ink of the digit alone. Strokes within a few pixels of each other form one mark (a
    pencil's broken line, a speck's faint halo); of the marks, the one holding the most ink is kept,
    with those whose nearest pixel lies within FAR of its size from its strokes unless they are specks
    (under SPECK of its ink), and everything else becomes paper. Distances are to the strokes, not to
    their bounding box: a dot beside a 1 or inside the curve of a 5 is as far from the digit as it
    looks. A dropped mark holding half as much ink as the kept one or more makes the picture
    doubtful: said in `notes`."""
    reach = max(2, round(0.01 * max(ink.shape)))
    marks, count = ndimage.label(ndimage.binary_dilation(ink > 0.25, iterations=reach), structure=np.ones((3, 3)))
    if count == 0:
        return ink
    if count == 1:  # no other mark to measure against: only the faint ink apart from this one goes
        return np.where(marks > 0, ink, 0.0)
    mass = ndimage.sum_labels(ink, marks, index=np.arange(1, count + 1))
    boxes = ndimage.find_objects(marks)
    main = int(np.argmax(mass))
    rows, cols = boxes[main]
    near = FAR * max(rows.stop - rows.start, cols.stop - cols.start)
    # Only marks within `near` of the digit's box can be within `near` of its strokes: measure there.
    pad = int(np.ceil(near)) + 1
    around = (slice(max(rows.start - pad, 0), rows.stop + pad), slice(max(cols.start - pad, 0), cols.stop + pad))
    distance = ndimage.distance_transform_edt(marks[around] != main + 1)
    closest = ndimage.minimum(distance, marks[around], index=np.arange(1, count + 1))
    closest = np.where(np.isin(np.arange(1, count + 1), marks[around]), closest, np.inf)
    keep = np.concatenate([[False], (closest <= near) & (mass >= SPECK * mass[main])])
    keep[main + 1] = True
    rivals = int(np.count_nonzero(~keep[1:] & (mass >= 0.5 * mass[main])))
    if rivals:
        notes.append(f"{rivals + 1} separate marks of a similar size found; used the largest.")
    return np.where(keep[marks], ink, 0.0)


def skeleton(strokes: np.ndarray) -> np.ndarray:
    """The centre lines of the strokes (a boolean map), one pixel wide, by Zhang and Suen's thinning
    (1984): border pixels are peeled off, from the south-east then from the north-west, wherever
    that keeps the strokes connected and their ends in place."""
    m = np.pad(strokes, 1).astype(np.uint8)
    while True:
        changed = False
        for first in (True, False):
            c = m[1:-1, 1:-1]
            n, ne, e, se, s, sw, w, nw = (m[:-2, 1:-1], m[:-2, 2:], m[1:-1, 2:], m[2:, 2:], m[2:, 1:-1], m[2:, :-2],
                                          m[1:-1, :-2], m[:-2, :-2])
            ring = [n, ne, e, se, s, sw, w, nw, n]
            neighbours = sum(ring[:8])
            crossings = sum((ring[i] == 0) & (ring[i + 1] == 1) for i in range(8))
            side = (n * e * s == 0) & (e * s * w == 0) if first else (n * e * w == 0) & (n * s * w == 0)
            peel = (c == 1) & (neighbours >= 2) & (neighbours <= 6) & (crossings == 1) & side
            if peel.any():
                c[peel] = 0
                changed = True
        if not changed:
            return m[1:-1, 1:-1].astype(bool)


def hollow_filled_loops(strokes: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """The skeleton `lines` of `strokes` (boolean maps) with the loops that a wide pen filled drawn back.

    A round pen of half-width r leaves ink no deeper than r from the paper, except where its passes
    overlap: a loop narrower than the pen fills solid, and a skeleton shrinks the solid blob to a point
    or a line, turning a 9 into a 7 and an 8 into a 1. The pen's path around the loop is where the ink
    is r deep: the rim of the blob's core deeper than that, drawn instead of the blob's skeleton, is the
    loop again. r is the median depth along the skeleton."""
    depth = ndimage.distance_transform_edt(np.pad(strokes, 1))[1:-1, 1:-1]
    r = np.median(depth[lines])
    deep = depth >= FILLED_LOOP * r
    if not deep.any():
        return lines
    core = depth >= r - LOOP_SLACK
    filled = core & (ndimage.distance_transform_edt(~deep) <= (FILLED_LOOP - 1) * r + LOOP_SLACK)
    rim = ndimage.binary_dilation(filled) & ~filled
    return skeleton((lines & ~filled) | rim)


def strokes_and_width(ink: np.ndarray) -> tuple[np.ndarray, float]:
    """The strokes' skeleton, and the pen's width in pixels: their area over the skeleton's length
    (0 for no strokes)."""
    strokes = ink > STROKE_LEVEL
    lines = skeleton(strokes)
    length = np.count_nonzero(lines)
    return lines, np.count_nonzero(strokes) / length if length else 0.0


def mnist_pen(crop: np.ndarray) -> np.ndarray:
    """The cropped ink, its strokes redrawn where they are thinner or thicker than MNIST's pens ever
    are (MNIST_WIDTH_RANGE, measured on the crop scaled to WIDTH_SCALE): there, their skeleton at that
    scale drawn with MNIST's median pen (MNIST_WIDTH), with the loops a wide pen filled drawn back. A
    marker, a pencil and the drawing pad's widest pen all give MNIST's strokes; MNIST's own pens are left
    as they are."""
    height, width = crop.shape
    factor = WIDTH_SCALE / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    ink = np.clip(np.asarray(Image.fromarray(crop.astype(np.float32)).resize(size, Image.Resampling.BILINEAR)), 0.0, 1.0)
    lines, width = strokes_and_width(ink)
    lo, hi = MNIST_WIDTH_RANGE
    if not width or lo <= width <= hi:
        return crop  # MNIST's own pens: the picture as it is
    if width > hi:
        lines = hollow_filled_loops(ink > STROKE_LEVEL, lines)
    # The pen adds its width to the digit's extent, and the digit is then scaled to fit the box again:
    # a pen of MNIST_WIDTH * extent / (WIDTH_SCALE - MNIST_WIDTH) ends up MNIST_WIDTH wide at WIDTH_SCALE.
    rows, cols = np.nonzero(lines)
    extent = max(np.ptp(rows), np.ptp(cols)) + 1
    pen = MNIST_WIDTH * extent / (WIDTH_SCALE - MNIST_WIDTH)
    lines = np.pad(lines, int(pen) + 2)  # room for the pen beyond the skeleton's ends
    return np.clip(pen / 2 + 0.5 - ndimage.distance_transform_edt(~lines), 0.0, 1.0).astype(np.float32)


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
