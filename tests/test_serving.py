"""However the app is started, its protective settings hold, tested with real requests:

- `python app.py`, `gradio app.py` (and again after an edit makes it reload), `import app;
  app.demo.launch()` (the session's `app_url` server) and `demo` mounted in a FastAPI app
  each refuse a 25 MB upload at the upload itself, with the same message;
- each refuses a forged file payload with our message, not Gradio's silence;
- a script that launches the app without blocking ends on its own, warm-up or not.

The other servers run as subprocesses on free loopback ports; `gradio app.py` runs in a
temporary copy of the repository, so that the edit that makes it reload touches no tracked file.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from explorer.browser import free_port
from explorer.gradio_adjustments import FOREIGN_FILE, MAX_FILE_SIZE

pytestmark = pytest.mark.slow  # every test here serves the app, most in a server process of its own

ROOT = Path(__file__).resolve().parent.parent
TOO_BIG = 25 * 1024 * 1024
REFUSED = f"File size exceeded maximum allowed size of {MAX_FILE_SIZE} bytes."
MOUNTED = """
import sys, fastapi, gradio as gr, uvicorn
sys.path.insert(0, {root!r})
import app
server = gr.mount_gradio_app(fastapi.FastAPI(), app.demo, path="/explorer")
uvicorn.run(server, host="127.0.0.1", port={port}, log_level="warning")
"""


class Server:
    """A server process on loopback and the URL of the app in it; its output goes to a log file."""

    def __init__(self, command: list[str], url: str, cwd: Path, log: Path):
        self.url, self.log = url, log
        env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": url.split(":")[2].split("/")[0]}
        # A process group of its own, so that stop() reaches the processes it starts.
        self.process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)

    def wait_until_up(self, seconds: float = 240) -> "Server":
        deadline = time.time() + seconds
        while time.time() < deadline:
            assert self.process.poll() is None, f"the server exited:\n{self.log.read_text()[-3000:]}"
            try:
                if httpx.get(self.url + "config", timeout=5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"no answer from {self.url} within {seconds} s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        """Stop the server and every process it started: `gradio app.py` serves from a child process."""
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # whatever of the group still runs
        except ProcessLookupError:
            pass


def upload_too_big(url: str) -> httpx.Response:
    return httpx.post(url + "gradio_api/upload", files=[("files", ("big.png", bytes(TOO_BIG), "image/png"))], timeout=60)


def forged_payload_error(url: str) -> str:
    """The error a /reconstruct call naming a server file gets."""
    data = {"data": [{"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}}]}
    event_id = httpx.post(url + "gradio_api/call/reconstruct", json=data, timeout=30).json()["event_id"]
    stream = httpx.get(url + f"gradio_api/call/reconstruct/{event_id}", timeout=60).text
    last = [block for block in stream.strip().split("\n\n") if not block.startswith("event: heartbeat")][-1]
    event, body = last.split("\n", 1)
    assert event == "event: error", stream
    return json.loads(body.removeprefix("data: "))["error"]


def assert_protected(url: str) -> None:
    refused = upload_too_big(url)
    assert (refused.status_code, refused.text) == (413, REFUSED)
    assert forged_payload_error(url) == FOREIGN_FILE


@pytest.fixture(scope="module")
def python_app_py(tmp_path_factory):
    server = Server([sys.executable, "app.py"], f"http://127.0.0.1:{free_port()}/", ROOT,
                    tmp_path_factory.mktemp("python") / "server.log")
    yield server.wait_until_up()
    server.stop()


@pytest.fixture(scope="module")
def mounted(tmp_path_factory):
    port = free_port()
    server = Server([sys.executable, "-c", MOUNTED.format(root=str(ROOT), port=port)], f"http://127.0.0.1:{port}/explorer/",
                    ROOT, tmp_path_factory.mktemp("mounted") / "server.log")
    yield server.wait_until_up()
    server.stop()


@pytest.fixture(scope="module")
def reloading_copy(tmp_path_factory):
    """`gradio app.py` in a copy of the repository's code and checkpoints; yields (server, its app.py)."""
    copy = tmp_path_factory.mktemp("reload") / "repo"
    ignore = shutil.ignore_patterns("__pycache__")
    for folder in ("explorer", "vae", "checkpoints"):
        shutil.copytree(ROOT / folder, copy / folder, ignore=ignore)
    shutil.copy(ROOT / "app.py", copy / "app.py")
    server = Server([str(Path(sys.executable).with_name("gradio")), "app.py"], f"http://127.0.0.1:{free_port()}/", copy,
                    copy.parent / "server.log")
    yield server.wait_until_up(), copy / "app.py"
    server.stop()


def test_import_app_and_launch_is_protected(app_url):
    assert_protected(app_url)


def test_python_app_py_is_protected(python_app_py):
    assert_protected(python_app_py.url)


def test_mounted_in_fastapi_is_protected(mounted):
    assert_protected(mounted.url)


def test_gradio_reload_mode_is_protected_before_and_after_a_reload(reloading_copy):
    server, app_py = reloading_copy
    assert_protected(server.url)
    source = app_py.read_text()
    # Gradio's watcher takes its first look at the files only once it has run app.py itself a
    # second time: an edit before that goes unseen, so edit again until a reload shows.
    for attempt in range(12):
        app_py.write_text(source.replace('title="VAE latent explorer"', f'title="VAE latent explorer, edit {attempt}"'))
        deadline = time.time() + 20
        while time.time() < deadline:
            if ", edit " in httpx.get(server.url + "config", timeout=10).json().get("title", ""):
                break
            time.sleep(1)
        else:
            continue
        break
    else:
        raise AssertionError(f"no reload after 12 edits:\n{server.log.read_text()[-3000:]}")
    assert "Reloading" not in server.log.read_text(), server.log.read_text()[-3000:]  # Gradio's word for a failed reload
    assert_protected(server.url)


def test_a_script_that_launches_without_blocking_ends_by_itself(tmp_path):
    """The warm-up runs in the background; when the script is done, the process exits, cleanly."""
    script = f"import sys; sys.path.insert(0, {str(ROOT)!r}); import app; app.demo.launch(prevent_thread_lock=True, quiet=True)"
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(free_port())}
    run = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr and "terminate called" not in run.stderr, run.stderr[-3000:]
