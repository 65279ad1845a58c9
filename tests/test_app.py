"""The app: its handlers called directly, then every public endpoint through gradio_client
against the app served on loopback (the `client` fixture), including bad input."""

import base64
import io
import json
import os
import subprocess
import sys
import zlib

import httpx
import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

gr = pytest.importorskip("gradio")
from gradio_client import handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

from explorer import api, elbo_tab, events, models, text  # noqa: E402
from vae import draw, inputs, latent  # noqa: E402
from vae.likelihood import TOL  # noqa: E402
from vae.preprocess import MAX_UPLOAD_BYTES  # noqa: E402
from vae.reading import posterior_reconstruction  # noqa: E402

ENDPOINTS = {"/decode", "/reconstruct", "/grid", "/sample", "/interpolate", "/elbo"}


@pytest.fixture(scope="module", autouse=True)
def loaded():
    """The committed models, loaded as app.py loads them: these tests also call the handlers directly."""
    models.load()


@pytest.fixture(scope="module")
def one_png(tmp_path_factory) -> str:
    """A thick dark vertical stroke on white paper: a '1'."""
    image = Image.new("RGB", (200, 200), "white")
    ImageDraw.Draw(image).line([(100, 30), (100, 170)], fill="black", width=18)
    path = tmp_path_factory.mktemp("digits") / "one.png"
    image.save(path)
    return str(path)


@pytest.fixture(scope="module")
def not_an_image(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("bad") / "digit.png"
    path.write_text("this is not a picture")
    return str(path)


def load(path: str) -> np.ndarray:
    return np.asarray(Image.open(path))


# ---------------------------------------------------------------- handlers


def test_decode_is_the_models_digit_enlarged():
    out = api.decode(0.5, -1.0)
    assert out.shape == (28 * api.DIGIT_SCALE, 28 * api.DIGIT_SCALE) and out.dtype == np.uint8
    expected = latent.decode_images(models.DEFAULT.display, [[0.5, -1.0]])[0]
    np.testing.assert_array_equal(out, draw.enlarge(expected, api.DIGIT_SCALE))
    assert not np.array_equal(out, api.decode(-2.0, 2.0))


def test_decode_clamps_far_z_and_rejects_non_numbers():
    np.testing.assert_array_equal(api.decode(1e6, 0.0), api.decode(inputs.Z_LIMIT, 0.0))
    with pytest.raises(gr.Error, match="z1 must be a number"):
        api.decode("abc", 0.0)
    with pytest.raises(gr.Error, match="z2 must be a finite number"):
        api.decode(0.0, float("nan"))


def test_reconstruct_returns_input_reconstruction_and_posterior(one_png):
    prepared, recon, _, _, post = api.reconstruct(one_png)
    assert prepared.shape == recon.shape == (112, 112)
    # the prepared input is MNIST-like: white ink on black, centred
    small = prepared[:: api.DIGIT_SCALE, :: api.DIGIT_SCALE].astype(float)
    assert small.max() == 255 and small[0].max() == 0
    ys, xs = np.nonzero(small > 128)
    assert abs(xs.mean() - 14) < 2 and abs(ys.mean() - 14) < 2
    assert set(post) == {"mu", "sigma", "mode", "sample"} and all(len(post[key]) == 2 for key in post)
    assert all(s > 0 for s in post["sigma"])
    x = torch.tensor(small / 255, dtype=torch.float32).view(1, 1, 28, 28)
    mu, sigma = latent.posterior(models.DEFAULT.model, x)
    np.testing.assert_allclose(post["mu"], mu, atol=0.05)
    # the reconstruction averages the digits decoded within 5 sigma of q(z|x), where the mode lies (within a grid cell)
    assert (np.abs(np.array(post["mode"]) - post["mu"]) <= 5.7 * np.array(post["sigma"])).all()
    np.testing.assert_array_equal(recon[:: api.DIGIT_SCALE, :: api.DIGIT_SCALE],
                                  latent.to_uint8(posterior_reconstruction(models.DEFAULT.model, x).image)[0])
    assert np.abs(recon.astype(float) - api.decode(*post["mode"])).mean() < 10  # close to the mode's own digit


def test_reconstruct_also_decodes_mu_and_a_sample_from_q_seeded_by_the_digit(one_png, tmp_path):
    """The textbook reconstruction decode(mu) and the decode of one z ~ q(z|x), each the picture /decode
    draws at the z reported; the sample's eps is N(0, I)'s draw for the CRC-32 of the prepared pixels."""
    read = api.reconstruct(one_png)
    mu, sigma, z = (np.array(read.posterior[key]) for key in ("mu", "sigma", "sample"))
    np.testing.assert_array_equal(read.mean, api.decode(*mu))
    np.testing.assert_array_equal(read.sample, api.decode(*z))
    pixels = read.prepared[:: api.DIGIT_SCALE, :: api.DIGIT_SCALE]
    eps = latent.prior_samples(1, zlib.crc32(pixels.tobytes()))[0].numpy()
    exact_mu, exact_sigma = latent.posterior(models.DEFAULT.model, latent.from_uint8(pixels))  # before rounding
    np.testing.assert_allclose(z, exact_mu + exact_sigma * eps, atol=5e-5)
    assert not np.array_equal(z, mu) and not np.array_equal(read.sample, read.mean)
    again = api.reconstruct(one_png)  # the same picture: the same sample
    assert again.posterior == read.posterior and np.array_equal(again.sample, read.sample)
    wider = tmp_path / "wider one.png"  # another picture: another eps
    image = Image.new("RGB", (200, 200), "white")
    ImageDraw.Draw(image).line([(100, 30), (100, 170)], fill="black", width=30)
    image.save(wider)
    other = api.reconstruct(str(wider)).posterior
    assert not np.allclose((np.array(other["sample"]) - other["mu"]) / other["sigma"], eps, atol=1e-2)


def test_transparent_upload_keeps_its_strokes(tmp_path):
    """Dark strokes on a transparent canvas: the transparent pixels are background, not ink."""
    image = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse([90, 60, 210, 240], outline=(10, 10, 10, 255), width=22)  # a '0'
    path = tmp_path / "zero.png"
    image.save(path)
    small = api.reconstruct(str(path)).prepared[:: api.DIGIT_SCALE, :: api.DIGIT_SCALE]
    assert small[14, 14] < 64  # the hole of the 0 is background
    assert small[14].max() == 255 and small[0].max() == 0  # ink on the ring, black margin


def test_reconstruct_errors_are_user_messages(not_an_image):
    with pytest.raises(gr.Error, match="not an image"):
        api.reconstruct(not_an_image)
    with pytest.raises(gr.Error, match="Upload"):
        api.reconstruct(None)


def png_data_url(rgba: np.ndarray) -> str:
    """A canvas as the drawing pad sends it: canvas.toDataURL("image/png")."""
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, "PNG")
    return events.PNG_DATA_URL + base64.b64encode(buffer.getvalue()).decode()


def test_a_drawing_reconstructs_its_strokes_and_an_empty_pad_clears():
    assert events.reconstruct_drawing("") == events.tab_outputs(events.nothing_shown(models.DEFAULT), "reading")
    canvas = np.zeros((280, 280, 4), dtype=np.uint8)  # transparent, as the pad is before any stroke
    assert events.reconstruct_drawing(png_data_url(canvas))[:3] == (None, None, "")
    canvas[40:240, 130:150] = (0, 0, 0, 255)  # a black '1'
    prepared, recon, shown, image, pixels, post, read = events.reconstruct_drawing(png_data_url(canvas))
    assert prepared.shape == (112, 112) and pixels.shape == (28, 28) and post == api.reconstruction_of(pixels).posterior
    np.testing.assert_array_equal(recon, read.reading)
    assert f"({post['mu'][0]:.3f}, {post['mu'][1]:.3f})" in shown and f"({post['sigma'][0]:.4f}, {post['sigma'][1]:.4f})" in shown
    assert pixels[:, 14].max() == 255 and pixels[:, 0].max() == 0  # ink in the middle column, black margins
    assert image.size == models.DEFAULT.base_map.size


@pytest.mark.parametrize("drawing, message", [
    ("data:image/jpeg;base64,/9j/", "did not arrive as a PNG"),
    (events.PNG_DATA_URL + "not base64!", "did not arrive as a PNG"),
    (events.PNG_DATA_URL + base64.b64encode(b"GIF89a not a png").decode(), "not an image we can read"),
    (events.PNG_DATA_URL + "A" * (4 * MAX_UPLOAD_BYTES // 3 + 8), "larger than 20 MB"),
    (12, "did not arrive as a PNG"),
])
def test_a_drawing_that_is_not_a_png_gets_a_message_in_place_of_the_results(drawing, message):
    prepared, recon, words, *_ = events.reconstruct_drawing(drawing)
    assert prepared is None and recon is None and message in words


def test_grid_image_has_the_layout_the_page_pans():
    image = api.grid(0.0, 0.0, 4.0, 5, "cdf")
    layout = draw.grid_layout(5)
    assert image.width == layout.left + 5 * layout.cell + 4 * layout.gap + draw.GRID_MARGINS["right"]


def test_grid_rejects_bad_arguments():
    with pytest.raises(gr.Error, match="spacing"):
        api.grid(0.0, 0.0, 4.0, 5, "log")
    with pytest.raises(gr.Error, match="whole number"):
        api.grid(0.0, 0.0, 4.0, 2.5, "linear")
    np.testing.assert_array_equal(np.asarray(api.grid(0.0, 0.0, 4.0, 10_000, "linear")), np.asarray(api.grid(0.0, 0.0, 4.0, 30, "linear")))


def test_sample_and_interpolate_shapes():
    sheet = api.sample(10, 3)
    assert sheet.shape == (3 * 56 + 2 * 2, 4 * 56 + 3 * 2)  # 4 x 3 cells of 56 px
    np.testing.assert_array_equal(sheet, api.sample(10, 3))
    strip = api.interpolate(-1.0, -1.0, 1.0, 1.0, 6)
    assert strip.shape == (84, 6 * 84 + 5 * 2)
    ends = latent.decode_images(models.DEFAULT.display, [[-1.0, -1.0], [1.0, 1.0]])
    np.testing.assert_array_equal(strip[:84, :84], draw.enlarge(ends[0], 3))
    np.testing.assert_array_equal(strip[:84, -84:], draw.enlarge(ends[1], 3))


def is_skip(update) -> bool:
    return isinstance(update, dict) and update.get("__type__") == "update" and len(update) == 1


def test_an_interpolation_end_from_my_digit():
    mine = events.endpoint_from_my_digit({"mu": [1.2, -0.4], "sigma": [0.1, 0.1], "mode": [1.234, -0.5]}, 0.0, 0.0, 1.0, 1.0, "B")
    assert mine[:4] == (0.0, 0.0, 1.23, -0.5) and is_skip(mine[4]) and mine[5] is None, "B is no longer a test digit"
    with pytest.raises(gr.Error, match="Reconstruct tab"):
        events.endpoint_from_my_digit(None, 0, 0, 1, 1, "A")


@pytest.mark.slow  # seconds: the committed model's coarse grid and a digit's quadrature, as every elbo_tab test
def test_elbo_view_for_a_test_digit():
    pixels, numbers, terms, image, samples, shown = elbo_tab.elbo_pick(3, 5, 100, 0)
    np.testing.assert_array_equal(pixels, models.test_images[3])
    assert terms["elbo"] == pytest.approx(terms["reconstruction"] - terms["kl"])
    assert terms["elbo"] <= terms["log_px"] + 1e-6
    assert f"{terms['log_px']:.2f}" in numbers and "D_{KL}" in numbers
    assert "amortization gap" in numbers and f"{terms['amortization_gap']:.2f}" in numbers
    assert len(terms["z_samples"]) == 5 and samples.shape == (2 * 56 + 2, 3 * 56 + 2 * 2)  # 5 decodes, 3 x 2 sheet


@pytest.mark.slow
def test_elbo_tab_shows_digit_0_first_and_keeps_a_choice():
    first = elbo_tab.elbo_tab_opened(None)
    np.testing.assert_array_equal(first[0], models.test_images[0])
    assert first[2]["L"] == 10 and first[2]["K"] == 1000
    assert all(isinstance(v, dict) and v.get("__type__") == "update" for v in elbo_tab.elbo_tab_opened(models.test_images[4]))


# ---------------------------------------------------------------- through the server


def test_the_api_lists_exactly_the_documented_endpoints(client):
    assert set(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == ENDPOINTS


def test_api_decode(client):
    out = load(client.predict(0.5, -1.0, api_name="/decode"))
    np.testing.assert_array_equal(out if out.ndim == 2 else out[..., 0], api.decode(0.5, -1.0))


def test_api_grid(client):
    out = load(client.predict(0.0, 0.0, 6.0, 30, "cdf", api_name="/grid"))
    layout = draw.grid_layout(30)
    assert out.shape[1] == layout.left + 30 * 28 + 29 + draw.GRID_MARGINS["right"]
    np.testing.assert_array_equal(out, np.asarray(api.grid(0.0, 0.0, 6.0, 30, "cdf")))


def test_api_sample_and_interpolate(client):
    sheet = load(client.predict(16, 5, api_name="/sample"))
    np.testing.assert_array_equal(sheet, api.sample(16, 5))
    strip = load(client.predict(-1.0, 0.5, 2.0, -0.5, 8, api_name="/interpolate"))
    np.testing.assert_array_equal(strip, api.interpolate(-1.0, 0.5, 2.0, -0.5, 8))


def test_api_reconstruct_returns_the_input_its_three_reconstructions_and_q(client, one_png):
    *pictures, post = client.predict(handle_file(one_png), api_name="/reconstruct")
    expected = api.reconstruct(one_png)
    for name, picture in zip(api.Reconstructed._fields, pictures):  # prepared, reading, mean, sample
        np.testing.assert_array_equal(load(picture), getattr(expected, name), err_msg=name)
    assert post == expected.posterior


def test_api_elbo(client, one_png):
    terms = client.predict(handle_file(one_png), 20, 300, api_name="/elbo")
    for key in ("reconstruction", "kl", "elbo", "iwae", "log_px", "gap", "approximation_gap", "amortization_gap",
                "best_mu", "best_sigma", "mu", "sigma", "z_samples"):
        assert key in terms
    assert terms["elbo"] == pytest.approx(terms["reconstruction"] - terms["kl"])
    assert terms["L"] == 20 and terms["K"] == 300 and len(terms["z_samples"]) == 20
    assert terms["kl"] > 0 and terms["elbo"] < terms["log_px"] < 0
    assert terms == client.predict(handle_file(one_png), 20, 300, api_name="/elbo")  # seeded: reproducible


def test_api_errors_carry_the_message(client, not_an_image):
    with pytest.raises(AppError, match="not an image"):
        client.predict(handle_file(not_an_image), api_name="/reconstruct")
    with pytest.raises(AppError, match="z1 must be a number"):
        client.predict("abc", 0.0, api_name="/decode")
    with pytest.raises(AppError, match="z2 must be a number"):
        client.predict(0.0, None, api_name="/decode")
    with pytest.raises(AppError, match="spacing"):
        client.predict(0.0, 0.0, 6.0, 10, "banana", api_name="/grid")
    # the server is still fine afterwards
    assert load(client.predict(0.0, 0.0, api_name="/decode")).shape[:2] == (112, 112)


def test_readme_api_example_runs_as_written(app_url, monkeypatch, capsys):
    """The README's gradio_client example, run from the repository's root against the app as printed
    there (only the URL is this test's server), with the picture the repository ships, examples/digit.png:
    test digit #0, a 7, as a person's picture shows it (dark ink on white, the API page's example)."""
    readme = (models.ROOT / "README.md").read_text()
    section = readme[readme.index("## The API"):]
    code = section[section.index("```python\n") + len("```python\n"):section.index("```\n", section.index("```python"))]
    assert 'Client("http://127.0.0.1:7860/")' in code
    monkeypatch.chdir(models.ROOT)
    scope: dict = {}
    exec(code.replace("http://127.0.0.1:7860/", app_url), scope)
    approximation, amortization = map(float, capsys.readouterr().out.split()[-2:])  # the example's last line
    assert approximation >= 0 and np.isfinite(amortization)
    assert code.count(f'handle_file("{models.EXAMPLE_DIGIT}")') == 2
    shipped = np.asarray(Image.open(models.ROOT / models.EXAMPLE_DIGIT).convert("L"))
    np.testing.assert_array_equal(shipped, 255 - draw.enlarge(models.test_images[0], 4))


def test_the_note_for_a_grid_beyond_the_digits_counts_them():
    outside = int((np.abs(models.DEFAULT.mu) > models.DIGIT_REGION).any(axis=1).sum())
    assert 0 < outside < 100
    assert "beyond |z| = 4, where the prior" in events.window_note(models.DEFAULT) and f"{outside} of the 10,000 test digits" in events.window_note(models.DEFAULT)


def test_the_elbo_reading_gives_the_test_sets_iwae_gap_and_names_a_digit_where_no_k_helps():
    reading = text.elbo_reading(models.DEFAULT.facts, 1.0, TOL)
    assert f"{models.DEFAULT.facts['iwae_gap']:.2f} nats below it on average" in reading and "test digit #35" in reading


@pytest.mark.slow
def test_the_elbo_tab_says_what_is_true_of_iwae():
    """IWAE is an estimate with a ±, a bound only on average; the digit the text names (test digit #35,
    above) is one where no K helps, as its numbers bear out."""
    _, numbers, terms, *_ = elbo_tab.elbo_pick(35, 10, 1000, 0)
    assert f"{terms['iwae']:.2f}** ± {terms['iwae_stderr']:.2f}" in numbers and "a bound on average" in numbers
    assert terms["amortization_gap"] > 10 and terms["log_px"] - terms["iwae"] > 10  # digit #35: IWAE far below log p(x)


def api_page(app_url: str) -> dict:
    """What the "Use via API" page shows: the named endpoints as /gradio_api/info describes them."""
    return httpx.get(f"{app_url}gradio_api/info", timeout=30).json()["named_endpoints"]


def test_the_api_page_says_what_every_parameter_and_result_is(app_url):
    endpoints = api_page(app_url)
    assert set(endpoints) >= ENDPOINTS
    for name in ENDPOINTS:
        for parameter in endpoints[name]["parameters"]:
            words = parameter["python_type"]["description"]
            assert words and "FileData" not in words, (name, parameter["parameter_name"])
        for result in endpoints[name]["returns"]:
            assert not result["label"].startswith("value_") and result["label"] == result["python_type"]["description"], name
    assert "±6" in endpoints["/decode"]["parameters"][0]["python_type"]["description"]
    assert "1 to 30" in endpoints["/grid"]["parameters"][3]["python_type"]["description"]


@pytest.mark.parametrize("name", ["/reconstruct", "/elbo"])
def test_the_api_page_examples_run_offline_on_a_digit(app_url, name, capsys, monkeypatch):
    """The Python example the page shows for an endpoint that takes a picture runs as written from the
    repository's root, as the README's does: its picture is the repository's example digit, not a PDF on
    the internet, nor a path that exists only on the server."""
    code = api_page(app_url)[name]["code_snippets"]["python"]
    assert ".pdf" not in code and f"handle_file('{models.EXAMPLE_DIGIT}')" in code
    monkeypatch.chdir(models.ROOT)
    exec(code, {})
    printed = capsys.readouterr().out
    assert "'mu'" in printed and "'sigma'" in printed


def test_a_doubtful_picture_is_answered_and_says_what_was_done(tmp_path):
    """Two digits of the same size: the page and /reconstruct both say which was used, and answer."""
    image = Image.new("L", (600, 240), 235)
    draw = ImageDraw.Draw(image)
    for left in (0, 320):
        draw.line([(left + 60, 48), (left + 180, 48), (left + 105, 192)], fill=20, width=12)
    path = tmp_path / "two sevens.png"
    image.save(path)
    note = "2 separate marks of a similar size found; used the largest."
    post = api.reconstruct(str(path)).posterior
    assert post["note"] == note and len(post["mu"]) == 2
    assert f"**Note:** {note}" in events.reconstruct_upload(str(path)).shown.words
    assert "note" not in api.reconstruct(str(models.ROOT / models.EXAMPLE_DIGIT)).posterior  # a plain digit: nothing to say


LIGHT_IMPORT = """
import json, torch
opened = []
torch_load = torch.load
torch.load = lambda f, *a, **k: opened.append(str(f)) or torch_load(f, *a, **k)
import explorer.api, explorer.assets, explorer.elbo_tab, explorer.events, explorer.gradio_adjustments, explorer.models, explorer.text
from explorer import models
print(json.dumps({"opened": opened, "models": list(models.MODELS), "default": models.DEFAULT is None,
                  "files": [*models.PAGE_MODULES]}))
"""


@pytest.mark.slow  # a fresh Python importing torch and Gradio: seconds
def test_importing_the_explorer_loads_nothing_and_writes_nothing(tmp_path):
    """Importing any of explorer's modules (but components.py, which is the page itself) opens no checkpoint
    and writes no file: app.py's models.load() does that, once."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}  # where the asset folder would be made
    run = subprocess.run([sys.executable, "-c", LIGHT_IMPORT], cwd=models.ROOT, env=env, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen == {"opened": [], "models": [], "default": True, "files": []}
    assert not list(tmp_path.glob("vae-explorer-assets-*")), "no asset folder made, nothing written to it"
    assert models.load() is models.load() is models.MODELS and len(models.MODELS) == 3  # here, loaded once for good


# ---------------------------------------------------------------- the models side by side


def test_every_committed_model_is_loaded_and_the_vae_is_the_default():
    assert list(models.MODELS) == ["beta0", "beta1", "beta5"] and models.DEFAULT is models.MODELS["beta1"]
    assert [m.facts["beta"] for m in models.MODELS.values()] == [0.0, 1.0, 5.0]
    for m in models.MODELS.values():  # each model's own map, from its own test latents
        assert m.mu.shape == (10_000, 2) and m.base_map.size == models.DEFAULT.base_map.size
    assert not np.array_equal(np.asarray(models.MODELS["beta0"].base_map), np.asarray(models.DEFAULT.base_map))


def test_every_endpoint_takes_a_model_and_defaults_to_the_vae(one_png):
    z = (0.5, -1.0)
    np.testing.assert_array_equal(api.decode(*z), api.decode(*z, "beta1"))
    for name, m in models.MODELS.items():
        np.testing.assert_array_equal(api.decode(*z, name), draw.enlarge(latent.decode_images(m.display, [z])[0], api.DIGIT_SCALE))
    assert not np.array_equal(api.decode(*z, "beta0"), api.decode(*z, "beta5"))
    for call in (lambda m: api.grid(0, 0, 4, 5, "linear", m), lambda m: api.sample(9, 3, m),
                 lambda m: api.interpolate(-1, -1, 1, 1, 5, m), lambda m: api.reconstruct(one_png, m)[1]):
        assert not np.array_equal(np.asarray(call("beta0")), np.asarray(call("beta1"))), call
    assert api.reconstruct(one_png, "beta5").posterior["mu"] != api.reconstruct(one_png).posterior["mu"]
    for bad in ("beta2", 3, ["beta0"]):
        with pytest.raises(gr.Error, match="model must be one of 'beta0', 'beta1', 'beta5', not "):
            api.decode(0, 0, bad)


@pytest.mark.slow  # seconds: a second model's coarse grid
def test_the_elbo_of_another_model_is_that_models():
    pixels = models.test_images[3]
    vae, autoencoder = api.anatomy_of(pixels, 10, 100, 0), api.anatomy_of(pixels, 10, 100, 0, models.MODELS["beta0"])
    assert autoencoder["kl"] > 3 * vae["kl"]  # nothing kept the autoencoder's q(z|x) near the prior
    assert autoencoder["log_px"] != vae["log_px"] and autoencoder["elbo"] <= autoencoder["log_px"] + 1e-6


def test_a_model_picked_redraws_my_digit():
    pixels = models.test_images[5]
    mine = events.reconstruct_again(pixels, "beta0", "mean")
    assert mine[5]["mu"] == api.posterior_of(pixels, models.MODELS["beta0"])["mu"] and mine[4] is pixels
    np.testing.assert_array_equal(mine[1], api.reconstruction_of(pixels, models.MODELS["beta0"]).mean)  # the switch's pick
    assert events.reconstruct_again(None, "beta5", "mean")[3] is models.MODELS["beta5"].base_map


def test_each_model_has_its_own_words_and_the_elbo_tab_says_when_it_was_not_trained_on_the_elbo():
    words = {name: events.model_words(name) for name in models.MODELS}
    assert "reconstruction term alone" in words["beta0"][0] and "holes" in words["beta0"][0]
    assert "β = 5" in words["beta5"][0] and "merge" in words["beta5"][0] and "blurry" in words["beta5"][0]
    for name, (about, reading, slider) in words.items():
        m = models.MODELS[name]
        assert f"{m.facts['prior_mass_confident']:.0%} of the prior's mass" in about
        assert ("not trained on the ELBO" in reading) == (name != "beta1")
        assert slider["maximum"] == len(m.history)
    assert "refitted" in words["beta1"][1] and "refitted" not in words["beta0"][1]


def test_the_training_curves_mark_the_epoch_shown():
    for name, m in models.MODELS.items():
        elbo_curve, kl_curve = events.training_curves(3, name)
        assert set(elbo_curve["curve"]) == {*events.CURVES, events.RECONSTRUCTION_CURVE, events.EPOCH_MARK}
        mark = elbo_curve[elbo_curve["curve"] == events.EPOCH_MARK]
        assert mark["epoch"].tolist() == [3, 3] and mark["nats"].min() == elbo_curve["nats"].min()
        tests = kl_curve[kl_curve["curve"] == "test"]
        assert tests["nats"].tolist() == [e["kl"] for e in m.history] and len(tests) == len(m.history)
    assert events.training_curves(10_000, "beta0")[0]["epoch"].max() == len(models.MODELS["beta0"].history)  # clamped


def test_an_api_call_written_before_the_model_argument_still_works(app_url):
    """/decode called over plain HTTP with its two original inputs gets the default model's digit; with
    a third, that model's; an unknown one, a message."""
    def call(data):
        event = httpx.post(f"{app_url}gradio_api/call/decode", json={"data": data}, timeout=30).json()["event_id"]
        stream = httpx.get(f"{app_url}gradio_api/call/decode/{event}", timeout=60).text
        kind, payload = [line.split(":", 1)[1].strip() for line in stream.strip().split("\n")[-2:]]
        if kind != "complete":
            return json.loads(payload)
        return np.asarray(Image.open(io.BytesIO(httpx.get(json.loads(payload)[0]["url"], timeout=30).content)).convert("L"))

    np.testing.assert_array_equal(call([0.5, -1.0]), api.decode(0.5, -1.0))
    np.testing.assert_array_equal(call([0.5, -1.0, "beta0"]), api.decode(0.5, -1.0, "beta0"))
    assert "model must be one of" in call([0.5, -1.0, "nonsense"])["error"]
    assert not isinstance(call([0.5]), np.ndarray), "only the optional inputs may be left out"


def test_the_api_page_offers_the_model_argument_with_its_default(app_url):
    for name, endpoint in api_page(app_url).items():
        if name in ENDPOINTS:
            last = endpoint["parameters"][-1]
            assert last["parameter_name"] == "model" and last["parameter_default"] == "beta1", name
            assert "beta0" in last["python_type"]["description"]

