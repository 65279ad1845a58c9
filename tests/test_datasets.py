"""MNIST-format datasets beyond MNIST (vae/data.py's DATASETS): read from their own IDX folders, trained
on with `--dataset`, recorded in the checkpoint with their class names, and drawn with those names on the
latent map and in the files the page reads.

The data is a small synthetic Fashion-MNIST in the real IDX format (test_train.py's fake digits under
FashionMNIST/raw/), so nothing is downloaded.
"""
import io
import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin

import httpx
import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from explorer import assets
from explorer.browser import free_port
from test_serving import Server
from test_train import fake_digits, write_idx
from vae import draw
from vae.data import DATASETS, class_names, load_mnist, mnist_available
from vae.model import load_checkpoint

REPO = Path(__file__).resolve().parent.parent
FASHION = list(DATASETS["fashion-mnist"].classes)


def write_dataset(root: Path, folder: str, n_train: int, n_test: int) -> None:
    """<root>/<folder>/raw/ as torchvision's MNIST-format classes read it, uncompressed."""
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(1)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images, labels = fake_digits(n, rng)
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)


@pytest.fixture(scope="module")
def fashion_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fake_fashion")
    write_dataset(root, "FashionMNIST", 320, 100)
    return root


def test_class_names_are_torchvisions_and_mnists_are_its_digits():
    from torchvision.datasets import KMNIST, FashionMNIST

    assert FASHION == FashionMNIST.classes
    assert list(DATASETS["kmnist"].classes) == KMNIST.classes
    assert list(DATASETS["mnist"].classes) == [str(d) for d in range(10)]
    assert class_names({}) == list(DATASETS["mnist"].classes), "a checkpoint from before datasets were recorded is MNIST's"
    assert class_names({"classes": FASHION}) == FASHION


def test_each_dataset_is_read_from_its_own_folder_and_never_downloaded(fashion_dir):
    x, y = load_mnist("test", str(fashion_dir), "fashion-mnist")
    assert x.shape == (100, 1, 28, 28) and x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1
    assert y.dtype == torch.int64 and set(y.tolist()) <= set(range(10))
    assert mnist_available(str(fashion_dir), "fashion-mnist")
    assert not mnist_available(str(fashion_dir)) and not mnist_available(str(fashion_dir), "kmnist")
    with pytest.raises(FileNotFoundError, match="KMNIST/raw"):
        load_mnist("test", str(fashion_dir), "kmnist")
    with pytest.raises(ValueError, match="fashion-mnist"):
        load_mnist("test", str(fashion_dir), "fashion")
    assert not (fashion_dir / "KMNIST").exists(), "a given root is never downloaded into"


def legend_name_at(image: Image.Image, frame: draw.MapFrame, d: int) -> np.ndarray:
    """The strip of the legend column under class d's dot, where draw_legend writes a long name (right of the plot's border)."""
    x1, y = frame.box[2], frame.box[1] + 14 + d * 40
    return np.asarray(image.crop((x1 + 1, y + 8, x1 + frame.legend, y + 26)).convert("L"))


def name_alone(frame: draw.MapFrame, name: str) -> np.ndarray:
    strip = Image.new("RGB", (frame.legend - 1, 18), "white")
    ImageDraw.Draw(strip).text((frame.legend // 2 - 1, 1), name, fill=draw.INK, font=draw.font(draw.NAME_SIZE), anchor="mt")
    return np.asarray(strip.convert("L"))


@pytest.fixture(scope="module")
def fashion_run(fashion_dir, tmp_path_factory) -> tuple[Path, str]:
    """A Fashion-MNIST model trained for one epoch and evaluated by the CLIs: (its checkpoint, vae.evaluate's output)."""
    out = tmp_path_factory.mktemp("fashion_run") / "vae.pt"
    train = [sys.executable, "-m", "vae.train", "--data-dir", str(fashion_dir), "--dataset", "fashion-mnist", "--out", str(out),
             "--epochs", "1", "--hidden", "64", "--depth", "1", "--batch-size", "64", "--no-compile", "--precision", "fp32",
             "--replay", "50", "--device", "cpu"]
    subprocess.run(train, cwd=REPO, check=True, capture_output=True, timeout=300)
    # vae.evaluate reads the checkpoint's dataset unasked, and writes the labels the map colours.
    evaluate = [sys.executable, "-m", "vae.evaluate", "--data-dir", str(fashion_dir), "--checkpoint", str(out),
                "--subset", "60", "--L", "4", "--K", "16", "--split-digits", "0", "--device", "cpu"]
    result = subprocess.run(evaluate, cwd=REPO, check=True, capture_output=True, text=True, timeout=300)
    return out, result.stdout


@pytest.mark.slow
def test_train_and_evaluate_on_fashion_mnist_record_it_and_the_map_names_its_classes(fashion_dir, fashion_run):
    out, evaluate_output = fashion_run
    _, ckpt = load_checkpoint(out)
    meta = ckpt["meta"]
    assert meta["dataset"] == "fashion-mnist" and meta["classes"] == FASHION and meta["device"] == "cpu"
    assert "--dataset fashion-mnist" in meta["command"]
    assert "no legibility figures" in evaluate_output, "the MNIST classifier does not judge Fashion-MNIST"
    assert json.loads((out.parent / "metrics.json").read_text())["dataset"] == "fashion-mnist"
    latents = torch.load(out.parent / "test_latents.pt", weights_only=True)
    assert torch.equal(latents["labels"].long(), load_mnist("test", str(fashion_dir), "fashion-mnist")[1][:60])

    # The map carries the checkpoint's names: each under its colour's dot in the legend, in label order.
    frame = draw.MapFrame()
    image = draw.render_map(frame, latents["mu"].double().numpy(), latents["labels"].numpy(), class_names(meta))
    for d, name in enumerate(FASHION):
        assert np.array_equal(legend_name_at(image, frame, d), name_alone(frame, name)), name
    assert not np.array_equal(legend_name_at(image, frame, 0), name_alone(frame, FASHION[1]))
    # ...and so do the files the page draws its maps from.
    meta_read, _ = assets.unpack(assets.points_pack(latents["mu"].numpy(), latents["labels"].numpy(), latents["images"].numpy(),
                                                    class_names(meta)))
    assert meta_read["classes"] == FASHION


@pytest.mark.slow  # starts the app: ~30 s
def test_the_app_serves_a_fashion_mnist_checkpoint_with_its_class_names(fashion_run, tmp_path):
    out, _ = fashion_run
    server = Server([sys.executable, "app.py", "--checkpoint", f"fashion={out}"], f"http://127.0.0.1:{free_port()}/", REPO,
                    tmp_path / "app.log").wait_until_up()
    try:
        config = httpx.get(server.url + "config", timeout=30).json()
        page = next(c["props"]["props"]["config"] if "props" in c["props"] else c["props"]["config"]
                    for c in config["components"] if c["props"].get("elem_id") == "page")
        # the files the page draws each model's maps from carry its names: Fashion-MNIST's for it, digits for the committed ones
        classes = {name: assets.unpack(httpx.get(server.url + files["points_url"], timeout=30).content)[0]["classes"]
                   for name, files in page["models"].items()}
        assert classes.pop("fashion") == FASHION
        assert classes and all(names == list(DATASETS["mnist"].classes) for names in classes.values())
        # the map the server draws for it (the Reconstruct tab's, the model picked first) writes them in its legend
        frame = draw.MapFrame(**{k: tuple(v) if isinstance(v, list) else v for k, v in page["frame"].items()})
        url = next(c["props"]["value"]["url"] for c in config["components"] if c["props"].get("elem_id") == "rec_map")
        image = Image.open(io.BytesIO(httpx.get(urljoin(server.url, url), timeout=30).content)).convert("RGB")
        # The served map is palette-quantized (draw.to_palette), so its text's edges may shift a level: each strip is
        # read as the name it is closest to.
        alone = [name_alone(frame, name).astype(int) for name in FASHION]
        for d in range(len(FASHION)):
            strip = legend_name_at(image, frame, d).astype(int)
            assert np.argmin([np.abs(strip - a).sum() for a in alone]) == d, FASHION[d]
    finally:
        server.stop()


def test_the_mnist_map_is_drawn_as_before():
    """MNIST's names are its digits, beside their dots: the default map, the one the committed models show."""
    rng = np.random.default_rng(0)
    z, labels, frame = rng.normal(size=(2000, 2)), rng.integers(0, 10, 2000), draw.MapFrame()
    image = draw.render_map(frame, z, labels)
    assert image.tobytes() == draw.render_map(frame, z, labels, class_names({})).tobytes()
    assert image.tobytes() != draw.render_map(frame, z, labels, DATASETS["kmnist"].classes).tobytes()
    x1, y0 = frame.box[2], frame.box[1]
    seven = np.asarray(image.crop((x1 + 30, y0 + 14 + 7 * 22 - 9, x1 + frame.legend, y0 + 14 + 7 * 22 + 9)).convert("L"))
    alone = Image.new("RGB", (frame.legend - 30, 18), "white")
    ImageDraw.Draw(alone).text((4, 9), "7", fill=draw.INK, font=draw.font(14), anchor="lm")
    assert np.array_equal(seven, np.asarray(alone.convert("L")))
