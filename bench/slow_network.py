"""The first seconds of the page on slow school Wi-Fi, in headless Chromium with an empty cache.

    python bench/slow_network.py                      # 1.5 Mbit/s down, 0.75 up, 300 ms latency
    python bench/slow_network.py --mbits 0.75 --latency 600

Chrome DevTools Protocol's Network.emulateNetworkConditions slows every byte the browser fetches.
A script in the page looks at the Explorer's digit every 50 ms from the navigation's start and
prints when the page's load event fired, when the digit was first on screen, when it first
showed a decoded digit (inked), when the decoder file had arrived (the page decodes by itself
from then on), and for how long the digit was on screen black with no words beside it (the
status line empty, and the digit's caption empty or naming only its z). Goals: the first decoded digit within 12 s, and never a black digit without
a word.
"""
import argparse
import sys
import tempfile
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]
from load import start_server  # noqa: E402

from explorer.browser import free_port, launch  # noqa: E402

WATCH = """
window.__seen = [];
const look = () => {
  const canvas = document.querySelector('#explorer_digit canvas'), line = document.querySelector('#page .vae-mode');
  const box = canvas && canvas.getBoundingClientRect(), shown = !!box && box.width > 0 && box.top < innerHeight;
  const inked = shown && canvas.width > 0 &&
    canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data.some((v, i) => i % 4 === 0 && v > 128);
  const caption = document.querySelector('#explorer_digit .vae-caption');
  const said = caption && !caption.textContent.startsWith('z =') ? caption.textContent.trim() : '';  // a z only names the digit
  const words = (line && line.textContent.trim()) || said;
  const engine = line ? line.dataset.mode : '';
  window.__seen.push({ t: performance.now(), shown, inked, words, engine });
};
setInterval(look, 50);
"""


def first(seen: list[dict], test) -> float | None:
    return next((s["t"] / 1e3 for s in seen if test(s)), None)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mbits", type=float, default=1.5, help="download speed, Mbit/s (upload: half)")
    p.add_argument("--latency", type=float, default=300, help="ms added to every round trip")
    p.add_argument("--seconds", type=float, default=60, help="how long to watch at most")
    args = p.parse_args()
    from playwright.sync_api import sync_playwright

    port = free_port()
    with tempfile.NamedTemporaryFile("w+", prefix="slow-server-", suffix=".log") as log:
        server = start_server(port, log, {})
        try:
            with sync_playwright() as pw:
                browser = launch(pw)
                context = browser.new_context(viewport={"width": 1280, "height": 720})
                page = context.new_page()
                cdp = context.new_cdp_session(page)
                cdp.send("Network.enable")
                cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
                cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": args.latency,
                         "downloadThroughput": args.mbits * 1e6 / 8, "uploadThroughput": args.mbits * 1e6 / 16})
                page.add_init_script(WATCH)
                page.goto(f"http://127.0.0.1:{port}/", wait_until="load", timeout=args.seconds * 1000)
                loaded = page.evaluate("() => performance.getEntriesByType('navigation')[0].loadEventStart / 1e3")
                page.wait_for_function("() => window.__seen.some(s => s.engine === 'page' || s.engine === 'server')",
                                       timeout=args.seconds * 1000, polling=200)
                page.wait_for_timeout(500)
                seen = page.evaluate("() => window.__seen")
                files = page.evaluate("() => performance.getEntriesByType('resource').map(e => "
                                      "[e.name.split('/').pop().split('?')[0], e.startTime / 1e3, e.responseEnd / 1e3, e.encodedBodySize])")
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    mute = [s for s in seen if s["shown"] and not s["inked"] and not s["words"]]
    steps = [b["t"] - a["t"] for a, b in zip(seen, seen[1:]) if a in mute]
    print(f"{args.mbits} Mbit/s, {args.latency:.0f} ms latency, empty cache, 1280x720:")
    print(f"  the page's load event           {loaded:6.1f} s")
    for label, test in [("the digit first on screen", lambda s: s["shown"]), ("first words in the status line", lambda s: s["words"]),
                        ("the first decoded digit", lambda s: s["inked"]),
                        ("the decoder file here", lambda s: s["engine"] in ("page", "server"))]:
        at = first(seen, test)
        print(f"  {label:32s}{'never' if at is None else f'{at:6.1f} s'}")
    print(f"  black digit without a word      {sum(steps) / 1e3:6.1f} s in all")
    print("what was fetched (from, to, kB):")
    for name, start, end, size in sorted(files, key=lambda f: f[1]):
        print(f"  {start:5.1f} - {end:5.1f} s {size / 1e3:7.0f}  {name[:60]}")


if __name__ == "__main__":
    main()
