"""How long a person waits for the server's answers in the page: headless Chromium against the
app served on loopback by another process.

    python bench/answers.py              # 20 of each
    python bench/answers.py --count 40

Timed in the page, from the user's action (a capture listener on the window sees it first) to
the answer on screen:
  - drawing: the pen lifting off the drawing pad (pointerup) to the reconstruction shown (its
    image loaded); each time a new digit, drawn on a cleared pad (goal p50 <= 300 ms);
  - ELBO, a test digit seen for the first time: the click on it in the ELBO tab's picker to its
    numbers shown, and to its zoomed map shown (goal p50 <= 1 s);
  - ELBO, an upload never seen: the file chosen to the numbers, and to the map.
Prints p50 and p90 of each, in ms.
"""
import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]
from app_latency import ROOT  # noqa: E402
from load import start_server  # noqa: E402

from explorer.browser import RECORD_PAINTS, digit_photo, free_port, launch  # noqa: E402

# When each user action happened, and when each image in the page finished loading.
RECORD = RECORD_PAINTS + """
window.__acts = []; window.__loads = [];
for (const type of ["pointerup", "click", "change"])
  window.addEventListener(type, (e) => window.__acts.push({ type, t: performance.now() }), true);
document.addEventListener("load", (e) => {
  const block = e.target instanceof HTMLImageElement && e.target.closest("[id]");
  if (block) window.__loads.push({ id: block.id, src: e.target.src, t: performance.now() });
}, true);"""

# When the ELBO numbers changed, and to what.
WATCH_NUMBERS = """() => {
  window.__numbers = [];
  const box = document.querySelector('#elbo_numbers'), table = () => (box.querySelector('table') || {}).innerText || '';
  let shown = table();
  new MutationObserver(() => {
    const text = table();
    if (text !== shown && text.includes('ELBO')) window.__numbers.push({ text, t: performance.now() });
    shown = text;
  }).observe(box, { childList: true, subtree: true, characterData: true });
}"""


def last_act(page, kind: str) -> float:
    return page.evaluate("(kind) => window.__acts.filter(a => a.type === kind).pop().t", kind)


def image_after(page, elem_id: str, since: float, old_src: str | None) -> tuple[float, str]:
    """Wait for an image in #elem_id other than old_src to load after `since`; (when, its src)."""
    page.wait_for_function("([id, since, old]) => window.__loads.some(l => l.id === id && l.t >= since && l.src !== old)",
                           arg=[elem_id, since, old_src])
    load = page.evaluate("([id, since, old]) => window.__loads.find(l => l.id === id && l.t >= since && l.src !== old)",
                         [elem_id, since, old_src])
    return load["t"], load["src"]


def stroke(page, box: dict, points: list[tuple[float, float]]) -> None:
    """One stroke through `points` given as fractions of the pad."""
    page.mouse.move(box["x"] + points[0][0] * box["width"], box["y"] + points[0][1] * box["height"])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=4)
    page.mouse.up()


def drawings(page, count: int) -> list[float]:
    """ms from pen-up to the reconstruction shown, for `count` different sevens on a cleared pad each time."""
    page.get_by_role("tab", name="Reconstruct", exact=True).click()
    canvas = page.locator("#pad canvas")
    canvas.wait_for()
    box = canvas.bounding_box()
    rng = np.random.default_rng(0)
    times, src = [], None
    for _ in range(count):
        if page.evaluate("() => !!document.querySelector('#reconstruction img')"):
            page.locator("#pad button[data-act=clear]").click()
            page.wait_for_function("() => !document.querySelector('#reconstruction img')")
        a, b, c = rng.uniform(0.2, 0.35), rng.uniform(0.65, 0.8), rng.uniform(0.35, 0.6)
        stroke(page, box, [(a, 0.25), (b, 0.25), (c, 0.8)])
        lifted = last_act(page, "pointerup")
        shown, src = image_after(page, "reconstruction", lifted, src)
        times.append(shown - lifted)
    return times


def elbo_answers(page, count: int, photos: Path) -> dict[str, list[float]]:
    """ms from picking a test digit never seen (#10, #11, ...), and from uploading a photo never seen, to the
    ELBO numbers and to the zoomed map."""
    page.get_by_role("tab", name="ELBO anatomy", exact=True).click()
    page.wait_for_function("() => { const t = document.querySelector('#elbo_numbers').innerText;"
                           " return t.includes('ELBO') && !t.includes('Computing'); }")
    page.evaluate(WATCH_NUMBERS)
    times: dict[str, list[float]] = {"ELBO numbers, a test digit": [], "ELBO map, a test digit": [],
                                     "ELBO numbers, an upload": [], "ELBO map, an upload": []}
    src = page.locator("#elbo_map img").get_attribute("src")

    def answered(act: float, kind: str) -> None:
        nonlocal src
        page.wait_for_function("(since) => window.__numbers.some(n => n.t >= since)", arg=act)
        numbers = page.evaluate("(since) => window.__numbers.find(n => n.t >= since).t", act)
        shown, src = image_after(page, "elbo_map", act, src)
        times[f"ELBO numbers, {kind}"].append(numbers - act)
        times[f"ELBO map, {kind}"].append(shown - act)

    for i in range(count):
        page.locator("#elbo_digit input").click()
        page.get_by_role("option", name=f"test digit #{10 + i} (").first.click()
        answered(last_act(page, "click"), "a test digit")
    for i in range(count):
        page.locator("#elbo_upload input[type=file]").set_input_files(str(photos / f"{i}.jpg"))
        answered(last_act(page, "change"), "an upload")
    return times


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--count", type=int, default=20, help="drawings, test digits and uploads timed")
    args = p.parse_args()

    digits = torch.load(ROOT / "checkpoints" / "test_latents.pt", weights_only=True)["images"]
    photos = Path(tempfile.mkdtemp())
    for i in range(args.count):  # test digits the picker part does not use
        (photos / f"{i}.jpg").write_bytes(digit_photo(np.asarray(digits[len(digits) - 1 - i])))

    port = free_port()
    log = tempfile.NamedTemporaryFile("w+", prefix="answers-server-", suffix=".log", delete=False)
    server = start_server(port, log, {})
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as pw:
            browser = launch(pw)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(60_000)
            page.add_init_script(RECORD)
            page.goto(f"http://127.0.0.1:{port}/", wait_until="load")
            page.wait_for_function("() => window.__paints.some(p => p.view === 'explorer_digit')")
            results = {"drawing: pen-up to reconstruction": drawings(page, args.count), **elbo_answers(page, args.count, photos)}
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(f"waiting for the server's answers in the page, headless Chromium, {args.count} of each (ms)")
    print(f"{'':38s} {'p50':>7s} {'p90':>7s}  goal (p50)")
    for name, ms in results.items():
        goal = "300" if name.startswith("drawing") else "1000"
        print(f"{name:38s} {np.percentile(ms, 50):7.0f} {np.percentile(ms, 90):7.0f}  {goal}")


if __name__ == "__main__":
    main()
