"""How fast the app answers: handler times on the server, and /decode's HTTP round trip.

    python bench/app_latency.py

1. Server side: app.decode, a 30x30 app.grid and app.reconstruct of a 640x480 digit photo and of a
   12-megapixel phone photo stored sideways (bench/robustness.py's), called directly (median of
   many; goals: < 5 ms, < 50 ms, < 30 ms, < 150 ms).
2. Round trip: the app is served on a free loopback port with an extra /noop
   endpoint shaped like /decode (two numbers in, a PNG image out) that returns a
   constant image, i.e. Gradio's own cost with no model in it. /decode and /noop
   are called alternately, each the way a page does it over plain HTTP: POST
   /gradio_api/call/<name> (with one session hash, as a page has), read the event
   stream to `complete`, GET the image.
   Prints medians, p90s and what /decode adds (goal: < 20%).

bench/load.py reuses `add_noop` and `call` from here.
"""
import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import httpx  # noqa: E402  (gradio depends on it)
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.robustness import phone_12mp  # noqa: E402
from explorer.browser import digit_photo, serve_app  # noqa: E402


def add_noop(app) -> None:
    """Add /noop to app.demo: the inputs and output component of /decode, a constant answer.

    One corner pixel carries a call counter, so that every answer is a new image, as every
    decode is: Gradio stores outputs under a hash of their bytes, and the app's save leaves an
    existing file alone, so a constant answer would skip the encode and write /decode pays for."""
    import gradio as gr

    from explorer import api

    constant = api.decode(0.0, 0.0)
    calls = itertools.count()

    def noop(z1: float, z2: float) -> np.ndarray:
        image = constant.copy()
        image[0, :4] = np.frombuffer(next(calls).to_bytes(4, "little"), np.uint8)
        return image

    with app.demo:
        z1, z2 = gr.Number(visible=False), gr.Number(visible=False)
        image = gr.Image(format="png", visible=False)
        gr.Button(visible=False).click(noop, [z1, z2], image, api_name="noop",
                                       trigger_mode="always_last", show_progress="hidden")


def upload(client: httpx.Client, base: str, name: str, data: bytes) -> dict:
    """Upload a file as the page does before calling an endpoint with it; returns the file argument."""
    r = client.post(f"{base}/gradio_api/upload", files={"files": (name, data)})
    r.raise_for_status()
    return {"path": r.json()[0], "meta": {"_type": "gradio.FileData"}}


def call(client: httpx.Client, base: str, name: str, data: list, session_hash: str | None = None) -> list:
    """One call of endpoint /name over HTTP: queue it, read its event stream until it completes,
    then fetch every image it returned. Returns the outputs; raises RuntimeError on an error event.

    A page sends the same session_hash with all its calls. Without one, Gradio makes every call a
    new session and snapshots every component's config for it (~20 ms CPU, ~250 KB kept per call)."""
    body = {"data": data} if session_hash is None else {"data": data, "session_hash": session_hash}
    r = client.post(f"{base}/gradio_api/call/{name}", json=body)
    r.raise_for_status()
    event_id = r.json()["event_id"]
    event, outputs = None, None
    with client.stream("GET", f"{base}/gradio_api/call/{name}/{event_id}") as stream:
        stream.raise_for_status()
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line[len("event:"):].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                outputs = json.loads(line[len("data:"):])
                break
    if event != "complete":
        raise RuntimeError(f"/{name}: {event}: {outputs}")
    for out in outputs:
        if isinstance(out, dict) and out.get("url"):
            image = client.get(out["url"])
            image.raise_for_status()
            if not image.content.startswith(b"\x89PNG"):
                raise RuntimeError(f"/{name} returned {out['url']}, which is not a PNG")
    return outputs


def ms_stats(seconds: list[float]) -> tuple[float, float]:
    """(median, p90) in milliseconds."""
    ms = sorted(s * 1e3 for s in seconds)
    return statistics.median(ms), ms[min(len(ms) - 1, int(0.9 * len(ms)))]


def timed(fn, *args) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--calls", type=int, default=200, help="round trips of each endpoint")
    p.add_argument("--repeats", type=int, default=100, help="direct calls of each handler")
    args = p.parse_args()

    import app
    from explorer import api, models

    rng = np.random.default_rng(0)
    photo = Path(tempfile.mkdtemp()) / "digit.jpg"
    photo.write_bytes(digit_photo(models.test_images[3]))
    phone = photo.with_name("phone.jpg")  # a 12-megapixel phone photo, stored sideways with its EXIF orientation
    phone.write_bytes(phone_12mp(models.test_images[3] / 255.0, np.random.default_rng(0)))

    print(f"server side, handlers called directly ({args.repeats} calls each, torch threads as the app sets them):")
    api.decode(0.0, 0.0), api.grid(0.0, 0.0, 6.0, 30, "linear"), api.reconstruct(str(photo))  # warm-up
    for label, goal, fn, arg_sets in [
        ("decode", 5, api.decode, [tuple(z) for z in rng.uniform(-3, 3, (args.repeats, 2))]),
        ("grid 30x30", 50, api.grid, [(*z, 6.0, 30, "linear") for z in rng.uniform(-1, 1, (args.repeats, 2))]),
        ("reconstruct", 30, api.reconstruct, [(str(photo),)] * args.repeats),
        ("12-MP photo", 150, api.reconstruct, [(str(phone),)] * max(10, args.repeats // 5)),
    ]:
        median, p90 = ms_stats([timed(fn, *a) for a in arg_sets])
        print(f"  {label:12s} median {median:7.2f} ms   p90 {p90:7.2f} ms   (goal < {goal} ms)")

    add_noop(app)
    base = serve_app().rstrip("/")
    times: dict[str, list[float]] = {"decode": [], "noop": []}
    session = uuid.uuid4().hex  # one page
    try:
        with httpx.Client(timeout=30) as client:
            for name in ("decode", "noop") * 5:  # warm-up
                call(client, base, name, [0.0, 0.0], session)
            for i, z in enumerate(rng.uniform(-3, 3, (args.calls, 2)).round(2).tolist()):
                # Alternate which goes first, so neither always follows the other.
                for name in (("decode", "noop") if i % 2 == 0 else ("noop", "decode")):
                    times[name].append(timed(call, client, base, name, z, session))
    finally:
        app.demo.close()

    print(f"\nHTTP round trip (call + event stream + image fetch), {args.calls} interleaved calls each:")
    stats = {name: ms_stats(t) for name, t in times.items()}
    for name, (median, p90) in stats.items():
        print(f"  /{name:7s} median {median:7.2f} ms   p90 {p90:7.2f} ms")
    ratio = stats["decode"][0] / stats["noop"][0]
    print(f"  /decode / /noop (medians): {ratio:.3f}: decode adds {100 * (ratio - 1):.1f}% (goal < 20%)")


if __name__ == "__main__":
    main()
