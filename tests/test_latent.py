"""vae/latent.py: decoding to images, grid coordinates, sampling, paths, the latent map
and its pixel <-> z mapping, and the ELBO anatomy numbers. No browser, no dataset."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from vae import latent
from vae.model import ELU, VAE, elbo


@pytest.fixture(scope="module")
def model() -> VAE:
    torch.manual_seed(0)
    return VAE(hidden=32, depth=1).eval()


# ---------------------------------------------------------------- decoding


def test_to_uint8_scales_and_rounds():
    x = torch.tensor([0.0, 0.5, 1.0, 1.2, -0.1]).repeat(157)[:784].view(1, 1, 28, 28)
    out = latent.to_uint8(x)
    assert out.dtype == np.uint8 and out.shape == (1, 28, 28)
    assert out.ravel()[:5].tolist() == [0, 128, 255, 255, 0]


def test_decode_images_matches_model_decode(model):
    z = np.array([[0.0, 0.0], [1.5, -2.0], [-3.0, 0.7]])
    out = latent.decode_images(model, z)
    assert out.shape == (3, 28, 28) and out.dtype == np.uint8
    with torch.no_grad():
        expected = model.decode(torch.tensor(z, dtype=torch.float32)).mul(255).round().view(3, 28, 28).numpy()
    np.testing.assert_array_equal(out, expected.astype(np.uint8))


def test_model_elu_is_torch_elu():
    x = torch.linspace(-30, 30, 100_001)
    torch.testing.assert_close(ELU()(x), torch.nn.functional.elu(x), atol=1e-6, rtol=1e-6)


def test_display_decoder_draws_the_same_digits(model):
    fast = latent.display_decoder(model)
    z = latent.prior_samples(200, 0).numpy() * 2
    a = latent.decode_images(model, z).astype(int)
    b = latent.decode_images(fast, z).astype(int)
    assert np.abs(a - b).max() <= 8 and np.abs(a - b).mean() < 0.5
    assert next(model.parameters()).dtype == torch.float32  # the original is untouched


def test_enlarge_is_nearest_neighbour():
    a = np.array([[1, 2], [3, 4]], dtype=np.uint8)
    big = latent.enlarge(a, 3)
    assert big.shape == (6, 6)
    assert (big[:3, :3] == 1).all() and (big[3:, 3:] == 4).all() and (big[:3, 3:] == 2).all()


def test_tile_places_cells_with_white_gaps():
    digits = np.stack([np.full((28, 28), v, dtype=np.uint8) for v in (10, 20, 30, 40, 50, 60)]).reshape(2, 3, 28, 28)
    out = latent.tile(digits, scale=2, gap=3)
    assert out.shape == (2 * 56 + 3, 3 * 56 + 2 * 3)
    assert out[0, 0] == 10 and out[0, 56 + 3] == 20 and out[56 + 3, 2 * (56 + 3)] == 60
    assert (out[56:59, :] == 255).all() and (out[:, 56:59] == 255).all()


def test_tile_without_gaps_is_a_plain_mosaic():
    digits = np.arange(4, dtype=np.uint8).repeat(28 * 28).reshape(2, 2, 28, 28)
    out = latent.tile(digits, scale=1, gap=0)
    assert out.shape == (56, 56) and out[0, 0] == 0 and out[0, 28] == 1 and out[28, 0] == 2 and out[55, 55] == 3


def test_sample_sheet_is_near_square():
    sheet = latent.sample_sheet(np.full((10, 28, 28), 7, dtype=np.uint8), scale=1)
    # 10 digits -> 4 columns x 3 rows, gap 2
    assert sheet.shape == (3 * 28 + 2 * 2, 4 * 28 + 3 * 2)
    assert sheet[0, 0] == 7 and sheet[-1, -1] == 0  # the two unused cells are black


# ---------------------------------------------------------------- grid coordinates


def test_linear_axis_is_evenly_spaced_between_the_ends():
    axis = latent.grid_axis(1.0, 4.0, 5, "linear")
    np.testing.assert_allclose(axis, [-1.0, 0.0, 1.0, 2.0, 3.0])


def test_cdf_axis_is_uniform_in_phi_and_matches_ndtri():
    axis = latent.grid_axis(0.0, 6.0, 9, "cdf")
    u = np.linspace(latent.normal_cdf(-3.0), latent.normal_cdf(3.0), 9)
    np.testing.assert_allclose(axis, torch.special.ndtri(torch.tensor(u, dtype=torch.float64)).numpy(), atol=1e-12)
    np.testing.assert_allclose(np.diff(latent.normal_cdf(axis)), np.diff(u)[0], rtol=1e-9)
    assert axis[0] == -3.0 and axis[-1] == 3.0 and axis[4] == pytest.approx(0.0, abs=1e-12)
    # equal prior mass per step means the steps widen away from the mode
    steps = np.diff(axis)
    assert steps[4] < steps[6] < steps[7]


def test_cdf_axis_far_in_the_tail_stays_finite_and_monotone():
    axis = latent.grid_axis(30.0, 10.0, 30, "cdf")
    assert np.isfinite(axis).all() and axis[0] == 25.0 and axis[-1] == 35.0
    assert (np.diff(axis) >= 0).all()


@settings(max_examples=60, deadline=None)
@given(centre=st.floats(-5, 5), span=st.floats(0.01, 20), n=st.integers(2, 30), spacing=st.sampled_from(latent.SPACINGS))
def test_axis_is_monotone_with_exact_ends(centre, span, n, spacing):
    axis = latent.grid_axis(centre, span, n, spacing)
    assert len(axis) == n and np.isfinite(axis).all()
    assert (np.diff(axis) > 0).all()
    assert axis[0] == pytest.approx(centre - span / 2) and axis[-1] == pytest.approx(centre + span / 2)


def test_single_cell_grid_is_the_centre():
    cols, rows, points = latent.grid_points(0.3, -0.4, 2.0, 1, "cdf")
    np.testing.assert_allclose(points, [[0.3, -0.4]])


def test_unknown_spacing_is_rejected():
    with pytest.raises(ValueError, match="spacing"):
        latent.grid_axis(0.0, 1.0, 3, "log")


def test_grid_points_are_row_major_with_z2_decreasing_downwards():
    cols, rows, points = latent.grid_points(0.0, 0.0, 2.0, 3, "linear")
    np.testing.assert_allclose(cols, [-1, 0, 1])
    np.testing.assert_allclose(rows, [1, 0, -1])
    np.testing.assert_allclose(points[:3], [[-1, 1], [0, 1], [1, 1]])
    np.testing.assert_allclose(points[-1], [1, -1])


def test_render_grid_size_ticks_and_cell_lookup(model):
    n = 4
    cols, rows, points = latent.grid_points(0.0, 0.0, 3.0, n, "linear")
    digits = latent.decode_images(model, points)
    image = latent.render_grid(digits, cols, rows)
    layout = latent.grid_layout(n)
    pitch = layout.cell + layout.gap
    assert image.mode == "L"
    assert image.width == layout.left + n * layout.cell + (n - 1) * layout.gap + latent.GRID_MARGINS["right"]
    # the pixels of cell (row 2, col 1) are that digit, enlarged
    scale = layout.cell // 28
    y, x = layout.top + 2 * pitch, layout.left + 1 * pitch
    cell = np.asarray(image)[y : y + layout.cell, x : x + layout.cell]
    np.testing.assert_array_equal(cell, latent.enlarge(digits[2 * n + 1], scale))
    assert layout.cell_at(x + 5, y + 5) == (2, 1)
    assert layout.cell_at(layout.left - 3, y) is None
    assert layout.cell_at(x, layout.top + n * pitch + 2) is None
    # tick labels were drawn left of and below the cells
    margin = np.asarray(image)[layout.top :, : layout.left - 2]
    assert (margin < 128).any()


def test_grid_layout_keeps_large_grids_near_600_pixels():
    assert latent.grid_layout(30).cell == 28
    assert latent.grid_layout(5).cell == 28 * 4
    assert latent.grid_layout(1).cell == 28 * 21


# ---------------------------------------------------------------- sampling and paths


def test_prior_samples_are_reproducible_and_standard_normal():
    a, b = latent.prior_samples(5000, 7), latent.prior_samples(5000, 7)
    torch.testing.assert_close(a, b)
    assert not torch.equal(a, latent.prior_samples(5000, 8))
    assert a.shape == (5000, 2)
    assert a.mean().abs() < 0.05 and (a.std() - 1).abs() < 0.05


def test_interpolation_points_include_both_ends():
    p = latent.interpolation_points([0, 0], [2, -4], 5)
    np.testing.assert_allclose(p, [[0, 0], [0.5, -1], [1, -2], [1.5, -3], [2, -4]])


# ---------------------------------------------------------------- latent map


def test_pixel_z_round_trip_and_orientation():
    frame = latent.MapFrame()
    z = np.array([[0.0, 0.0], [1.0, 2.0], [-4.5, -4.5], [4.5, 4.5]])
    px = frame.z_to_px(z)
    np.testing.assert_allclose(frame.px_to_z(px), z, atol=1e-12)
    left, top, right, bottom = frame.box
    np.testing.assert_allclose(px[0], [(left + right) / 2, (top + bottom) / 2])
    np.testing.assert_allclose(px[2], [left, bottom])  # lowest z is bottom-left: z2 points up
    np.testing.assert_allclose(px[3], [right, top])


@settings(max_examples=50, deadline=None)
@given(cx=st.floats(-3, 3), cy=st.floats(-3, 3), half=st.floats(0.05, 6), x=st.floats(0, 600), y=st.floats(0, 600))
def test_px_to_z_inverts_z_to_px_for_any_frame(cx, cy, half, x, y):
    frame = latent.MapFrame(centre=(cx, cy), half=half)
    px = np.array([x, y])
    np.testing.assert_allclose(frame.z_to_px(frame.px_to_z(px)), px, atol=1e-6)


def test_splat_colours_points_by_label():
    frame = latent.MapFrame()
    z = np.array([[-2.0, 2.0], [2.0, -2.0]])
    plot = latent.splat(frame, z, np.array([1, 3]))
    assert plot.shape == (frame.plot, frame.plot, 3)
    x, y = np.round(frame.z_to_px(z) - (frame.left, frame.top)).astype(int)[0]
    pixel = plot[y, x].astype(int)
    # a single point blends its colour over white with alpha 0.55
    expected = np.round(255 * 0.45 + latent.DIGIT_COLOURS[1] * 0.55)
    np.testing.assert_allclose(pixel, expected, atol=1)
    assert (plot[0, 0] == 255).all()  # empty space stays white


def test_render_map_and_overlays_change_only_what_they_should():
    frame = latent.MapFrame()
    rng = np.random.default_rng(0)
    base = latent.render_map(frame, rng.normal(size=(500, 2)), rng.integers(0, 10, 500))
    assert base.size == frame.size and base.mode == "RGB"
    before = np.asarray(base).copy()
    marked = base.copy()
    latent.draw_marker(marked, frame, np.array([1.0, 1.0]))
    diff = np.any(np.asarray(marked) != before, axis=-1)
    ys, xs = np.nonzero(diff)
    cx, cy = frame.z_to_px(np.array([1.0, 1.0]))
    assert diff.any() and np.abs(xs - cx).max() <= 16 and np.abs(ys - cy).max() <= 16
    np.testing.assert_array_equal(np.asarray(base), before)  # the cached base is untouched


def test_palette_map_keeps_overlay_colours_exact():
    frame = latent.MapFrame()
    rng = np.random.default_rng(1)
    base = latent.to_palette(latent.render_map(frame, rng.normal(size=(3000, 2)), rng.integers(0, 10, 3000)))
    assert base.mode == "P"
    image = base.copy()
    latent.draw_marker(image, frame, np.array([0.0, 0.0]), colour=(200, 0, 120))
    latent.draw_path(image, frame, np.array([[-1.0, -1.0], [1.0, 1.0]]))
    rgb = np.asarray(image.convert("RGB")).reshape(-1, 3)
    assert ((rgb == (200, 0, 120)).all(axis=1)).sum() > 20
    assert ((rgb == latent.INK).all(axis=1)).sum() > 20


def test_overlays_are_clipped_to_the_plot():
    frame = latent.MapFrame()
    base = latent.render_map(frame, np.zeros((1, 2)), np.zeros(1, dtype=int))
    image = base.copy()
    latent.draw_ellipses(image, frame, np.array([4.4, 0.0]), np.array([2.0, 2.0]))
    latent.draw_path(image, frame, np.array([[-10.0, -10.0], [10.0, 10.0]]))
    diff = np.any(np.asarray(image) != np.asarray(base), axis=-1)
    left, top, right, bottom = frame.box
    outside = diff.copy()
    outside[top:bottom, left:right] = False
    assert diff.any() and not outside.any()


def test_ellipse_radii_follow_sigma():
    frame = latent.MapFrame()
    base = Image.new("RGB", frame.size, "white")
    image = base.copy()
    latent.draw_ellipses(image, frame, np.array([0.0, 0.0]), np.array([1.0, 0.5]), ks=(2.0,))
    ink = np.any(np.asarray(image) < 200, axis=-1)
    ys, xs = np.nonzero(ink)
    cx, cy = frame.z_to_px(np.zeros(2))
    assert (xs.max() - cx) == pytest.approx(2.0 * frame.pixels_per_unit, abs=2)
    assert (cy - ys.min()) == pytest.approx(1.0 * frame.pixels_per_unit, abs=2)


def test_heatmap_is_strongest_at_the_mode():
    frame = latent.MapFrame(centre=(1.0, 1.0), half=1.0)
    image = Image.new("RGB", frame.size, "white")
    z1 = np.linspace(0.5, 1.5, 41)
    z2 = np.linspace(0.5, 1.5, 41)
    density = np.exp(-((z1[None, :] - 1.2) ** 2 + (z2[:, None] - 0.8) ** 2) / 0.02)
    latent.draw_heatmap(image, frame, z1, z2, density)
    a = np.asarray(image).astype(int)
    redness = a[..., 0] - a[..., 1]
    y, x = np.unravel_index(np.argmax(redness), redness.shape)
    np.testing.assert_allclose(frame.px_to_z(np.array([x, y])), [1.2, 0.8], atol=0.03)


def test_nice_step_is_round():
    assert latent.nice_step(9.0) == 2
    assert latent.nice_step(1.0) == pytest.approx(0.2)
    assert latent.nice_step(0.3) == pytest.approx(0.05)


# ---------------------------------------------------------------- ELBO anatomy


def test_elbo_anatomy_terms_are_consistent(model):
    torch.manual_seed(1)
    x = torch.rand(1, 1, 28, 28).round()
    t = latent.elbo_anatomy(model, x, L=64, K=200, seed=3)
    assert t["elbo"] == pytest.approx(t["reconstruction"] - t["kl"])
    assert t["gap"] == pytest.approx(t["log_px"] - t["elbo"])
    # the gap splits into what the best diagonal Gaussian misses and what the encoder misses of that
    assert t["approximation_gap"] + t["amortization_gap"] == pytest.approx(t["gap"])
    assert t["approximation_gap"] >= 0
    assert t["kl"] > 0 and t["gap"] > 0 and t["log_px"] < 0
    assert len(t["z_samples"]) == 64 and len(t["log_px_given_z"]) == 64
    assert t["reconstruction"] == pytest.approx(np.mean(t["log_px_given_z"]))
    # the samples are mu + sigma * eps: their spread matches sigma
    z = np.array(t["z_samples"])
    np.testing.assert_allclose(z.std(axis=0), t["sigma"], rtol=0.35)
    # same seed -> same numbers; the model's own elbo() agrees within Monte-Carlo error
    assert latent.elbo_anatomy(model, x, L=64, K=200, seed=3) == t
    reference = elbo(model, x, L=2000)
    assert t["kl"] == pytest.approx(reference.kl.item(), rel=1e-5)
    assert t["reconstruction"] == pytest.approx(reference.reconstruction.item(), abs=6 * t["reconstruction_stderr"] + 0.05)
    # a known log p(x) is used as given (the app caches it per digit)
    given = latent.elbo_anatomy(model, x, L=64, K=200, seed=3, log_px=t["log_px"] + 1.0)
    assert given["log_px"] == t["log_px"] + 1.0 and given["gap"] == pytest.approx(t["gap"] + 1.0)
    # IWAE with many samples is close to the exact log p(x)
    assert latent.elbo_anatomy(model, x, L=1, K=5000, seed=0)["iwae"] == pytest.approx(t["log_px"], abs=0.1)


