"""vae/draw.py: digit tiles and sheets, the manifold grid with its ticks, the latent map,
its overlays and its pixel <-> z mapping. No browser, no dataset."""

import numpy as np
import pytest
import torch
from PIL import Image

from vae import draw, latent
from vae.model import VAE


@pytest.fixture(scope="module")
def model() -> VAE:
    torch.manual_seed(0)
    return VAE(hidden=32, depth=1).eval()


def test_enlarge_is_nearest_neighbour():
    a = np.array([[1, 2], [3, 4]], dtype=np.uint8)
    big = draw.enlarge(a, 3)
    assert big.shape == (6, 6)
    assert (big[:3, :3] == 1).all() and (big[3:, 3:] == 4).all() and (big[:3, 3:] == 2).all()


def test_tile_places_cells_with_white_gaps():
    digits = np.stack([np.full((28, 28), v, dtype=np.uint8) for v in (10, 20, 30, 40, 50, 60)]).reshape(2, 3, 28, 28)
    out = draw.tile(digits, scale=2, gap=3)
    assert out.shape == (2 * 56 + 3, 3 * 56 + 2 * 3)
    assert out[0, 0] == 10 and out[0, 56 + 3] == 20 and out[56 + 3, 2 * (56 + 3)] == 60
    assert (out[56:59, :] == 255).all() and (out[:, 56:59] == 255).all()


def test_tile_without_gaps_is_a_plain_mosaic():
    digits = np.arange(4, dtype=np.uint8).repeat(28 * 28).reshape(2, 2, 28, 28)
    out = draw.tile(digits, scale=1, gap=0)
    assert out.shape == (56, 56) and out[0, 0] == 0 and out[0, 28] == 1 and out[28, 0] == 2 and out[55, 55] == 3


def test_sample_sheet_is_near_square():
    sheet = draw.sample_sheet(np.full((10, 28, 28), 7, dtype=np.uint8), scale=1)
    # 10 digits -> 4 columns x 3 rows, gap 2
    assert sheet.shape == (3 * 28 + 2 * 2, 4 * 28 + 3 * 2)
    assert sheet[0, 0] == 7 and sheet[-1, -1] == 0  # the two unused cells are black


def test_render_grid_size_ticks_and_cell_lookup(model):
    n = 4
    cols, rows, points = latent.grid_points(0.0, 0.0, 3.0, n, "linear")
    digits = latent.decode_images(model, points)
    image = draw.render_grid(digits, cols, rows)
    layout = draw.grid_layout(n)
    pitch = layout.cell + layout.gap
    assert image.mode == "L"
    assert image.width == layout.left + n * layout.cell + (n - 1) * layout.gap + draw.GRID_MARGINS["right"]
    # the pixels of cell (row 2, col 1) are that digit, enlarged
    scale = layout.cell // 28
    y, x = layout.top + 2 * pitch, layout.left + 1 * pitch
    cell = np.asarray(image)[y : y + layout.cell, x : x + layout.cell]
    np.testing.assert_array_equal(cell, draw.enlarge(digits[2 * n + 1], scale))
    # tick labels were drawn left of and below the cells
    margin = np.asarray(image)[layout.top :, : layout.left - 2]
    assert (margin < 128).any()


def test_grid_layout_keeps_large_grids_near_600_pixels():
    assert draw.grid_layout(30).cell == 28
    assert draw.grid_layout(5).cell == 28 * 4
    assert draw.grid_layout(1).cell == 28 * 21


def test_pixel_z_round_trip_and_orientation():
    frame = draw.MapFrame()
    z = np.array([[0.0, 0.0], [1.0, 2.0], [-4.5, -4.5], [4.5, 4.5]])
    px = frame.z_to_px(z)
    left, top, right, bottom = frame.box
    np.testing.assert_allclose(px[0], [(left + right) / 2, (top + bottom) / 2])
    np.testing.assert_allclose(px[2], [left, bottom])  # lowest z is bottom-left: z2 points up
    np.testing.assert_allclose(px[3], [right, top])


def test_splat_colours_points_by_label():
    frame = draw.MapFrame()
    z = np.array([[-2.0, 2.0], [2.0, -2.0]])
    plot = draw.splat(frame, z, np.array([1, 3]))
    assert plot.shape == (frame.plot, frame.plot, 3)
    x, y = np.round(frame.z_to_px(z) - (frame.left, frame.top)).astype(int)[0]
    pixel = plot[y, x].astype(int)
    # a single point blends its colour over white with alpha 0.55
    expected = np.round(255 * 0.45 + draw.DIGIT_COLOURS[1] * 0.55)
    np.testing.assert_allclose(pixel, expected, atol=1)
    assert (plot[0, 0] == 255).all()  # empty space stays white


def test_render_map_and_overlays_change_only_what_they_should():
    frame = draw.MapFrame()
    rng = np.random.default_rng(0)
    base = draw.render_map(frame, rng.normal(size=(500, 2)), rng.integers(0, 10, 500))
    assert base.size == frame.size and base.mode == "RGB"
    before = np.asarray(base).copy()
    marked = base.copy()
    draw.draw_marker(marked, frame, np.array([1.0, 1.0]))
    diff = np.any(np.asarray(marked) != before, axis=-1)
    ys, xs = np.nonzero(diff)
    cx, cy = frame.z_to_px(np.array([1.0, 1.0]))
    assert diff.any() and np.abs(xs - cx).max() <= 16 and np.abs(ys - cy).max() <= 16
    np.testing.assert_array_equal(np.asarray(base), before)  # the cached base is untouched


def test_palette_map_keeps_overlay_colours_exact():
    frame = draw.MapFrame()
    rng = np.random.default_rng(1)
    base = draw.to_palette(draw.render_map(frame, rng.normal(size=(3000, 2)), rng.integers(0, 10, 3000)))
    assert base.mode == "P"
    image = base.copy()
    draw.draw_marker(image, frame, np.array([0.0, 0.0]), colour=(200, 0, 120))
    draw.draw_points(image, frame, np.array([[-1.0, -1.0], [1.0, 1.0]]), colour=draw.INK)
    rgb = np.asarray(image.convert("RGB")).reshape(-1, 3)
    assert ((rgb == (200, 0, 120)).all(axis=1)).sum() > 20
    assert ((rgb == draw.INK).all(axis=1)).sum() > 20


def test_overlays_are_clipped_to_the_plot():
    frame = draw.MapFrame()
    base = draw.render_map(frame, np.zeros((1, 2)), np.zeros(1, dtype=int))
    image = base.copy()
    draw.draw_ellipses(image, frame, np.array([4.4, 0.0]), np.array([2.0, 2.0]))
    diff = np.any(np.asarray(image) != np.asarray(base), axis=-1)
    left, top, right, bottom = frame.box
    outside = diff.copy()
    outside[top:bottom, left:right] = False
    assert diff.any() and not outside.any()


def test_ellipse_radii_follow_sigma():
    frame = draw.MapFrame()
    base = Image.new("RGB", frame.size, "white")
    image = base.copy()
    draw.draw_ellipses(image, frame, np.array([0.0, 0.0]), np.array([1.0, 0.5]), ks=(2.0,))
    ink = np.any(np.asarray(image) < 200, axis=-1)
    ys, xs = np.nonzero(ink)
    cx, cy = frame.z_to_px(np.zeros(2))
    assert (xs.max() - cx) == pytest.approx(2.0 * frame.pixels_per_unit, abs=2)
    assert (cy - ys.min()) == pytest.approx(1.0 * frame.pixels_per_unit, abs=2)


def test_heatmap_is_strongest_at_the_mode():
    frame = draw.MapFrame(centre=(1.0, 1.0), half=1.0)
    image = Image.new("RGB", frame.size, "white")
    z1 = np.linspace(0.5, 1.5, 41)
    z2 = np.linspace(0.5, 1.5, 41)
    density = np.exp(-((z1[None, :] - 1.2) ** 2 + (z2[:, None] - 0.8) ** 2) / 0.02)
    draw.draw_heatmap(image, frame, z1, z2, density)
    darkness = 255 - np.asarray(image).astype(int).sum(axis=-1)
    y, x = np.unravel_index(np.argmax(darkness), darkness.shape)
    np.testing.assert_allclose([x, y], frame.z_to_px(np.array([1.2, 0.8])), atol=0.03 * frame.pixels_per_unit)


def test_nice_step_is_round():
    assert draw.nice_step(9.0) == 2
    assert draw.nice_step(1.0) == pytest.approx(0.2)
    assert draw.nice_step(0.3) == pytest.approx(0.05)
