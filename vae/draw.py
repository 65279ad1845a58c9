"""Pictures of the latent space, drawn with numpy and PIL only.

Digit tiles and sheets, the manifold grid with its z ticks, and the latent map: the
test set's posterior means as a scatter coloured by digit, with markers, q(z|x)
ellipses, paths, boxes and a heat map drawn on top, plus the pixel <-> z mapping that
turns a click on a picture back into a point in z. Every function takes arrays and
returns or changes an image; the numbers come from vae.latent and vae.likelihood.

The map writes its classes' names (vae/data.py: MNIST's digits, or another dataset's names, as the
checkpoint records them) on their clusters and in its legend; explorer/static/draw.js draws the same.

The scatter is splatted with numpy rather than drawn point by point, and overlays are
drawn on a copy of a cached base map, so that a picture per request stays cheap.
"""
import base64
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from vae.data import DATASETS, DEFAULT_DATASET

# The ten classes' colours, chosen by measurement (bench/palette.py, judged by vae/colour.py): every
# pair at least 13.9 apart (CIEDE2000) under normal vision and simulated protanopia, deuteranopia and
# tritanopia, none near a grey, as the overlays are. Below 15 a pair is told apart by the digit that
# render_map writes on each cluster.
DIGIT_COLOURS = np.array(
    [
        (150, 105, 165), (195, 165, 120), (60, 135, 75), (150, 180, 255), (240, 15, 0),
        (105, 60, 120), (120, 255, 105), (120, 120, 255), (150, 0, 15), (0, 0, 240),
    ],
    dtype=np.uint8,
)
# Everything drawn over the classes is a grey, which no deficiency changes and no class colour is near:
# INK with white halos (markers, rings, the class labels), white edged with INK, HOVER's grey, and
# INK washed over the map (a density).
INK = (20, 20, 20)
HOVER = (120, 120, 120)
AXIS = (90, 90, 90)
LABEL_SIZE = 18  # a short class name (a digit) written on its class's cluster
# Names of at most SHORT_NAME characters (MNIST's digits, KMNIST's syllables) fit beside their colour's dot
# in the legend column. Longer ones (Fashion-MNIST's "Ankle boot") go under their dot there, and on the
# clusters, in NAME_SIZE type, which fits the widest in the column.
SHORT_NAME = 3
NAME_SIZE = 12
# The latent map's scatter: each point a disc of SPLAT_RADIUS pixels covering SPLAT_ALPHA of what is
# under it (splat), over faint grid lines of GRID_LINE grey at the ticks.
SPLAT_RADIUS = 1.6
SPLAT_ALPHA = 0.55
GRID_LINE = 236


@lru_cache(maxsize=8)
def font(size: int = 12) -> ImageFont.FreeTypeFont:
    """Pillow's bundled font, so no system fonts are needed."""
    return ImageFont.load_default(size=size)


# ---------------------------------------------------------------- digits


def enlarge(image: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour enlargement of a [H, W] or [H, W, C] array: every pixel becomes a scale x scale block."""
    return image.repeat(scale, axis=0).repeat(scale, axis=1)


def strip(images: np.ndarray, scale: int = 3, gap: int = 2) -> np.ndarray:
    """A row of uint8 digits [N, 28, 28] side by side, enlarged, separated by gap-wide white lines."""
    return tile(images[None], scale=scale, gap=gap)


def tile(images: np.ndarray, scale: int = 1, gap: int = 1) -> np.ndarray:
    """uint8 digits [R, C, 28, 28] -> one uint8 image of R x C enlarged cells with white gaps between them."""
    rows, cols, h, w = images.shape
    ch, cw = h * scale, w * scale
    # Give every cell a white gap on its right and bottom, lay the cells out with one
    # reshape, then trim the gap after the last row and column.
    cells = np.full((rows, cols, ch + gap, cw + gap), 255, dtype=np.uint8)
    cells[:, :, :ch, :cw] = images.repeat(scale, axis=2).repeat(scale, axis=3)
    out = cells.transpose(0, 2, 1, 3).reshape(rows * (ch + gap), cols * (cw + gap))
    return out[: out.shape[0] - gap, : out.shape[1] - gap]


# ---------------------------------------------------------------- manifold grid image


@dataclass(frozen=True)
class GridLayout:
    """Where the cells of a rendered manifold grid sit, to map a click back to a cell."""

    n: int
    cell: int  # cell side in pixels (28 * scale)
    gap: int
    left: int  # pixels left of the first cell (room for the z2 ticks)
    top: int


GRID_MARGINS = {"left": 52, "top": 36, "right": 14, "bottom": 40}  # top: room for the overlaid label


def grid_layout(n: int) -> GridLayout:
    """The layout render_grid uses for an n x n grid: cells about 600 pixels wide in all, ticks left and below."""
    scale = max(1, 600 // (28 * n))
    return GridLayout(n=n, cell=28 * scale, gap=1 if n > 10 else 2, left=GRID_MARGINS["left"], top=GRID_MARGINS["top"])


def tick_format(values: np.ndarray) -> str:
    """A format with enough decimals to tell neighbouring ticks apart."""
    step = np.min(np.abs(np.diff(values))) if len(values) > 1 else 1.0
    decimals = min(3, max(1, math.ceil(-math.log10(max(step, 1e-3))) + 1))
    return f"{{:.{decimals}f}}"


def render_grid(digits: np.ndarray, cols: np.ndarray, rows: np.ndarray) -> Image.Image:
    """uint8 digits [n*n, 28, 28] in row-major order, with the z1 of each column and z2 of
    each row -> the grid image with tick labels (grayscale: a third of RGB's bytes as PNG)."""
    n = len(cols)
    layout = grid_layout(n)
    cells = tile(digits.reshape(n, n, 28, 28), scale=layout.cell // 28, gap=layout.gap)
    h, w = cells.shape
    left, top = layout.left, layout.top
    image = Image.new("L", (left + w + GRID_MARGINS["right"], top + h + GRID_MARGINS["bottom"]), 255)
    image.paste(Image.fromarray(cells), (left, top))
    pitch = layout.cell + layout.gap
    every = max(1, math.ceil(n / 8))  # at most ~8 labels per axis so they never overlap
    centres = [i * pitch + layout.cell / 2 for i in range(0, n, every)]
    fmt_c, fmt_r = tick_format(cols), tick_format(rows)
    draw_axes(ImageDraw.Draw(image), (left, top, left + w, top + h),
              [(left + c, fmt_c.format(cols[i])) for c, i in zip(centres, range(0, n, every))],
              [(top + c, fmt_r.format(rows[i])) for c, i in zip(centres, range(0, n, every))], size=12)
    return image


def draw_axes(draw: ImageDraw.ImageDraw, box: tuple[float, float, float, float], x_ticks: list[tuple[float, str]],
              y_ticks: list[tuple[float, str]], size: int = 11) -> None:
    """Tick marks and labels below the plot box (z1) and left of it (z2), and the two axis names.
    Ticks are (pixel position, label); colours suit both greyscale ("L") and RGB images."""
    x0, y0, x1, y1 = box
    ink, axis = (INK, AXIS) if draw.mode == "RGB" else (INK[0], AXIS[0])
    for x, label in x_ticks:
        draw.line([(x, y1 + 1), (x, y1 + 5)], fill=axis)
        draw.text((x, y1 + 7), label, fill=ink, font=font(size), anchor="mt")
    for y, label in y_ticks:
        draw.line([(x0 - 5, y), (x0 - 1, y)], fill=axis)
        draw.text((x0 - 7, y), label, fill=ink, font=font(size), anchor="rm")
    draw.text(((x0 + x1) / 2, y1 + 23), "z1", fill=ink, font=font(13), anchor="mt")
    draw.text((4, (y0 + y1) / 2), "z2", fill=ink, font=font(13), anchor="lm")


def sample_sheet(digits: np.ndarray, scale: int = 2) -> np.ndarray:
    """uint8 digits [N, 28, 28] tiled into a near-square sheet (ceil(sqrt N) columns, blank cells black)."""
    n = len(digits)
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    padded = np.zeros((rows * cols, 28, 28), dtype=np.uint8)
    padded[:n] = digits
    return tile(padded.reshape(rows, cols, 28, 28), scale=scale, gap=2)


# ---------------------------------------------------------------- latent map


@dataclass(frozen=True)
class MapFrame:
    """A square window [z1_lo, z1_hi] x [z2_lo, z2_hi] of the latent plane drawn into a
    plot box of `plot` pixels whose top-left corner is at (left, top) in the map image."""

    centre: tuple[float, float] = (0.0, 0.0)
    half: float = 4.5  # half the side of the window, in z units
    plot: int = 480
    left: int = 44
    top: int = 36  # room for the label Gradio overlays on an image's top-left corner
    legend: int = 64  # width of the legend column right of the plot
    bottom: int = 40

    @property
    def size(self) -> tuple[int, int]:
        return self.left + self.plot + self.legend, self.top + self.plot + self.bottom

    @property
    def box(self) -> tuple[int, int, int, int]:
        return self.left, self.top, self.left + self.plot, self.top + self.plot

    @property
    def pixels_per_unit(self) -> float:
        return self.plot / (2 * self.half)

    def z_to_px(self, z: np.ndarray) -> np.ndarray:
        """Latent points [..., 2] -> image pixel coordinates [..., 2] (x right, y down; float)."""
        z = np.asarray(z, dtype=np.float64)
        x = self.left + (z[..., 0] - self.centre[0] + self.half) * self.pixels_per_unit
        y = self.top + (self.centre[1] + self.half - z[..., 1]) * self.pixels_per_unit
        return np.stack([x, y], axis=-1)

    def contains(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=np.float64)
        return (np.abs(z[..., 0] - self.centre[0]) <= self.half) & (np.abs(z[..., 1] - self.centre[1]) <= self.half)


def nice_step(width: float, ticks: int = 8) -> float:
    """A round tick step (1, 2 or 5 times a power of ten) giving about `ticks` ticks over width."""
    raw = width / ticks
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * power >= raw:
            return m * power
    return 10 * power


def splat(frame: MapFrame, z: np.ndarray, labels: np.ndarray, radius: float = SPLAT_RADIUS,
          alpha: float = SPLAT_ALPHA) -> np.ndarray:
    """The scatter of points z [N, 2] coloured by label, over white, as uint8 [plot, plot, 3].

    Each point paints a small disc. Where discs overlap the colours are averaged and
    the coverage grows as 1 - (1 - alpha)^count, so dense clusters look dense and no
    digit class hides another by being drawn last."""
    p = frame.z_to_px(z) - (frame.left, frame.top)
    r = int(math.ceil(radius))
    offsets = [(dx, dy) for dx in range(-r, r + 1) for dy in range(-r, r + 1) if dx * dx + dy * dy <= radius * radius]
    centre = np.round(p).astype(np.int64)
    xs = (centre[:, None, 0] + np.array([o[0] for o in offsets])).ravel()
    ys = (centre[:, None, 1] + np.array([o[1] for o in offsets])).ravel()
    colours = np.repeat(DIGIT_COLOURS[labels.astype(np.int64)].astype(np.float64), len(offsets), axis=0)
    keep = (xs >= 0) & (xs < frame.plot) & (ys >= 0) & (ys < frame.plot)
    flat = ys[keep] * frame.plot + xs[keep]
    count = np.bincount(flat, minlength=frame.plot**2).astype(np.float64)
    total = np.stack([np.bincount(flat, weights=colours[keep, c], minlength=frame.plot**2) for c in range(3)], axis=1)
    mean = total / np.maximum(count, 1)[:, None]
    cover = 1 - (1 - alpha) ** count
    out = 255 * (1 - cover[:, None]) + mean * cover[:, None]
    return out.reshape(frame.plot, frame.plot, 3).round().astype(np.uint8)


def class_centres(z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each digit's cluster centre [10, 2]: the median of its points z [N, 2] (NaN for a digit with none)."""
    return np.array([np.median(z[labels == d], axis=0) if (labels == d).any() else (np.nan, np.nan) for d in range(10)])


def short_names(names: Sequence[str]) -> bool:
    """Whether every class name fits beside its dot in the legend (see SHORT_NAME)."""
    return max(map(len, names)) <= SHORT_NAME


def draw_class_labels(plot: Image.Image, frame: MapFrame, centres: np.ndarray, names: Sequence[str]) -> None:
    """Each class's name written on its cluster's centre (those in the frame), on the plot box's picture, in
    ink with a white halo: a class is told by its name as well as its colour, which two classes may
    nearly share for some eyes."""
    draw = ImageDraw.Draw(plot)
    size = LABEL_SIZE if short_names(names) else NAME_SIZE
    for name, z in zip(names, centres):
        if frame.contains(z):
            x, y = _local(frame, z)
            draw.text((x, y), name, fill=INK, font=font(size), anchor="mm", stroke_width=3, stroke_fill="white")


def draw_legend(draw: ImageDraw.ImageDraw, frame: MapFrame, names: Sequence[str]) -> None:
    """Each class's colour as a dot in the column right of the plot, its name beside it, or under it when the
    names are long."""
    x1, y0 = frame.box[2], frame.box[1]
    beside = short_names(names)
    for d, name in enumerate(names):
        y = y0 + 14 + d * (22 if beside else 40)
        x = x1 + 20 if beside else x1 + frame.legend // 2
        draw.ellipse([x - 6, y - 6, x + 6, y + 6], fill=tuple(int(c) for c in DIGIT_COLOURS[d]))
        if beside:
            draw.text((x + 14, y), name, fill=INK, font=font(14), anchor="lm")
        else:
            draw.text((x, y + 9), name, fill=INK, font=font(NAME_SIZE), anchor="mt")


def render_map(frame: MapFrame, z: np.ndarray, labels: np.ndarray,
               names: Sequence[str] = DATASETS[DEFAULT_DATASET].classes) -> Image.Image:
    """The latent map: scatter of z [N, 2] coloured by label with each class's name on its cluster,
    a frame with z ticks and grid lines, and a legend naming the classes (`names`, by label)."""
    image = Image.new("RGB", frame.size, "white")
    scatter = splat(frame, z, labels)
    # Faint grid lines at the ticks help read off coordinates.
    step = nice_step(2 * frame.half)
    ticks1 = np.arange(math.ceil((frame.centre[0] - frame.half) / step), math.floor((frame.centre[0] + frame.half) / step) + 1) * step
    ticks2 = np.arange(math.ceil((frame.centre[1] - frame.half) / step), math.floor((frame.centre[1] + frame.half) / step) + 1) * step
    px1 = frame.z_to_px(np.stack([ticks1, np.full_like(ticks1, frame.centre[1])], axis=-1))[:, 0]
    px2 = frame.z_to_px(np.stack([np.full_like(ticks2, frame.centre[0]), ticks2], axis=-1))[:, 1]
    for x in np.round(px1 - frame.left).astype(int):
        if 0 <= x < frame.plot:
            scatter[:, x] = np.minimum(scatter[:, x], GRID_LINE)
    for y in np.round(px2 - frame.top).astype(int):
        if 0 <= y < frame.plot:
            scatter[y, :] = np.minimum(scatter[y, :], GRID_LINE)
    plot = Image.fromarray(scatter)
    draw_class_labels(plot, frame, class_centres(z, labels), names)
    image.paste(plot, (frame.left, frame.top))
    draw = ImageDraw.Draw(image)
    x0, y0, x1, y1 = frame.box
    draw.rectangle([x0 - 1, y0 - 1, x1, y1], outline=AXIS)
    fmt = f"{{:.{max(0, -math.floor(math.log10(step)))}f}}"
    draw_axes(draw, frame.box, [(x, fmt.format(t + 0.0)) for t, x in zip(ticks1, px1)],
              [(y, fmt.format(t + 0.0)) for t, y in zip(ticks2, px2)])
    draw_legend(draw, frame, names)
    return image


def to_palette(image: Image.Image, colours: int = 240) -> Image.Image:
    """A palette ("P") copy of a rendered map, for a base that overlays are drawn on per request:
    Gradio's PNG encoding is ~3x faster and the file half the size. The spare palette entries
    (256 - colours) take the overlays' own colours exactly as they are drawn."""
    return image.quantize(colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)


def png_bytes(image: Image.Image) -> bytes:
    """An image as the bytes of a PNG file."""
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def data_url(pixels: np.ndarray) -> str:
    """A uint8 picture as a PNG data URL, for a picture inside words (HTML) the server sends."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(Image.fromarray(pixels))).decode()


def _plot_layer(image: Image.Image, frame: MapFrame) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    """The plot box of the map cut out for drawing, so overlays are clipped to the plot."""
    plot = image.crop(frame.box)
    return plot, ImageDraw.Draw(plot)


def _paste_back(image: Image.Image, plot: Image.Image, frame: MapFrame) -> None:
    """Put a drawn-on plot box back. On a palette image the drawing may have added colours
    to the cut-out's palette, so the image takes that palette too."""
    if image.mode == "P":
        image.putpalette(plot.getpalette())
    image.paste(plot, frame.box[:2])


def _local(frame: MapFrame, z: np.ndarray) -> np.ndarray:
    return frame.z_to_px(z) - (frame.left, frame.top)


def draw_marker(image: Image.Image, frame: MapFrame, z: np.ndarray, colour: tuple[int, int, int] = INK, radius: int = 7) -> None:
    """A crosshair ring at z (in place), visible on any digit colour: dark ring with a white halo."""
    plot, draw = _plot_layer(image, frame)
    x, y = _local(frame, z)
    draw.ellipse([x - radius - 1, y - radius - 1, x + radius + 1, y + radius + 1], outline="white", width=5)
    draw.ellipse([x - radius, y - radius, x + radius, y + radius], outline=colour, width=3)
    for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        draw.line([(x + dx * (radius + 2), y + dy * (radius + 2)), (x + dx * (radius + 7), y + dy * (radius + 7))], fill=colour, width=2)
    _paste_back(image, plot, frame)


def draw_numbered(image: Image.Image, frame: MapFrame, z: np.ndarray, radius: int = 9) -> None:
    """Each point of z [N, 2] as a white disc edged with ink holding its number, 1 to N, in place."""
    plot, draw = _plot_layer(image, frame)
    for i, (x, y) in enumerate(_local(frame, np.asarray(z).reshape(-1, 2))):
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill="white", outline=INK, width=2)
        draw.text((x, y), str(i + 1), fill=INK, font=font(12), anchor="mm")
    _paste_back(image, plot, frame)


def draw_ellipses(image: Image.Image, frame: MapFrame, mu: np.ndarray, sigma: np.ndarray, ks: tuple[float, ...] = (1.0, 2.0),
                  colour: tuple[int, int, int] | str = INK, halo: tuple[int, int, int] | str = "white") -> None:
    """The k-sigma contours of the axis-aligned Gaussian q(z|x) = N(mu, diag sigma^2), in place, plus its mean:
    `colour` edged with `halo` on both sides, so that they read over any class and over a dark wash."""
    plot, draw = _plot_layer(image, frame)
    x, y = _local(frame, mu)
    for k in ks:
        rx, ry = k * sigma[0] * frame.pixels_per_unit, k * sigma[1] * frame.pixels_per_unit
        width = 2 if k == ks[0] else 1
        draw.ellipse([x - rx - 1, y - ry - 1, x + rx + 1, y + ry + 1], outline=halo, width=width + 2)
        draw.ellipse([x - rx, y - ry, x + rx, y + ry], outline=colour, width=width)
    draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=colour, outline=halo)
    _paste_back(image, plot, frame)


def draw_points(image: Image.Image, frame: MapFrame, z: np.ndarray, colour: tuple[int, int, int] | str = INK,
                outline: tuple[int, int, int] | str = "white", radius: float = 2.5) -> None:
    """Small filled dots at each z [N, 2] (e.g. reparameterized samples), edged with `outline`, in place."""
    plot, draw = _plot_layer(image, frame)
    for x, y in _local(frame, np.asarray(z).reshape(-1, 2)):
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=colour, outline=outline)
    _paste_back(image, plot, frame)


def draw_heatmap(image: Image.Image, frame: MapFrame, z1: np.ndarray, z2: np.ndarray, density: np.ndarray,
                 colour: tuple[int, int, int] = INK, opacity: float = 0.7) -> None:
    """A density on the grid z1 [W] x z2 [H] (density[i, j] at (z1[j], z2[i])) as a translucent
    wash, in place: opacity proportional to density / max, so the mode is darkest (in INK: a shade
    that no class colour is near)."""
    density = np.asarray(density, dtype=np.float64)
    if density.max() <= 0:
        return
    a = density / density.max()
    if z2[0] < z2[-1]:  # image rows go down while z2 goes up
        a = a[::-1]
    h, w = a.shape
    # Each grid value stands for a cell of the grid's step, so the wash covers half a step beyond the outer points.
    d1 = (z1[-1] - z1[0]) / max(w - 1, 1)
    d2 = abs(z2[-1] - z2[0]) / max(h - 1, 1)
    (xa, ya), (xb, yb) = _local(frame, np.array([[z1[0] - d1 / 2, max(z2[0], z2[-1]) + d2 / 2], [z1[-1] + d1 / 2, min(z2[0], z2[-1]) - d2 / 2]]))
    width, height = max(1, round(xb - xa)), max(1, round(yb - ya))
    alpha = Image.fromarray(np.round(255 * opacity * a).astype(np.uint8)).resize((width, height), Image.BILINEAR)
    plot = image.crop(frame.box)
    wash = Image.new("RGB", (width, height), colour)
    plot.paste(wash, (round(xa), round(ya)), alpha)
    _paste_back(image, plot, frame)
