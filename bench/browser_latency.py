"""From the input event to pixels on the canvas, in headless Chromium: the page's own decoding
side by side with the server path (?decode=server), in one run.

    python bench/browser_latency.py               # the app alone on this machine
    python bench/browser_latency.py --load 32     # the same while 32 people explore (bench/load.py's Explorers)

Timed in the page: from the DOM event's dispatch (a capture listener on the window, the first
code of the page that sees it) to the moment the page has drawn the picture (its
"vae-painted" event). The time the event waited before its dispatch (its timeStamp's age then:
the browser's input routing, the same for any page) is printed apart. Measured for
  - slider drag: a key press on the z1 slider (its input event) to the decoded digit;
  - map hover: a mouse move over the latent map (pointermove) to the decoded digit;
  - grid pan: a drag step on the manifold (pointermove) to the moved picture, and the release
    (pointerup) to the sharp n = 20 grid from the server, which both paths share.
Prints p50 and p99 per path and the server path's p50 over the page's (goals: slider and
hover p50 <= 16 ms and >= 5x faster than the server; pan feedback <= 16 ms; sharp grid <= 150 ms).

    python bench/browser_latency.py --before REV  # also the page of git revision REV, served from a
                                                  # temporary worktree, measured in the same run
"""
import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import torch

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]
from app_latency import ROOT  # noqa: E402
from load import run_explorers, start_server  # noqa: E402

from explorer.browser import RECORD_PAINTS, free_port, launch  # noqa: E402

RECORD_EVENTS = RECORD_PAINTS + """
window.__events = [];
for (const type of ["input", "pointermove", "pointerup"])
  window.addEventListener(type, (e) => window.__events.push({ type, t: performance.now(), queued: performance.now() - e.timeStamp }), true);"""


def latency(page, act, event: str, view: str, key: str, queued: list[float]) -> float:
    """Run act(), wait for the page to draw `view` for `key` after it; ms from the dispatch of the last `event` act
    caused to that paint. How long that event waited before its dispatch is appended to `queued`."""
    paints, events = page.evaluate("() => [window.__paints.length, window.__events.length]")
    act()
    page.wait_for_function("([n, view, key]) => window.__paints.slice(n).some(p => p.view === view && p.key === key)",
                           arg=[paints, view, key])
    ms, waited = page.evaluate("""([n, m, event, view, key]) => {
        const fired = window.__events.slice(m).filter(e => e.type === event).pop();
        const paint = window.__paints.slice(n).find(p => p.view === view && p.key === key && p.at >= fired.t);
        return [paint.at - fired.t, fired.queued]; }""", [paints, events, event, view, key])
    queued.append(waited)
    return ms


def measure(browser, url: str, steps: int) -> dict[str, list[float]]:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)
    page.add_init_script(RECORD_EVENTS)
    page.goto(url, wait_until="load")
    page.wait_for_function("() => window.__paints.some(p => p.view === 'explorer_digit')")
    times: dict[str, list[float]] = {"slider drag": [], "map hover": [], "grid pan": [], "sharp grid": []}
    queued: list[float] = []

    slider = page.locator("#z1 input[type=range]")
    slider.focus()
    for i in range(steps):
        key = "ArrowRight" if (i // 40) % 2 == 0 else "ArrowLeft"
        times["slider drag"].append(latency(page, lambda: page.keyboard.press(key), "input", "explorer_digit", "slider", queued))

    box = page.locator("#explorer_map canvas").bounding_box()
    for i in range(steps):
        t = i / steps
        x, y = box["x"] + box["width"] * (0.25 + 0.5 * t), box["y"] + box["height"] * (0.3 + 0.4 * abs(np.sin(7 * t)))
        times["map hover"].append(latency(page, lambda: page.mouse.move(x, y), "pointermove", "explorer_digit", "hover", queued))
    page.mouse.move(0, 0)

    page.get_by_role("tab", name="Manifold", exact=True).click()
    page.wait_for_function("() => window.__paints.some(p => p.view === 'grid' && p.key === 'sharp')")
    box = page.locator("#grid canvas").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for i in range(max(steps // 10, 3)):
        page.mouse.move(cx, cy)
        page.mouse.down()
        direction = 1 if i % 2 == 0 else -1
        for k in range(1, 11):
            x = cx + direction * 6 * k
            times["grid pan"].append(latency(page, lambda: page.mouse.move(x, cy), "pointermove", "grid", "pan", queued))
        times["sharp grid"].append(latency(page, page.mouse.up, "pointerup", "grid", "sharp", queued))
    page.close()
    times["(events queued before dispatch)"] = queued
    return times


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=120, help="slider steps and hover moves per path")
    p.add_argument("--load", type=int, default=0, help="people exploring on the same server meanwhile (bench/load.py)")
    p.add_argument("--before", metavar="REV", help="also measure the page of this git revision, in the same run")
    args = p.parse_args()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tempfile.NamedTemporaryFile("w+", prefix="browser-latency-server-", suffix=".log", delete=False)
    server = start_server(port, log, {})
    before = None
    if args.before:
        tree = Path(tempfile.mkdtemp(prefix="browser-latency-before-"))
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), args.before], check=True, capture_output=True)
        before = (f"http://127.0.0.1:{(before_port := free_port())}", tree)
        before_server = start_server(before_port, log, {}, root=tree)
    crowd = None
    if args.load:
        digits = torch.load(ROOT / "checkpoints" / "test_latents.pt", weights_only=True)["images"]
        crowd = threading.Thread(target=run_explorers, args=(base, args.load, 1e9, [np.asarray(d) for d in digits], False),
                                 daemon=True)  # their sharp grids decoded in their own pages, as with graphics cards
        crowd.start()
        time.sleep(10)
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as pw:
            browser = launch(pw)
            results = {path: measure(browser, f"{base}/{query}", args.steps)
                       for path, query in (("page", ""), ("server", "?decode=server"))}
            if before:
                results[f"page at {args.before}"] = measure(browser, f"{before[0]}/", args.steps)
            browser.close()
        if crowd is not None and not crowd.is_alive():
            raise SystemExit("the simulated crowd stopped during the run (its error is above): these figures are not under load")
    finally:
        for running in (server, before_server) if before else (server,):
            running.terminate()
            running.wait(timeout=30)
        if before:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before[1])], check=False)

    def pct(ms: list[float], q: float) -> float:
        return float(np.percentile(ms, q))

    print(f"input event to pixels, headless Chromium, {args.steps} steps per measure, "
          f"{f'{args.load} people exploring meanwhile' if args.load else 'idle server'}")
    print(f"{'':31s} {'page p50':>9s} {'page p99':>9s} {'server p50':>11s} {'server p99':>11s} {'server/page':>12s}")
    for name in results["page"]:
        page, srv = results["page"][name], results["server"][name]
        print(f"{name:31s} {pct(page, 50):8.1f}  {pct(page, 99):8.1f}  {pct(srv, 50):10.1f}  {pct(srv, 99):10.1f}  "
              f"{pct(srv, 50) / pct(page, 50):11.1f}x")
    if before:
        then = results[f"page at {args.before}"]
        print(f"\nthe page at {args.before} (before) and now, in this run")
        print(f"{'':31s} {'before p50':>11s} {'before p99':>11s} {'now p50':>9s} {'now p99':>9s} {'now/before':>11s}")
        for name in results["page"]:
            old, new = then[name], results["page"][name]
            print(f"{name:31s} {pct(old, 50):10.1f}  {pct(old, 99):10.1f}  {pct(new, 50):8.1f}  {pct(new, 99):8.1f}  "
                  f"{pct(new, 50) / pct(old, 50):10.2f}x")


if __name__ == "__main__":
    main()
