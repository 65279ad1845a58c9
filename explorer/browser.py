"""Helpers for driving the app from outside: serving it on a free loopback port and opening it
in headless Chromium. Shared by the tests (tests/conftest.py, tests/test_browser.py), the
benchmarks (bench/) and the screenshot command (docs/screenshot.py), so that none of those
imports another's script.

The app itself never imports this module. Playwright (and numpy, Pillow) are imported inside
the functions that need them, so importing it costs nothing.
"""
import io
import socket
from pathlib import Path

# Debian's chromium (apt-get install chromium); Playwright never downloads a browser here.
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

# The page announces every picture it draws with a "vae-painted" event (detail: {view, key, ...});
# this init script keeps them in window.__paints, for a script to wait on.
RECORD_PAINTS = "window.__paints = []; document.addEventListener('vae-painted', (e) => window.__paints.push(e.detail));"


def launch(playwright, **options):
    """Headless Chromium from `sync_playwright()` (or its async twin): Debian's, with ARGS."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, **options)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_app() -> str:
    """Launch app.demo in this process on a free loopback port, without blocking, the way another
    script would (`import app; app.demo.launch()`); its URL. Stop it with `app.demo.close()`."""
    import app

    app.demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    return app.demo.local_url


def digit_photo(pixels, size: tuple[int, int] = (640, 480), seed: int = 0) -> bytes:
    """A JPEG 'photo' of an MNIST digit (28x28 uint8, white on black): dark ink on off-white paper,
    off centre, slightly noisy (the noise drawn with `seed`), `size` (width, height) pixels."""
    import numpy as np
    from PIL import Image, ImageFilter

    ink = Image.fromarray(np.asarray(pixels)).resize((200, 200), Image.BILINEAR).filter(ImageFilter.GaussianBlur(2))
    paper = np.full((size[1], size[0]), 235.0) + np.random.default_rng(seed).normal(0, 4, (size[1], size[0]))
    paper[60:260, 330:530] -= np.asarray(ink, dtype=np.float64) * 0.8
    buf = io.BytesIO()
    Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8)).convert("RGB").save(buf, "JPEG", quality=90)
    return buf.getvalue()
