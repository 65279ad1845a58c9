"""Your own checkpoint in the explorer (explorer/own.py, explorer/models.py): the NAME=PATH request, the
messages for what cannot be shown, figures found beside a checkpoint used only when they are its own,
a model nobody evaluated measured at start-up, and, end to end, a model the training CLI makes served
by `python app.py --checkpoint mine=PATH`.

The fast tests load small checkpoints written by vae.model.save_checkpoint, as vae.train writes them;
the end-to-end test trains one with the CLI on real MNIST (skipped without it).
"""
import json
import subprocess
import sys
import time

import httpx
import numpy as np
import pytest
import torch
from gradio_client import Client
from PIL import Image

from explorer import api, assets, events, models, own, text
from explorer.browser import free_port
from explorer.own import CheckpointError
from test_serving import Server
from vae import draw, latent
from vae.data import load_mnist, mnist_available
from vae.model import VAE, checkpoint_sha256, load_checkpoint, save_checkpoint

COMMITTED = list(models.MODEL_FOLDERS)
HISTORY_KEYS = ("neg_elbo", "reconstruction", "kl", "train_sample_neg_elbo", "train_sample_reconstruction", "train_sample_kl")


@pytest.fixture(scope="module", autouse=True)
def loaded():
    models.load()


def write_checkpoint(path, epochs: int = 1, hidden: int = 64, depth: int = 1, seed: int = 0, **config) -> str:
    """A checkpoint as vae.train leaves a finished run (compact, its per-epoch history in meta), random weights."""
    torch.manual_seed(seed)
    history = [{"epoch": e + 1, **{key: float(100 - e) for key in HISTORY_KEYS}} for e in range(epochs)]
    save_checkpoint(path, VAE(hidden=hidden, depth=depth, **config), {"epochs": epochs, "beta": 1.0, "history": history},
                    compact=True)
    return str(path)


# ---------------------------------------------------------------- the request


def test_options_and_the_environment_name_the_models():
    request = own.parse_request(["--checkpoint", "mine=runs/x.pt", "--checkpoint", "b=y.pt"],
                                {own.ENV_CHECKPOINTS: "env=runs/e.pt, other = o.pt"}, COMMITTED)
    assert list(request.checkpoints) == ["env", "other", "mine", "b"] and not request.only_mine
    assert str(request.checkpoints["other"]) == "o.pt"
    assert own.parse_request([], {own.ENV_CHECKPOINTS: "mine=x.pt", own.ENV_ONLY_MINE: "1"}, COMMITTED).only_mine
    assert own.parse_request(["--checkpoint", "mine=x.pt", "--only-mine"], {}, COMMITTED).only_mine
    assert own.parse_request([], {}, COMMITTED) == own.NONE


@pytest.mark.parametrize("argv, environ, message", [
    (["--checkpoint", "runs/x.pt"], {}, "'runs/x.pt': write NAME=PATH"),
    (["--checkpoint", "mine="], {}, "'mine=': write NAME=PATH"),
    ([], {own.ENV_CHECKPOINTS: "my model=x.pt"}, "a NAME is 1 to 32 letters"),
    (["--checkpoint", "beta1=x.pt"], {}, "the name 'beta1' is a committed model's; pick another"),
    (["--checkpoint", "a=x.pt", "--checkpoint", "a=y.pt"], {}, "the name 'a' is given twice"),
    (["--only-mine"], {}, "--only-mine needs at least one --checkpoint"),
])
def test_a_bad_request_says_what_is_wrong(argv, environ, message):
    with pytest.raises(CheckpointError, match=message.replace("(", r"\(")) as error:
        own.parse_request(argv, environ, COMMITTED)
    assert "\n" not in str(error.value)


# ---------------------------------------------------------------- checkpoints the page cannot draw


def test_what_is_no_checkpoint_to_show_gets_one_line(tmp_path):
    (tmp_path / "text.pt").write_text("not a checkpoint")
    torch.save(VAE(hidden=16, depth=1).state_dict(), tmp_path / "state_dict.pt")  # a plain state dict, not vae.train's file
    misshapen = torch.load(write_checkpoint(tmp_path / "misshapen.pt"), weights_only=True)
    misshapen["config"]["hidden"] = 32  # weights of one shape, a config of another
    torch.save(misshapen, tmp_path / "misshapen.pt")
    write_checkpoint(tmp_path / "three_d.pt", latent_dim=3)
    cases = {"missing.pt": "No VAE checkpoint at", "text.pt": "is not a readable VAE checkpoint",
             "state_dict.pt": "is not a VAE checkpoint of this project", "misshapen.pt": "does not match the VAE architecture",
             "three_d.pt": "has a 3-D latent space; the explorer draws 2-D ones"}
    for file, message in cases.items():
        with pytest.raises(CheckpointError, match=message) as error:
            models.read_checkpoint("mine", tmp_path / file)
        said = str(error.value)
        assert said.startswith("model mine: ") and "\n" not in said and len(said) <= own.MESSAGE_LENGTH, said


@pytest.mark.slow  # a fresh Python importing torch and Gradio for each: seconds
@pytest.mark.parametrize("option, message", [("mine", "write NAME=PATH"), ("mine=text.pt", "is not a readable VAE checkpoint")])
def test_app_py_refuses_them_with_a_message_and_an_exit_code(tmp_path, option, message):
    (tmp_path / "text.pt").write_text("not a checkpoint")
    run = subprocess.run([sys.executable, str(models.ROOT / "app.py"), "--checkpoint", option], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode != 0 and "Traceback" not in run.stderr, run.stderr[-3000:]
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("app.py: ") and message in last, run.stderr[-3000:]


# ---------------------------------------------------------------- an own model in the app


@pytest.fixture
def mine(tmp_path, monkeypatch) -> models.Model:
    """A one-epoch model without a replay, loaded as app.py loads an own one and shown beside the committed
    ones for the test's length."""
    m = models.load_model("mine", models.Path(write_checkpoint(tmp_path / "x.pt")), committed=False)
    monkeypatch.setitem(models.MODELS, "mine", m)
    return m


def test_an_own_model_works_in_every_handler(mine):
    z = (0.5, -1.0)
    np.testing.assert_array_equal(api.decode(*z, "mine"), draw.enlarge(latent.decode_images(mine.display, [z])[0], api.DIGIT_SCALE))
    assert not np.array_equal(api.decode(*z, "mine"), api.decode(*z, "beta1"))
    assert api.sample(4, 0, "mine").shape and api.grid(0, 0, 4, 3, "linear", "mine").size
    assert events.reconstruct_again(models.test_images[0], "mine", "mean")[5]["mu"] == api.posterior_of(models.test_images[0], mine)["mu"]
    about, reading, slider = events.model_words("mine")
    assert "your checkpoint" in about and text.NOT_EVALUATED in reading
    assert slider["maximum"] == 2 and slider["interactive"] is False  # one epoch: Gradio's slider needs two ends
    elbo_curve, _ = events.training_curves(1, "mine")
    assert set(elbo_curve["epoch"]) == {1}
    assert "replay" not in mine.assets and mine.history[0]["epoch"] == 1  # no replay: the curves come from the checkpoint


def test_a_model_nobody_evaluated_is_measured_at_start_up_and_says_so(mine):
    digits = own.test_digits(models.CHECKPOINTS / "test_latents.pt")
    assert len(mine.mu) == len(mine.labels) == len(digits.images) and not mine.facts["evaluated"]
    with torch.inference_mode():
        np.testing.assert_allclose(mine.mu, mine.model.encode(digits.images)[0].double().numpy(), atol=1e-5)
    _, points = assets.unpack(mine.assets["points"].read_bytes())  # the page's map: this model's codes
    np.testing.assert_allclose(points["mu"], mine.mu, atol=1e-6)
    np.testing.assert_array_equal(points["labels"], digits.labels.numpy())
    table = text.models_table({name: m.facts for name, m in models.MODELS.items()})
    row = next(line for line in table.splitlines() if line.startswith("| exact $-\\log p_\\theta(x)$"))
    assert row.split("|")[-2].strip() == text.NOT_EVALUATED  # the quadrature's summary: not computed at start-up
    assert row.split("|")[2].strip() == f"{models.MODELS['beta0'].facts['neg_log_px']:.2f}"  # the committed keep theirs
    assert "**mine** was not evaluated" in table and digits.words in table
    first = next(line for line in table.splitlines() if line.startswith("| test −ELBO"))
    assert first.split("|")[-2].strip() == f"{mine.facts['neg_elbo']:.2f}" != f"{models.DEFAULT.facts['neg_elbo']:.2f}"


def test_figures_beside_a_checkpoint_count_only_when_they_are_its_own(tmp_path):
    path = tmp_path / "x.pt"
    write_checkpoint(path)
    assert own.own_figures(path) is None  # nothing there
    latents = {"mu": torch.zeros(3, 2), "logvar": torch.zeros(3, 2), "labels": torch.zeros(3, dtype=torch.uint8)}
    for sha, theirs in ((checkpoint_sha256(path), True), ("0" * 64, False), (None, False)):
        (tmp_path / "metrics.json").write_text(json.dumps({"neg_elbo": 1.0, "checkpoint_sha256": sha}))
        torch.save({**latents, "checkpoint_sha256": sha}, tmp_path / "test_latents.pt")
        assert (own.own_figures(path) is not None) == theirs, sha
    write_checkpoint(path, seed=1)  # retrained under the same name: the old figures are another checkpoint's
    assert own.own_figures(path) is None


# ---------------------------------------------------------------- end to end


def started(command: list[str], tmp_path, name: str) -> tuple[Server, float]:
    """A server of `command` on a free port, and the seconds it took to answer."""
    start = time.perf_counter()
    server = Server(command, f"http://127.0.0.1:{free_port()}/", models.ROOT, tmp_path / f"{name}.log").wait_until_up()
    return server, time.perf_counter() - start


def page_config(url: str) -> dict:
    """The page view's config (explorer/components.py page_config), as the server sends it."""
    config = httpx.get(url + "config", timeout=30).json()
    return next(c["props"]["props"]["config"] if "props" in c["props"] else c["props"]["config"]
                for c in config["components"] if c["props"].get("elem_id") == "page")


def component(url: str, elem_id: str) -> dict:
    return next(c["props"] for c in httpx.get(url + "config", timeout=30).json()["components"] if c["props"].get("elem_id") == elem_id)


@pytest.mark.slow  # trains with the CLI and starts two servers: ~1 min
@pytest.mark.skipif(not mnist_available(), reason="real MNIST not found: set VAE_DATA_DIR")
def test_a_model_the_cli_trains_in_one_epoch_is_served_as_its_own(tmp_path):
    checkpoint = tmp_path / "runs" / "x.pt"
    subprocess.run([sys.executable, "-m", "vae.train", "--epochs", "1", "--train-subset", "2000", "--test-subset", "500",
                    "--hidden", "64", "--depth", "1", "--no-compile", "--precision", "fp32", "--out", str(checkpoint)],
                   cwd=models.ROOT, check=True, capture_output=True, timeout=300)
    today, today_seconds = started([sys.executable, "app.py"], tmp_path, "today")
    today.stop()
    server, seconds = started([sys.executable, "app.py", "--checkpoint", f"mine={checkpoint}"], tmp_path, "mine")
    try:
        print(f"\nstart-up: python app.py {today_seconds:.1f} s; with --checkpoint mine=... {seconds:.1f} s")
        assert seconds < today_seconds + 30
        model, _ = load_checkpoint(checkpoint)

        # /decode with model "mine" is that checkpoint's decoder; and mine is the default
        client = Client(server.url, verbose=False)
        for call in (("mine",), ()):
            decoded = np.asarray(Image.open(client.predict(0.5, -1.0, *call, api_name="/decode")))
            expected = draw.enlarge(latent.decode_images(model, [[0.5, -1.0]])[0], api.DIGIT_SCALE)
            assert np.abs(decoded.astype(int) - expected).max() <= 2  # the display copy may decode in bfloat16: a level or two

        # the map's points are its codes of the 10,000 test digits
        config = page_config(server.url)
        assert list(config["models"]) == [*COMMITTED, "mine"] and config["models"]["mine"]["epochs"] == 1
        meta, points = assets.unpack(httpx.get(server.url + config["models"]["mine"]["points_url"], timeout=30).content)
        images, labels = load_mnist("test")
        with torch.inference_mode():
            np.testing.assert_allclose(points["mu"], model.encode(images)[0].numpy(), atol=1e-4)
        np.testing.assert_array_equal(points["labels"], labels.numpy())

        # the page picks it first and says its figures are its own, the committed models' stay theirs
        assert component(server.url, "model")["value"] == "mine"
        words = component(server.url, "model_words")["value"]
        assert "your checkpoint" in words and "Nobody has evaluated it yet" in words and "the 10,000 MNIST test images" in words
        assert component(server.url, "train_epoch")["interactive"] is False
        table = next(c["props"]["value"] for c in httpx.get(server.url + "config", timeout=30).json()["components"]
                     if "| test −ELBO" in str(c["props"].get("value", "")))
        row = next(line for line in table.splitlines() if line.startswith("| test −ELBO")).split("|")
        beta1 = json.loads((models.MODEL_FOLDERS["beta1"] / "metrics.json").read_text())["neg_elbo"]
        assert row[2 + COMMITTED.index("beta1")].strip() == f"{beta1:.2f}" != row[-2].strip()
        measured, _ = own.start_up_figures(model, own.test_digits(models.CHECKPOINTS / "test_latents.pt"))
        assert float(row[-2]) == pytest.approx(measured["neg_elbo"], abs=0.01)
        assert "mine: your checkpoint" in table and text.NOT_EVALUATED in table
    finally:
        server.stop()
