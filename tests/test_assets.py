"""The files the page decodes and draws with (explorer/assets.py), and the route that serves them:
the decoder pack holds exactly the weights the server's model computes with, each file is
served with a Cache-Control that lets browsers keep it, and nothing else is served that way."""
import httpx
import numpy as np
import pytest
import torch

from explorer import assets, models
from explorer.gradio_adjustments import IMMUTABLE
from vae import latent
from vae.model import dequantize
from vae.replay import replay_path


@pytest.fixture(scope="module", autouse=True)
def loaded():
    """The committed models and the files they write for the page, as app.py loads them."""
    models.load()


def test_a_pack_reads_back_what_was_packed():
    arrays = {"a": np.arange(-5, 7, dtype=np.int8).reshape(3, 4), "b": np.array([0.5, -2.25, 1e4], dtype=np.float16),
              "c": np.linspace(0, 1, 7, dtype=np.float32), "d": np.array([1, 2, 3], dtype=np.uint8)}
    meta, back = assets.unpack(assets.pack(arrays, {"hello": [1, 2]}))
    assert meta == {"hello": [1, 2]} and back.keys() == arrays.keys()
    for name, array in arrays.items():
        assert back[name].dtype == array.dtype
        np.testing.assert_array_equal(back[name], array)
    with pytest.raises(ValueError, match="not a VAEP pack"):
        assets.unpack(b"PK\x03\x04" + bytes(20))


def test_the_decoder_pack_holds_the_weights_the_server_decodes_with():
    meta, arrays = assets.unpack(models.DEFAULT.assets["decoder"].read_bytes())
    linears = [m for m in models.DEFAULT.model.decoder if isinstance(m, torch.nn.Linear)]
    assert meta["layers"] == len(linears) == 4 and meta["activation"] == "elu" and meta["output"] == "sigmoid"
    for i, layer in enumerate(linears):
        w = torch.from_numpy(arrays[f"w{i}"].copy())
        weight = dequantize(w, torch.from_numpy(arrays[f"s{i}"].copy())) if f"s{i}" in arrays else w.float()
        torch.testing.assert_close(weight, layer.weight, rtol=0, atol=0)
        torch.testing.assert_close(torch.from_numpy(arrays[f"b{i}"].astype(np.float32)), layer.bias, rtol=0, atol=0)
    assert models.DEFAULT.assets["decoder"].stat().st_size < 2.5e6
    # the check points are the server's decode, which a page compares its own with
    np.testing.assert_array_equal(np.array(meta["check"]["pixels"]).reshape(-1, 28, 28),
                                  latent.decode_images(models.DEFAULT.model, meta["check"]["z"]))


def test_the_points_pack_is_the_test_sets_posterior_means_and_the_pickers_digits():
    meta, arrays = assets.unpack(models.DEFAULT.assets["points"].read_bytes())
    assert meta["count"] == 10_000
    np.testing.assert_allclose(arrays["mu"], models.DEFAULT.mu, atol=1e-6)
    np.testing.assert_array_equal(arrays["labels"], models.test_labels)
    np.testing.assert_array_equal(arrays["images"], models.test_images.reshape(100, 784))


def test_every_models_replay_pack_is_its_replay_file():
    for name, m in models.MODELS.items():
        meta, arrays = assets.unpack(m.assets["replay"].read_bytes())
        saved = torch.load(replay_path(models.MODEL_FOLDERS[name] / "vae.pt"), weights_only=True)
        assert meta["epochs"] == saved["epochs"].tolist() == list(range(1, len(m.history) + 1)), name
        assert meta["manifold_epochs"][-1] == len(m.history) and meta["history"] == m.history
        np.testing.assert_array_equal(arrays["mu"], saved["mu"].numpy())
        np.testing.assert_array_equal(arrays["manifolds"], saved["manifolds"].numpy().reshape(len(meta["manifold_epochs"]), -1, 784))
        np.testing.assert_array_equal(arrays["labels"], models.test_labels[:2000])
        # the decoder and the map's points are each model's own
        _, points = assets.unpack(m.assets["points"].read_bytes())
        np.testing.assert_allclose(points["mu"], m.mu, atol=1e-6)


def test_file_names_change_with_content_and_writing_again_keeps_the_file(tmp_path):
    one = assets.write_asset(tmp_path, "x", ".bin", b"one")
    assert assets.write_asset(tmp_path, "x", ".bin", b"one") == one and one.read_bytes() == b"one"
    assert assets.write_asset(tmp_path, "x", ".bin", b"two") != one
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([one.name, assets.write_asset(tmp_path, "x", ".bin", b"two").name])


def test_the_page_files_are_served_for_good_and_nothing_else_is(app_url):
    files = [*models.PAGE_MODULES.values(), *(path for m in models.MODELS.values() for path in m.assets.values())]
    assert len(set(files)) == len(models.PAGE_MODULES) + 4 * len(models.MODELS) and "page" in models.PAGE_MODULES
    for path in files:
        answer = httpx.get(f"{app_url}gradio_api/file={path}")
        assert answer.status_code == 200 and answer.content == path.read_bytes(), path.name
        assert answer.headers["cache-control"] == IMMUTABLE
    folder = models.ASSET_FOLDER
    refused = [models.CHECKPOINT, models.ROOT / "app.py", f"{folder}/../../etc/passwd", "/etc/passwd", folder, f"{folder}/missing.bin",
               f"{folder}/..%2F..%2Fetc%2Fpasswd"]
    for path in refused:
        answer = httpx.get(f"{app_url}gradio_api/file={path}")
        assert answer.status_code in (403, 404), (path, answer.status_code)
        assert "cache-control" not in answer.headers or answer.headers["cache-control"] != IMMUTABLE
