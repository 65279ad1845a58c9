"""Regenerate the README's picture, docs/screenshot.png, and docs/screenshot-phone.png: every tab
of the explorer with real output, photographed in headless Chromium at 1400x1000 and on a
390x844 touch phone, each set tiled into one image; and the first screen a projector shows
(1280x720) and the page in dark mode (1400x1000), the Explorer and the Manifold each, as
docs/screenshot-projector.png and docs/screenshot-dark.png.

    python docs/screenshot.py                          # serves the app itself on a free port
    python docs/screenshot.py --url URL --out FILE     # photographs an app already running at URL
                                                       # (the phone's picture goes beside FILE, as FILE-phone.png)

Needs Debian's chromium at /usr/bin/chromium (apt-get install chromium) and Playwright
(in requirements.txt). Exits with an error if a tab shows nothing.
"""
import argparse
import io
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from explorer.browser import RECORD_PAINTS, digit_photo, launch, serve_app  # noqa: E402

PHONE = dict(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
DESKTOP = dict(viewport={"width": 1400, "height": 1000})
PROJECTOR = dict(viewport={"width": 1280, "height": 720})
FIRST_TABS = ("Explorer", "Manifold")  # what the projector's and the dark mode's pictures show


def photograph_tabs(url: str, photo: Path, device: dict, only: tuple[str, ...] | None = None) -> dict[str, Image.Image]:
    """A screenshot of each tab (or those in `only`) on `device` (DESKTOP, PROJECTOR or PHONE) once it shows
    its output: the Explorer after a slider moved, Reconstruct after uploading `photo`, the ELBO tab once its
    numbers are in."""
    from playwright.sync_api import sync_playwright

    shots = {}
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_context(**device).new_page()
        page.set_default_timeout(180_000)  # the ELBO tab waits in a one-at-a-time queue, which a busy server fills
        page.add_init_script(RECORD_PAINTS)
        page.goto(url, wait_until="load")

        def drawn(view: str, key: str | None = None) -> None:
            """Wait until the page has drawn `view` (its "vae-painted" event), for `key` if given."""
            page.wait_for_function("([view, key]) => (window.__paints || []).some(p => p.view === view && (!key || p.key === key))",
                                   arg=[view, key])

        def to_the_tab() -> None:
            """On a phone the page is one long column: show the tab's own content, not the introduction."""
            if device is PHONE:
                page.get_by_role("tablist").first.evaluate("e => e.scrollIntoView()")

        def loaded(elem_id: str) -> None:
            page.wait_for_function("id => { const img = document.querySelector(`#${id} img`);"
                                   " return img && img.complete && img.naturalWidth > 0; }", arg=elem_id)

        drawn("explorer_digit")  # the page's own script runs: its keys move the slider
        slider = page.locator("#z1 input[type=range]")
        slider.focus()
        for _ in range(8):
            page.keyboard.press("ArrowRight")
        drawn("explorer_digit", "slider")
        if device is PHONE:
            slider.scroll_into_view_if_needed()  # the digit stays on screen beside its sliders
        shots["Explorer"] = page.screenshot()

        def wanted(tab: str) -> bool:
            return only is None or tab in only

        if wanted("Reconstruct"):
            page.get_by_role("tab", name="Reconstruct", exact=True).click()
            page.get_by_role("tab", name="Upload / paste / webcam", exact=True).click()
            page.locator("#upload input[type=file]").set_input_files(str(photo))
            loaded("reconstruction")
            to_the_tab()
            shots["Reconstruct"] = page.screenshot()

        for tab, view, key in (("Manifold", "grid", "sharp"), ("Sample & interpolate", "interp_map", None)):
            if wanted(tab):
                page.get_by_role("tab", name=tab, exact=True).click()
                drawn(view, key)
                to_the_tab()
                shots[tab] = page.screenshot()
        if wanted("ELBO anatomy"):
            page.get_by_role("tab", name="ELBO anatomy", exact=True).click()
            page.wait_for_function("() => { const t = document.querySelector('#elbo_numbers').innerText;"
                                   " return t.includes('ELBO') && !t.includes('Computing'); }")
            page.locator("#elbo_map").scroll_into_view_if_needed()  # it loads lazily: on a phone, once scrolled to
            loaded("elbo_map")
            to_the_tab()
            shots["ELBO anatomy"] = page.screenshot()

        if wanted("Training"):
            page.get_by_role("tab", name="Training", exact=True).click()
            drawn("training", None)
            epoch = page.locator("#train_epoch input[type=number]")
            epoch.fill("10")
            epoch.press("Enter")
            page.wait_for_function("() => document.querySelector('#training .vae-caption').innerText.startsWith('Epoch 10 ')")
            to_the_tab()
            shots["Training"] = page.screenshot()

        if wanted("Story"):  # at its fifth step, the reparameterization trick's graph
            page.get_by_role("tab", name="Story").click()
            page.locator("#story_step").get_by_text("5. ").click()
            page.wait_for_function("() => document.querySelector('#story_graph')?.innerText.includes('nats')")
            page.locator("#story_5").scroll_into_view_if_needed()
            shots["Story"] = page.screenshot()
        browser.close()
    return {tab: Image.open(io.BytesIO(png)).convert("RGB") for tab, png in shots.items()}


def tile(shots: dict[str, Image.Image], per_row: int = 2, scale: float = 0.5) -> Image.Image:
    """The tabs scaled by `scale`, per_row to a row."""
    first = next(iter(shots.values()))
    w, h = round(first.size[0] * scale), round(first.size[1] * scale)
    rows = (len(shots) + per_row - 1) // per_row
    sheet = Image.new("RGB", (per_row * w, rows * h), "white")
    for i, shot in enumerate(shots.values()):
        sheet.paste(shot.resize((w, h), Image.LANCZOS), ((i % per_row) * w, (i // per_row) * h))
    return sheet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="an explorer already running there (default: serve one here)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    args = parser.parse_args()
    digits = torch.load(ROOT / "checkpoints" / "test_latents.pt", weights_only=True)["images"]
    photo = args.out.with_name(".digit-photo.jpg")
    photo.write_bytes(digit_photo(digits[0].numpy()))

    def beside(name: str) -> Path:
        return args.out.with_name(f"{args.out.stem}-{name}{args.out.suffix}")

    try:
        url = args.url or serve_app()
        dark = url.rstrip("/") + "/?__theme=dark"
        shots = {args.out: photograph_tabs(url, photo, DESKTOP), beside("phone"): photograph_tabs(url, photo, PHONE),
                 beside("projector"): photograph_tabs(url, photo, PROJECTOR, FIRST_TABS),
                 beside("dark"): photograph_tabs(dark, photo, DESKTOP, FIRST_TABS)}
    finally:
        photo.unlink(missing_ok=True)
    for out, tabs in shots.items():
        blank = [tab for tab, shot in tabs.items() if np.asarray(shot).std() <= 20]
        if blank:
            sys.exit(f"these tabs rendered blank in {out.name}: {', '.join(blank)}")
        sheet = tile(tabs, per_row=len(tabs), scale=1.0) if out.stem.endswith("phone") else tile(tabs)
        sheet.save(out, optimize=True)
        print(f"wrote {out} ({', '.join(tabs)})")


if __name__ == "__main__":
    main()
