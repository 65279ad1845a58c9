"""Bad input through the API of the launched app: every case gets a clear message (or is
clamped as vae/inputs.py documents), unusual but valid images still work, nothing outside
Gradio's temp area can be read, a flood of requests gets "queue full" instead of piling up,
and after each of them the server still answers a normal /decode.

Numbers and uploads go through gradio_client, as a user's script would send them; forged
file payloads, file URLs, oversized uploads and the flood go over plain HTTP, because
gradio_client never sends those.
"""
import io
import json
import threading
import uuid
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest
import torch
from PIL import Image

pytest.importorskip("gradio")
from gradio_client import handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

from explorer import api, gradio_adjustments, models  # noqa: E402
from pictures import bomb_png, close, encode, seven  # noqa: E402
from vae import draw, inputs, preprocess  # noqa: E402

REFERENCE = preprocess.prepare_image(seven())

NOT_AN_IMAGE = "not an image we can read"
DAMAGED = "damaged or incomplete"
BLANK = "No digit found: the image is blank"
PASSWD_LINE = "root:x:0:0"


@pytest.fixture(scope="module", autouse=True)
def loaded():
    """The committed models, loaded as app.py loads them: these tests also call the handlers directly."""
    models.load()


# ---------------------------------------------------------------- helpers


def load(path: str | io.BytesIO) -> np.ndarray:
    image = np.asarray(Image.open(path))
    return image if image.ndim == 2 else image[..., 0]


def assert_still_serving(client) -> None:
    """The server answers a normal request with the right digit."""
    np.testing.assert_array_equal(load(client.predict(0.5, -1.0, api_name="/decode")), api.decode(0.5, -1.0))


def prepared_input(output_path: str) -> torch.Tensor:
    """The 28x28 model input an /reconstruct call shows (4x enlarged on the wire), as [1, 1, 28, 28] in [0, 1]."""
    small = load(output_path)[:: api.DIGIT_SCALE, :: api.DIGIT_SCALE]
    return torch.tensor(small / 255, dtype=torch.float32).view(1, 1, 28, 28)


@pytest.fixture(scope="module")
def http(app_url):
    """Plain HTTP to the app; one client, shared by threads (a client per request costs ~30 ms)."""
    with httpx.Client(base_url=app_url, timeout=60, limits=httpx.Limits(max_connections=16)) as client:
        yield client


def raw_call(http: httpx.Client, name: str, data: list) -> tuple[str, str]:
    """POST /gradio_api/call/<name>, then read its event stream: (last event, its data)."""
    body = json.dumps({"data": data})  # NaN and Infinity as JSON literals, which httpx's json= refuses
    r = http.post(f"/gradio_api/call/{name}", content=body, headers={"Content-Type": "application/json"})
    r.raise_for_status()
    stream = http.get(f"/gradio_api/call/{name}/{r.json()['event_id']}").text
    events = [block.split("\n") for block in stream.strip().split("\n\n")]
    last = [lines for lines in events if lines[0] != "event: heartbeat"][-1]
    return last[0].removeprefix("event: "), "\n".join(line.removeprefix("data: ") for line in last[1:])


def upload(tmp_path: Path, name: str, data: bytes) -> dict:
    path = tmp_path / name
    path.write_bytes(data)
    return handle_file(str(path))


# ---------------------------------------------------------------- numbers: a message for non-numbers

# gradio_client refuses to send NaN or infinity as JSON numbers, so it sends them as text here;
# a raw HTTP client can send the JSON literals, tested below.
NON_NUMBERS = {
    "decode-nan-text": ("/decode", ("nan", 0.0), "z1 must be a finite number, not nan"),
    "decode-minus-inf-text": ("/decode", (0.0, "-inf"), "z2 must be a finite number, not -inf"),
    "decode-beyond-float-text": ("/decode", ("9" * 400, 0.0), "z1 must be a finite number, not inf"),
    "decode-true": ("/decode", (True, 0.0), "z1 must be a number, not True"),
    "decode-list": ("/decode", ([1, 2], 0.0), "z1 must be a number, not [1, 2]"),
    "grid-span-nan": ("/grid", (0.0, 0.0, "NaN", 10, "linear"), "span must be a finite number"),
    "grid-z2-inf": ("/grid", (0.0, "Infinity", 6.0, 10, "linear"), "centre z2 must be a finite number"),
    "grid-n-inf": ("/grid", (0.0, 0.0, 6.0, "inf", "linear"), "grid size must be a finite number"),
    "grid-n-text": ("/grid", (0.0, 0.0, 6.0, "ten", "linear"), "grid size must be a number, not 'ten'"),
    "grid-n-fraction": ("/grid", (0.0, 0.0, 6.0, 10.5, "linear"), "grid size must be a whole number"),
    "grid-spacing-none": ("/grid", (0.0, 0.0, 6.0, 10, None), "spacing must be one of linear, cdf"),
    "sample-n-nan": ("/sample", ("nan", 0), "number of samples must be a finite number"),
    "sample-seed-minus-inf": ("/sample", (10, "-inf"), "seed must be a finite number"),
    "sample-seed-100k-text": ("/sample", (10, "x" * 100_000), "seed must be a number, not 'xxxx"),
    "sample-seed-fraction": ("/sample", (10, 0.5), "seed must be a whole number"),
    "interpolate-b1-nan": ("/interpolate", (0.0, 0.0, "nan", 1.0, 5), "B z1 must be a finite number"),
    "interpolate-steps-none": ("/interpolate", (0.0, 0.0, 1.0, 1.0, None), "steps must be a number, not None"),
}


@pytest.mark.parametrize("api_name, args, message", NON_NUMBERS.values(), ids=NON_NUMBERS.keys())
def test_non_numbers_get_a_message(client, api_name, args, message):
    with pytest.raises(AppError) as error:
        client.predict(*args, api_name=api_name)
    assert message in str(error.value)
    assert len(str(error.value)) < 200  # a 100 kB input is not echoed back
    assert_still_serving(client)


NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize("name, data, message", [
    ("decode", [NAN, 0.0], "z1 must be a finite number, not nan"),
    ("grid", [0.0, 0.0, 6.0, -INF, "linear"], "grid size must be a finite number, not -inf"),
    ("sample", [10, INF], "seed must be a finite number, not inf"),
    ("interpolate", [0.0, 0.0, 1.0, 1.0, NAN], "steps must be a finite number, not nan"),
], ids=["decode-NaN", "grid-n-minus-Infinity", "sample-seed-Infinity", "interpolate-steps-NaN"])
def test_json_nan_and_infinity_get_a_message(http, client, name, data, message):
    event, body = raw_call(http, name, data)
    assert (event, json.loads(body)["error"]) == ("error", message + ".")
    assert_still_serving(client)


@pytest.mark.parametrize("L, K, seed, message", [
    ("nan", 10, 0, "L must be a finite number"),
    (10, "inf", 0, "K must be a finite number"),
    (10, 10, "nan", "seed must be a finite number"),
    ("many", 10, 0, "L must be a number, not 'many'"),
    (10, 2.5, 0, "K must be a whole number"),
], ids=["L-nan", "K-inf", "seed-nan", "L-text", "K-fraction"])
def test_elbo_non_numbers_get_a_message(client, tmp_path, L, K, seed, message):
    with pytest.raises(AppError, match=message):
        client.predict(upload(tmp_path, "seven.png", encode(seven())), L, K, seed, api_name="/elbo")
    assert_still_serving(client)


# ---------------------------------------------------------------- numbers: huge and negative values are clamped


@pytest.mark.parametrize("api_name, args, clamped", [
    ("/decode", (1e300, -(10**400)), lambda: api.decode(inputs.Z_LIMIT, -inputs.Z_LIMIT)),
    ("/decode", ("-1e6", " 7 "), lambda: api.decode(-inputs.Z_LIMIT, inputs.Z_LIMIT)),
    ("/grid", (0.0, 0.0, 6.0, 10**9, "linear"), lambda: api.grid(0.0, 0.0, 6.0, inputs.GRID_N_MAX, "linear")),
    ("/grid", (0.0, 0.0, 6.0, -5, "cdf"), lambda: api.grid(0.0, 0.0, 6.0, 1, "cdf")),
    ("/grid", (1e9, -1e9, 1e9, 4, " CDF "), lambda: api.grid(inputs.Z_LIMIT, -inputs.Z_LIMIT, inputs.SPAN_MAX, 4, "cdf")),
    ("/grid", (0.0, 0.0, -3.0, 4, "linear"), lambda: api.grid(0.0, 0.0, inputs.SPAN_MIN, 4, "linear")),
    ("/sample", (-5, 3), lambda: api.sample(1, 3)),
    ("/sample", (10**9, -7), lambda: api.sample(inputs.SAMPLES_N_MAX, 0)),
    ("/sample", (4, 10**30), lambda: api.sample(4, inputs.SEED_MAX)),
    ("/interpolate", (-1e9, 0.0, 1e9, 0.0, 10**9), lambda: api.interpolate(-inputs.Z_LIMIT, 0.0, inputs.Z_LIMIT, 0.0, inputs.STEPS_MAX)),
    ("/interpolate", (0.0, 0.0, 1.0, 1.0, -5), lambda: api.interpolate(0.0, 0.0, 1.0, 1.0, inputs.STEPS_MIN)),
], ids=["decode-far-z", "decode-numeric-strings", "grid-n-1e9", "grid-n-negative", "grid-far-centre-huge-span",
        "grid-negative-span", "sample-n-negative", "sample-n-1e9-seed-negative", "sample-seed-1e30",
        "interpolate-far-ends-steps-1e9", "interpolate-steps-negative"])
def test_huge_and_negative_values_are_clamped(client, api_name, args, clamped):
    out = load(client.predict(*args, api_name=api_name))
    np.testing.assert_array_equal(out, np.asarray(clamped()))
    assert_still_serving(client)


def test_grid_of_a_billion_is_30x30_and_sample_of_minus_5_is_one_digit(client):
    layout = draw.grid_layout(inputs.GRID_N_MAX)
    grid = load(client.predict(0.0, 0.0, 6.0, 10**9, "linear", api_name="/grid"))
    assert grid.shape[1] == layout.left + 30 * layout.cell + 29 * layout.gap + draw.GRID_MARGINS["right"]
    assert load(client.predict(-5, 0, api_name="/sample")).shape == (56, 56)  # one cell, 2x enlarged
    assert_still_serving(client)


@pytest.mark.parametrize("L, K, seed, expected", [
    (10**9, -5, -5, (inputs.L_MAX, 1, 0)),
    (-5, 10**9, 10**30, (1, inputs.K_MAX, inputs.SEED_MAX)),
], ids=["L-huge-K-negative-seed-negative", "L-negative-K-huge-seed-huge"])
def test_elbo_counts_are_clamped(client, tmp_path, L, K, seed, expected):
    terms = client.predict(upload(tmp_path, "seven.png", encode(seven())), L, K, seed, api_name="/elbo")
    assert (terms["L"], terms["K"], terms["seed"]) == expected
    same = api.elbo(str(tmp_path / "seven.png"), *expected)  # the clamped values given directly
    for key in ("reconstruction", "kl", "elbo", "iwae", "log_px"):
        assert terms[key] == pytest.approx(same[key]), key
    np.testing.assert_allclose(terms["z_samples"], same["z_samples"])
    assert len(terms["z_samples"]) == expected[0]
    assert_still_serving(client)


# ---------------------------------------------------------------- files we refuse, whatever their name


def truncated(data: bytes) -> bytes:
    return data[: len(data) * 2 // 3]


def transparent_png() -> bytes:
    return encode(Image.new("RGBA", (60, 60), (0, 0, 0, 0)))


BAD_FILES = [
    ("empty.png", lambda: b"", "The file is empty"),
    ("empty", lambda: b"", "The file is empty"),
    ("digit.png", lambda: truncated(encode(seven())), DAMAGED),
    ("photo.jpg", lambda: truncated(encode(seven().convert("RGB"), "JPEG", quality=90)), DAMAGED),
    ("notes.txt", lambda: b"Hello, this is a text file.\n" * 10, NOT_AN_IMAGE),
    ("text.png", lambda: b"Hello, this is a text file pretending to be a PNG.\n" * 10, NOT_AN_IMAGE),
    ("scan.pdf", lambda: b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n", NOT_AN_IMAGE),
    ("pdf.png", lambda: b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n", NOT_AN_IMAGE),
    ("digits.zip", lambda: b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(100), NOT_AN_IMAGE),
    ("zip.png", lambda: b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(100), NOT_AN_IMAGE),
    ("white.png", lambda: encode(Image.new("L", (64, 48), 255)), BLANK),
    ("transparent.png", transparent_png, BLANK),
    ("bomb-50mp.png", lambda: bomb_png(10_000, 5_000), "The image is too large: 10000 x 5000 pixels"),
    ("bomb-200mp.png", lambda: bomb_png(20_000, 10_000), "too many pixels"),
]


@pytest.mark.parametrize("api_name", ["/reconstruct", "/elbo"])
@pytest.mark.parametrize("name, make, message", BAD_FILES, ids=[name for name, *_ in BAD_FILES])
def test_bad_files_get_a_clear_message(client, tmp_path, api_name, name, make, message):
    args = (upload(tmp_path, name, make()),) + ((10, 100, 0) if api_name == "/elbo" else ())
    with pytest.raises(AppError, match=message) as error:
        client.predict(*args, api_name=api_name)
    assert "Traceback" not in str(error.value)
    assert_still_serving(client)


def test_no_file_gets_a_message(client):
    with pytest.raises(AppError, match="Upload an image of a digit first"):
        client.predict(None, api_name="/reconstruct")
    assert_still_serving(client)


# ---------------------------------------------------------------- the upload size limit


def test_gradio_client_refuses_a_file_over_the_limit_before_sending(client, tmp_path):
    with pytest.raises(ValueError, match=f"exceeds the maximum file size of {preprocess.MAX_UPLOAD_BYTES} bytes"):
        client.predict(upload(tmp_path, "big.png", bytes(preprocess.MAX_UPLOAD_BYTES + 1)), api_name="/reconstruct")
    assert_still_serving(client)


# ---------------------------------------------------------------- unusual but valid images


def animated_gif() -> bytes:
    first, second = seven().convert("P"), Image.new("P", seven().size, 0)
    return encode(first, "GIF", save_all=True, append_images=[second], duration=100, loop=0)


def palette_png_with_transparency() -> bytes:
    ink = np.asarray(seven()) < 128
    palette = Image.fromarray(ink.astype(np.uint8), mode="P")
    palette.putpalette([0, 0, 0, 0, 0, 0] + [0] * 762)  # both entries black: only transparency tells ink from paper
    return encode(palette, transparency=0)


def exif_rotated_photo() -> bytes:
    """Orientation 6 ("rotate 90 degrees clockwise to display"), as a phone held sideways stores it."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(seven().transpose(Image.Transpose.ROTATE_90).convert("RGB"), "JPEG", quality=95, exif=exif.tobytes())


def huge_photo() -> bytes:
    photo = Image.new("L", (4000, 3000), 230)
    photo.paste(seven((1000, 800)), (1500, 1000))
    return encode(photo, "JPEG", quality=80)


VALID_FILES = [
    ("animated.gif", animated_gif, REFERENCE, 0.03),
    ("wide.png", lambda: encode(Image.fromarray(np.asarray(seven(), dtype=np.uint16) * 257)), REFERENCE, 0.03),
    ("cmyk.jpg", lambda: encode(seven().convert("CMYK"), "JPEG", quality=95), REFERENCE, 0.03),
    ("palette.png", palette_png_with_transparency, REFERENCE, 0.03),
    ("phone.jpg", exif_rotated_photo, REFERENCE, 0.03),
    ("4000x3000.jpg", huge_photo, preprocess.prepare_image(seven((1000, 800))), 0.06),
]


@pytest.mark.parametrize("name, make, expected, tol", VALID_FILES, ids=[name for name, *_ in VALID_FILES])
def test_unusual_but_valid_images_work(client, tmp_path, name, make, expected, tol):
    prepared, recon, _, _, post = client.predict(upload(tmp_path, name, make()), api_name="/reconstruct")
    assert close(prepared_input(prepared), expected, tol)
    assert load(recon).shape == (112, 112) and len(post["mu"]) == 2 and min(post["sigma"]) > 0
    assert_still_serving(client)


# ---------------------------------------------------------------- no user-supplied paths


def forged(path: str) -> dict:
    return {"path": path, "meta": {"_type": "gradio.FileData"}}


SERVER_FILES = {"passwd": "/etc/passwd", "app.py": str(models.ROOT / "app.py"), "checkpoint": str(models.CHECKPOINT)}


@pytest.mark.parametrize("api_name", ["reconstruct", "elbo"])
@pytest.mark.parametrize("payload", [
    forged("/etc/passwd"),
    forged(str(models.CHECKPOINT)),
    forged("../../../../../../etc/passwd"),
    forged("app.py"),
    forged("file:///etc/passwd"),
    {**forged("/etc/passwd"), "url": "/gradio_api/file=/etc/passwd", "orig_name": "digit.png"},
    "/etc/passwd",
], ids=["passwd", "checkpoint", "relative-passwd", "relative-app.py", "file-url", "with-url", "bare-string"])
def test_a_file_payload_pointing_at_a_server_file_is_refused(http, client, api_name, payload):
    data = [payload] + ([10, 100, 0] if api_name == "elbo" else [])
    event, body = raw_call(http, api_name, data)
    assert event == "error"
    assert PASSWD_LINE not in body and "gradio_api/file=" not in body
    # refused before the app opened it, with a reason
    assert json.loads(body)["error"] == (gradio_adjustments.NOT_A_FILE if isinstance(payload, str) else gradio_adjustments.FOREIGN_FILE)
    assert_still_serving(client)


@pytest.mark.parametrize("api_name", ["reconstruct", "elbo"])
def test_a_digit_outside_gradios_temp_area_is_refused_by_path(http, client, tmp_path, api_name):
    """A file that would reconstruct fine if it were read: the refusal is about where it is."""
    digit = tmp_path / "seven.png"  # pytest's temp dir, beside but outside Gradio's upload folder
    digit.write_bytes(encode(seven()))
    data = [forged(str(digit))] + ([10, 100, 0] if api_name == "elbo" else [])
    event, body = raw_call(http, api_name, data)
    assert event == "error" and json.loads(body)["error"] == gradio_adjustments.FOREIGN_FILE
    assert client.predict(handle_file(str(digit)), api_name="/reconstruct")[-1]["mu"]  # uploaded, the same file works
    assert_still_serving(client)


def test_a_loopback_url_payload_is_not_fetched(app_url, http, client):
    """A URL is downloaded by the server only from public addresses: not from itself."""
    event, body = raw_call(http, "reconstruct", [forged(f"{app_url}gradio_api/file=/etc/passwd")])
    assert event == "error" and PASSWD_LINE not in body
    assert_still_serving(client)


@pytest.mark.parametrize("path", list(SERVER_FILES.values()) + ["app.py", "/tmp/gradio/../../etc/passwd"],
                         ids=list(SERVER_FILES) + ["relative-app.py", "dot-dot"])
def test_server_files_are_not_served(http, client, path):
    r = http.get(f"/gradio_api/file={path}")
    assert r.status_code in (403, 404)
    assert PASSWD_LINE not in r.text and "import" not in r.text
    assert_still_serving(client)


def test_files_the_app_produced_are_served(http):
    event, body = raw_call(http, "decode", [0.5, -1.0])
    assert event == "complete"
    r = http.get(json.loads(body)[0]["url"])
    assert r.status_code == 200
    np.testing.assert_array_equal(load(io.BytesIO(r.content)), api.decode(0.5, -1.0))


# ---------------------------------------------------------------- a flood of requests


@contextmanager
def held_at_a_gate(api_name: str, arrived: threading.Event | None = None):
    """While inside, every call of an endpoint waits at a gate before it computes, so a test
    decides when work finishes instead of the machine's speed. Yields the gate to open; sets
    `arrived` when a call reaches it."""
    import app

    block_fn = next(fn for fn in app.demo.fns.values() if fn.api_name == api_name)
    original, gate = block_fn.fn, threading.Event()

    def wait_then_compute(*args):
        if arrived is not None:
            arrived.set()
        gate.wait(timeout=120)
        return original(*args)

    block_fn.fn = wait_then_compute
    try:
        yield gate
    finally:
        block_fn.fn = original
        gate.set()


def test_a_flood_gets_queue_full_and_nothing_hangs(http, client):
    """More calls than the queue holds while the workers are busy: the excess is told at once that
    the queue is full, and every accepted call completes once the workers are free."""
    limits = gradio_adjustments
    flood = limits.QUEUE_SIZE + limits.CONCURRENCY + 20
    with held_at_a_gate("grid") as gate:
        answers = [http.post("/gradio_api/call/grid", json={"data": [0.0, 0.0, 6.0, 10, "linear"]}) for _ in range(flood)]
        codes = [r.status_code for r in answers]
        accepted = [r.json()["event_id"] for r in answers if r.status_code == 200]
        # The two workers take a call each off the queue while the rest are pushed, so the
        # queue holds QUEUE_SIZE and the workers up to CONCURRENCY more.
        assert limits.QUEUE_SIZE <= len(accepted) <= limits.QUEUE_SIZE + limits.CONCURRENCY, codes
        assert codes == [200] * len(accepted) + [503] * (flood - len(accepted))
        assert all(r.json()["detail"].startswith(f"Queue is full. Max size is {limits.QUEUE_SIZE}") for r in answers[len(accepted):])
        gate.set()
        with ThreadPoolExecutor(8) as pool:
            streams = list(pool.map(lambda event_id: http.get(f"/gradio_api/call/grid/{event_id}", timeout=120).text, accepted))
    assert all(s.startswith("event: complete") for s in streams), [s[:80] for s in streams if not s.startswith("event: complete")]
    assert_still_serving(client)


def story_show(step: int, quick: bool) -> tuple:
    """The Story's `show` event for the quick steps or the slow ones, and its inputs' values with `step` shown."""
    import app
    from explorer import story

    block_fn = next(f for f in app.demo.fns.values()
                    if getattr(f.fn, "func", None) is story.show and tuple(f.fn.keywords["outputs"]) == (story.QUICK if quick else story.SLOW))
    return block_fn.fn, [step] + [c.value for c in block_fn.inputs[1:]]


def test_a_class_s_elbos_hold_up_neither_uploads_nor_the_story_s_quick_steps(http):
    """While the quadrature is busy with someone's ELBO, an upload's reading and the Story's quick
    steps (1, 8) are answered; a slow step (3, the exact terms) waits its turn and is answered after."""
    from test_gradio_adjustments import page_event

    slow_fn, slow_data = story_show(3, quick=False)
    assert page_event(http, slow_fn, slow_data, uuid.uuid4().hex)["success"]  # its digit's terms now cached: quick once its turn comes
    path = http.post("/gradio_api/upload", files={"files": ("seven.png", encode(seven()), "image/png")}).json()[0]
    payload = {"path": path, "orig_name": "seven.png", "meta": {"_type": "gradio.FileData"}}
    arrived = threading.Event()
    with held_at_a_gate("elbo", arrived) as gate, ThreadPoolExecutor(4) as pool:
        elbo = pool.submit(raw_call, http, "elbo", [payload, 10, 10, 0])
        assert arrived.wait(60), "the ELBO never reached the quadrature"
        slow = pool.submit(page_event, http, slow_fn, slow_data, uuid.uuid4().hex)
        for step in (1, 8):
            quick = pool.submit(page_event, http, *story_show(step, quick=True), uuid.uuid4().hex).result(timeout=60)
            assert quick["success"] and quick["output"]["data"], step
        event, body = pool.submit(raw_call, http, "reconstruct", [payload]).result(timeout=60)
        assert event == "complete", body[:300]
        assert not slow.done() and not elbo.done(), "a slow step passed an ELBO holding the quadrature"
        gate.set()
        assert elbo.result(timeout=120)[0] == "complete"
        assert slow.result(timeout=120)["success"]
