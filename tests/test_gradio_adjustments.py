"""explorer/gradio_adjustments.py: each change to Gradio is in effect on real requests, installing
twice changes nothing, and where Gradio's internals moved (simulated here) or its version is not
one we verified, start-up says so and Gradio keeps its own behaviour."""
import json
import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import gradio as gr
import gradio.image_utils
import gradio.queueing
import gradio.routes
import gradio.utils
import httpx
import pytest
from gradio import processing_utils
from gradio.exceptions import InvalidPathError

from explorer import events, gradio_adjustments as adjust, models


@pytest.fixture
def http(app_url):
    with httpx.Client(base_url=app_url, timeout=120) as client:
        yield client


def grid_call(http: httpx.Client) -> dict:
    """One /grid call (a 30x30 grid, ~300 KB of PNG) over plain HTTP: its output file's payload."""
    event_id = http.post("/gradio_api/call/grid", json={"data": [0.0, 0.0, 6.0, 30, "linear"]}).json()["event_id"]
    stream = http.get(f"/gradio_api/call/grid/{event_id}").text
    assert stream.startswith("event: complete"), stream[:300]
    return json.loads(stream.split("data: ", 1)[1].split("\n", 1)[0])[0]


def test_identical_answers_at_once_are_never_served_half_written(http):
    """Many people asking for the same picture at the same moment: while the server answers them,
    the cached file they are all sent is never seen incomplete (Gradio's own save rewrites it in place)."""
    first = grid_call(http)
    path = Path(first["path"])
    expected = path.read_bytes()
    partial_reads, stop = [], threading.Event()

    def read_while_answering():
        while not stop.is_set():
            data = path.read_bytes()
            if data != expected:
                partial_reads.append(len(data))

    reader = threading.Thread(target=read_while_answering)
    reader.start()
    try:
        with ThreadPoolExecutor(8) as pool:
            payloads = list(pool.map(lambda _: grid_call(http), range(40)))
    finally:
        stop.set()
        reader.join()
    assert {p["path"] for p in payloads} == {first["path"]}, "identical answers share one cached file"
    assert partial_reads == []
    assert http.get(first["url"]).content == expected
    assert [p.name for p in path.parent.iterdir()] == [path.name], "no staging files left behind"


def test_installing_again_never_wraps_a_wrapper():
    """Gradio's reload mode re-imports the module: the replacements still call Gradio's originals."""
    assert adjust.install() == dict.fromkeys(adjust.ADJUSTMENTS)
    assert adjust.install() == dict.fromkeys(adjust.ADJUSTMENTS)
    assert gradio.utils.error_payload is gradio.queueing.error_payload is adjust.error_payload_for_bad_files
    assert adjust.error_payload_for_bad_files.__wrapped__.__module__ == "gradio.utils"
    assert adjust.save_pil_to_cache_atomically.__wrapped__.__module__ == "gradio.processing_utils"
    assert gradio.routes.file_fetch is adjust.file_fetch_caching_assets
    assert adjust.file_fetch_caching_assets.__wrapped__.__module__ == "gradio.route_utils"
    assert gradio.routes.templates.env.loader.get_source is adjust.template_with_noscript
    assert adjust.template_with_noscript.__wrapped__.__self__ is gradio.routes.templates.env.loader
    assert gradio.utils.error_payload(InvalidPathError("/etc/passwd"), False) == {
        "error": adjust.FOREIGN_FILE, "duration": 10, "visible": True, "title": "Error"}
    assert gradio.utils.error_payload(ValueError("/srv/secret"), False) == {"error": None}


@pytest.fixture
def gradio_as_found(monkeypatch):
    """Gradio's functions as it ships them, restored after the test (with ours installed again)."""
    monkeypatch.setattr(processing_utils, "save_pil_to_cache", adjust.save_pil_to_cache_atomically.__wrapped__)
    original = adjust.error_payload_for_bad_files.__wrapped__
    monkeypatch.setattr(gradio.utils, "error_payload", original)
    monkeypatch.setattr(gradio.queueing, "error_payload", original)
    return original


def test_a_moved_internal_is_named_at_start_up_and_left_alone(gradio_as_found, monkeypatch, caplog):
    """As if a Gradio release had the queue build its own error payloads, and the image components
    save through another function: those adjustments stay out, with a warning naming them."""
    def queue_error_payload(error, show_error):
        return {"error": None}

    def save_image(y, cache_dir, format="webp"):
        return str(y)

    monkeypatch.setattr(gradio.queueing, "error_payload", queue_error_payload)
    monkeypatch.setattr(gradio.image_utils, "save_image", save_image)
    with caplog.at_level(logging.WARNING, logger="explorer"):
        outcome = adjust.install()
    assert outcome["messages for refused file payloads"] == "queueing no longer uses utils.error_payload"
    assert outcome["atomic image saves"] == "image_utils.save_image no longer calls processing_utils.save_pil_to_cache"
    assert gradio.utils.error_payload is gradio_as_found and gradio.queueing.error_payload is queue_error_payload
    assert processing_utils.save_pil_to_cache is adjust.save_pil_to_cache_atomically.__wrapped__
    warned = caplog.text
    assert "'messages for refused file payloads' not installed" in warned and "'atomic image saves' not installed" in warned


def test_a_changed_signature_is_refused(gradio_as_found, monkeypatch):
    def save_pil_to_cache(img, cache_dir, format="webp"):
        return ""

    monkeypatch.setattr(processing_utils, "save_pil_to_cache", save_pil_to_cache)
    assert adjust.atomic_image_saves() == "processing_utils.save_pil_to_cache no longer takes (img, cache_dir, name, format)"
    assert processing_utils.save_pil_to_cache is save_pil_to_cache


def test_a_gradio_version_outside_the_verified_range_is_named(monkeypatch, caplog):
    monkeypatch.setattr(gr, "__version__", "7.0.0")
    with caplog.at_level(logging.WARNING, logger="explorer"):
        adjust.install()
    assert "Gradio 7.0.0 is outside the versions" in caplog.text


def test_the_served_blocks_check_is_tied_to_has_launched(monkeypatch):
    def check_everything(path, check_in_upload_folder):
        raise InvalidPathError(str(path))

    monkeypatch.setattr(processing_utils, "_check_allowed", check_everything)
    assert "no longer decides by Blocks.has_launched" in adjust.served_blocks_check_file_paths()


def test_the_protective_settings_can_be_lowered_but_not_raised():
    """launch() and mount_gradio_app() assign these from their own arguments: what each assignment leaves."""
    with adjust.ExplorerBlocks() as blocks:
        gr.Markdown("a page")
    blocks.max_file_size, blocks.state_session_capacity, blocks.show_error = None, 10_000, True
    assert (blocks.max_file_size, blocks.state_session_capacity, blocks.show_error) == (
        adjust.MAX_FILE_SIZE, adjust.SESSION_CAPACITY, False)
    blocks.max_file_size, blocks.state_session_capacity = 1024, 10
    assert (blocks.max_file_size, blocks.state_session_capacity) == (1024, 10)
    assert not blocks.has_launched
    blocks.is_running = True  # what serving it, by launch() or mounted, sets
    assert blocks.has_launched


def test_unopened_uploads_are_tied_to_preprocess_data(monkeypatch):
    assert adjust.uploads_unopened_in_effect() is None

    async def preprocess_data(self, block_fn, inputs, state, explicit_call=False):
        return inputs

    monkeypatch.setattr(gr.Blocks, "preprocess_data", preprocess_data)
    assert "no longer calls the component's preprocess" in adjust.uploads_unopened_in_effect()


def test_an_upload_reaches_our_checks_unopened(tmp_path):
    """Gradio's gr.Image opens an upload with PIL before any handler runs; ours hands the path on."""
    from gradio.data_classes import ImageData

    text_file = tmp_path / "notes.png"
    text_file.write_text("not a picture")
    payload = ImageData(path=str(text_file), orig_name="notes.png")
    assert adjust.uploads_unopened(gr.Image(type="filepath")).preprocess(payload) == str(text_file)
    with pytest.raises(Exception, match="cannot identify image file"):
        gr.Image(type="filepath").preprocess(payload)


def page_event(http: httpx.Client, fn, data: list, session: str) -> dict:
    """Call one of the page's own events (not in the API) the way the page does, by its index in the
    queue, in `session`; its process_completed message."""
    import app

    fn_index = next(index for index, block_fn in app.demo.fns.items() if block_fn.fn is fn)
    http.post("/gradio_api/queue/join", json={"data": data, "fn_index": fn_index, "session_hash": session,
                                              "event_data": None, "trigger_id": None}).raise_for_status()
    with http.stream("GET", "/gradio_api/queue/data", params={"session_hash": session}) as stream:
        for line in stream.iter_lines():
            message = json.loads(line[len("data:"):]) if line.startswith("data:") else {}
            if message.get("msg") == "process_completed":
                return message
    raise AssertionError("the event never completed")


def test_a_page_upload_that_is_not_an_image_gets_our_message(http, monkeypatch):
    """The Reconstruct tab's upload, a text file named .png, sent as the page sends it: our message
    says why, in the page; with Gradio's own preprocess of the component, the page would get none."""
    import app

    path = http.post("/gradio_api/upload", files={"files": ("notes.png", b"Hello, a text file pretending to be a PNG.\n" * 10,
                                                            "image/png")}).json()[0]
    payload = {"path": path, "orig_name": "notes.png", "meta": {"_type": "gradio.FileData"}}
    session = uuid.uuid4().hex
    assert page_event(http, events.reconstruct_upload, [payload, "beta1"], session)["success"]
    shown = page_event(http, events.show_upload, [None, payload, "reading"], session)  # the page's next step: its results
    assert "not an image we can read" in shown["output"]["data"][2]
    upload = next(block for block in app.demo.blocks.values() if getattr(block, "elem_id", None) == "upload")
    monkeypatch.delattr(upload, "preprocess")  # Gradio's own: PIL opens the file before our handler
    done = page_event(http, events.reconstruct_upload, [payload, "beta1"], uuid.uuid4().hex)
    assert done["success"] is False and not done["output"]["error"]


def test_a_file_route_that_no_longer_calls_file_fetch_is_named(monkeypatch):
    def file_fetch(path_or_url, request):
        return None

    monkeypatch.setattr(gradio.routes, "file_fetch", file_fetch)
    assert adjust.cached_assets() == "routes.file_fetch no longer takes (path_or_url, request, blocks_or_config, upload_dir)"
    assert gradio.routes.file_fetch is file_fetch


def test_the_api_page_words_are_left_out_where_gradio_no_longer_parses_docstrings(monkeypatch):
    import app

    def first_parameter_words() -> str:
        return app.demo.get_api_info()["named_endpoints"]["/decode"]["parameters"][0]["python_type"]["description"]

    assert adjust.api_words() is None and first_parameter_words().startswith("The first latent coordinate")
    monkeypatch.setattr(gradio.utils, "get_function_description", None)
    refused = adjust.api_words()
    monkeypatch.undo()
    try:
        assert refused == "gradio.utils.get_function_description is gone"
        assert first_parameter_words() == ""  # Gradio's own page, until the check passes again
    finally:
        assert adjust.api_words() is None


def test_a_page_without_javascript_says_what_it_needs_and_where_the_api_is(http, app_url):
    page = http.get("/").text
    noscript = page[page.index("<noscript>"):page.index("</noscript>")]
    assert "needs JavaScript" in noscript and f"{app_url}gradio_api/info" in noscript


def test_the_page_asks_for_its_modules_in_its_first_html(http):
    """On a slow link the page's modules arrive with Gradio's own, not after Gradio has drawn the page."""
    head = http.get("/").text.split("</head>")[0]
    for path in models.PAGE_MODULES.values():
        assert f'<link rel="modulepreload" href="gradio_api/file={path}">' in head
        assert http.get(f"/gradio_api/file={path}").status_code == 200


def test_a_page_template_that_changed_is_named_and_left_alone(monkeypatch):
    loader = gradio.routes.templates.env.loader
    monkeypatch.setattr(loader, "get_source", lambda environment, name: ("<html><body></body></html>", name, None))
    assert adjust.noscript_line() == "Gradio's page is no longer one <head> and one <gradio-app> in routes.templates"
    assert loader.get_source is not adjust.template_with_noscript
