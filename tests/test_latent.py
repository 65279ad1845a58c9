"""vae/latent.py: decoding to 8-bit digits, grid coordinates, prior samples and paths. No browser, no dataset."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from vae import inputs, latent
from vae.model import ELU, VAE


@pytest.fixture(scope="module")
def model() -> VAE:
    torch.manual_seed(0)
    return VAE(hidden=32, depth=1).eval()


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
@given(centre=st.floats(-5, 5), span=st.floats(0.01, 20), n=st.integers(2, 30), spacing=st.sampled_from(inputs.SPACINGS))
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


def test_prior_samples_are_reproducible_and_standard_normal():
    a, b = latent.prior_samples(5000, 7), latent.prior_samples(5000, 7)
    torch.testing.assert_close(a, b)
    assert not torch.equal(a, latent.prior_samples(5000, 8))
    assert a.shape == (5000, 2)
    assert a.mean().abs() < 0.05 and (a.std() - 1).abs() < 0.05


def test_interpolation_points_include_both_ends():
    p = latent.interpolation_points([0, 0], [2, -4], 5)
    np.testing.assert_allclose(p, [[0, 0], [0.5, -1], [1, -2], [1.5, -3], [2, -4]])
