"""Many people using the app at once, on loopback.

    python bench/load.py --explorers 32 64 100   # people using the page: how many one server holds
    python bench/load.py --explorers 32 --server-grids   # the same with browsers that have no WebGL2
    python bench/load.py                         # the server path: 32 users, 60 s on /decode and 60 s on /noop

--explorers: the classroom model. Each simulated person uses the page as it is, with a session
of its own: dragging sliders and hovering the maps make no request (the page decodes), so
between actions (2-6 s apart, ACTION_GAP) only time passes. Of the actions (ACTION_MIX), 80%
draw the sharp grid after a pan, which the page decodes on the graphics card (no request; with
--server-grids it asks /grid, as a browser without WebGL2 does), 16% upload a photo of a digit (/reconstruct) and 4%
ask for its ELBO anatomy (/elbo; a digit from the first 100 test digits, photographed with
a different seed each time, so neither the reading's nor the quadrature's cache helps more
than it would with new pictures). Each crowd size runs for --seconds, once everyone has
opened the page (Gradio has made each one's session, ~35 ms of its event loop apiece); printed
per size: requests/s, p50 and p99 per endpoint, errors, and the server's RSS before and
after. The goal for a size: no errors and p99 under one second for grids and uploads.

Without --explorers, the server path (API scripts, or pages with ?decode=server):

The app runs in a subprocess (with bench/app_latency.py's /noop endpoint added).
Each simulated user behaves like a person: drags a slider for 1-3 s, during which
/decode is called again as soon as the previous answer (call, event stream, image)
arrives, pauses 0.5-2 s, and now and then asks for a /grid or uploads a photo to
/reconstruct. Each user sends one session hash with all its calls, as a page does,
and the same people stay for the whole run. Gradio keeps about 250 KB of state per
session (a copy of every component's config), up to state_session_capacity sessions
(--session-capacity sets it): --churn replaces every user by a newcomer each phase
to measure that, --anonymous sends no session hash, as API scripts do, so every call
is a new session. The same users then do the same with /noop in place of
/decode; the phases alternate. Prints requests/s, p50 and p99 latency per endpoint,
errors, server CPU per request, and the server's RSS after a warm-up under the same
load and at the end (goals: no errors, /decode throughput >= 80% of /noop's, RSS
growth < 50 MB).
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

import httpx
import numpy as np
import torch

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]
from app_latency import ROOT, call, upload  # noqa: E402

from explorer.browser import digit_photo, free_port  # noqa: E402

SERVER = """
import sys
sys.path[:0] = [{root!r}, {bench!r}]
import app, app_latency
app_latency.add_noop(app)
app.demo.launch(server_name="127.0.0.1", server_port={port}, quiet=True, **{launch_options})
"""


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(port: int, log, launch_options: dict, root: Path = ROOT) -> subprocess.Popen:
    """The app of the checkout at `root` served on `port`, its output going to `log`, once it answers."""
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    code = SERVER.format(root=str(root), bench=str(root / "bench"), port=port, launch_options=launch_options)
    server = subprocess.Popen([sys.executable, "-c", code], cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 180
    while time.time() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}; see {log.name}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    server.kill()
    raise RuntimeError("the server did not come up within 180 s")


def timed_call(client: httpx.Client, base: str, endpoint: str, make_data, session: str | None, log: list) -> None:
    """Call /endpoint with make_data() and append (endpoint, seconds, error or None) to log."""
    t0 = time.perf_counter()
    try:
        call(client, base, endpoint, make_data(), session)
        error = None
    except (httpx.HTTPError, RuntimeError, KeyError, ValueError) as e:
        error = f"{type(e).__name__}: {e}"[:200]
    log.append((endpoint, time.perf_counter() - t0, error))


ACTION_GAP = (2.0, 6.0)  # seconds between one person's actions
ACTION_MIX = {"grid": 0.80, "reconstruct": 0.16, "elbo": 0.04}  # what the actions that reach the server ask for


class Explorer(threading.Thread):
    """One person on the page: drags (no request), pans the grid (one /grid at the release),
    sometimes an upload (/reconstruct) or the ELBO tab (/elbo); pauses between."""

    def __init__(self, person: str, base: str, until: float, digits: list[np.ndarray], log: list, server_grids: bool):
        super().__init__(daemon=True)
        self.rng, self.session, self.base, self.until, self.digits, self.log = random.Random(person), uuid.uuid4().hex, base, until, digits, log
        self.server_grids = server_grids

    def timed_call(self, client: httpx.Client, endpoint: str, make_data) -> None:
        timed_call(client, self.base, endpoint, make_data, self.session, self.log)

    def run(self) -> None:
        rng = self.rng
        time.sleep(rng.uniform(*ACTION_GAP))  # people do not all click in the same instant
        with httpx.Client(timeout=60) as client:
            while time.time() < self.until:
                action = rng.choices(list(ACTION_MIX), weights=list(ACTION_MIX.values()))[0]
                if action == "grid" and not self.server_grids:
                    pass  # the page decodes it: only time passes
                elif action == "grid":
                    centre = [round(rng.uniform(-2, 2), 2) for _ in range(2)]
                    self.timed_call(client, "grid", lambda: [*centre, round(rng.uniform(2, 8), 2), 20, "linear"])
                else:
                    photo = digit_photo(np.asarray(rng.choice(self.digits)), seed=rng.randrange(2**32))
                    extra = [10, 1000, 0] if action == "elbo" else []
                    self.timed_call(client, action, lambda: [upload(client, self.base, "digit.jpg", photo), *extra])
                time.sleep(rng.uniform(*ACTION_GAP))


def run_explorers(base: str, users: int, seconds: float, digits: list[np.ndarray], server_grids: bool,
                  crowd_number: int = 0) -> tuple[list, float]:
    """`users` Explorers for `seconds`; returns (endpoint, seconds, error) per request and the time taken.
    Each crowd of a run is new people with photos of their own (`crowd_number`), so that no crowd finds
    its photos in the caches an earlier one filled."""
    log: list = []
    crowd = [Explorer(f"crowd {crowd_number}, person {i}", base, 0, digits, log, server_grids) for i in range(users)]
    with httpx.Client(timeout=60) as client:  # everyone has opened the page: Gradio has made their sessions
        for person in crowd:
            call(client, base, "decode", [0.0, 0.0], person.session)
    t0 = time.time()
    for person in crowd:
        person.until = t0 + seconds
        person.start()
    for person in crowd:
        person.join(timeout=seconds + 180)
    return log, time.time() - t0


def report(log: list, elapsed: float) -> dict[str, tuple[float, int]]:
    """Per endpoint: requests/s, p50 and p99 in ms and the error count, printed; returned as {endpoint: (p99, errors)}."""
    by_endpoint = defaultdict(list)
    for endpoint, seconds, error in log:
        by_endpoint[endpoint].append((seconds, error))
    out = {}
    for endpoint, rows in sorted(by_endpoint.items()):
        ok = [s * 1e3 for s, e in rows if e is None]
        errors = [e for _, e in rows if e is not None]
        p50, p99 = (percentile(ok, 0.5), percentile(ok, 0.99)) if ok else (float("nan"),) * 2
        print(f"  /{endpoint:12s} {len(ok) / elapsed:7.1f} req/s   p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   errors {len(errors)}")
        for message in sorted(set(errors))[:3]:
            print(f"      e.g. {message}")
        out[endpoint] = (p99, len(errors))
    return out


def explorers_main(args, base: str, server: subprocess.Popen, digits: list[np.ndarray]) -> None:
    time.sleep(20)  # the start-up warm-up (the quadrature's coarse grid) is done by then
    held = []
    for crowd_number, users in enumerate(args.explorers):
        cpu0, mine0 = cpu_seconds(server.pid), cpu_seconds(os.getpid())
        rss0 = rss_mb(server.pid)
        log, elapsed = run_explorers(base, users, args.seconds, digits, args.server_grids, crowd_number)
        busy, mine = (cpu_seconds(server.pid) - cpu0) / elapsed, (cpu_seconds(os.getpid()) - mine0) / elapsed
        print(f"\n{users} people exploring for {elapsed:.0f} s: {len(log)} requests, server {busy:.2f} cores busy "
              f"(the simulated people {mine:.2f}), server RSS {rss0:.0f} MB before, {rss_mb(server.pid):.0f} MB after", flush=True)
        figures = report(log, elapsed)
        if all(errors == 0 for _, errors in figures.values()) and all(figures[e][0] < 1000 for e in ("grid", "reconstruct") if e in figures):
            held.append(users)
    print(f"\ncrowds held with no errors and the grid's and uploads' p99 under 1 s: {held or 'none'}")


class User(threading.Thread):
    """One person: drags (continuous calls of the drag endpoint), pauses, sometimes a grid or an upload."""

    def __init__(self, index: int, session: str | None, base: str, drag_endpoint: str, until: float, max_calls: int,
                 photo: bytes, log: list):
        super().__init__(daemon=True)
        self.rng = random.Random(index)  # the same behaviour in every phase
        self.session = session
        self.base, self.drag_endpoint, self.until, self.max_calls = base, drag_endpoint, until, max_calls
        self.photo, self.log, self.calls = photo, log, 0

    def timed_call(self, client: httpx.Client, endpoint: str, make_data) -> None:
        timed_call(client, self.base, endpoint, make_data, self.session, self.log)
        self.calls += 1

    def more(self) -> bool:
        return time.time() < self.until and self.calls < self.max_calls

    def run(self) -> None:
        rng = self.rng
        with httpx.Client(timeout=30) as client:
            z = [rng.uniform(-2, 2), rng.uniform(-2, 2)]
            while self.more():
                action = rng.random()
                if action < 0.08:
                    centre = [round(rng.uniform(-2, 2), 2) for _ in range(2)]
                    self.timed_call(client, "grid", lambda: [*centre, 6.0, 20, "linear"])
                elif action < 0.12:
                    self.timed_call(client, "reconstruct", lambda: [upload(client, self.base, "digit.jpg", self.photo)])
                else:
                    drag_end = time.time() + rng.uniform(1, 3)
                    step = [rng.uniform(-0.05, 0.05), rng.uniform(-0.05, 0.05)]
                    while time.time() < drag_end and self.more():
                        z = [max(-4, min(4, zi + si)) for zi, si in zip(z, step)]
                        self.timed_call(client, self.drag_endpoint, lambda: [round(z[0], 2), round(z[1], 2)])
                time.sleep(rng.uniform(0.5, 2))


def run_phase(base: str, drag_endpoint: str, sessions: list[str | None], seconds: float, max_calls: int,
              photo: bytes) -> tuple[list, float]:
    """Each of len(sessions) users drags on `drag_endpoint` for `seconds`; returns (endpoint, seconds, error) per call."""
    log: list = []
    t0 = time.time()
    crowd = [User(i, session, base, drag_endpoint, t0 + seconds, max_calls, photo, log)
             for i, session in enumerate(sessions)]
    for user in crowd:
        user.start()
    for user in crowd:
        user.join(timeout=seconds + 120)
    return log, time.time() - t0


def percentile(ms: list[float], q: float) -> float:
    ms = sorted(ms)
    return ms[min(len(ms) - 1, int(q * len(ms)))]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--explorers", type=int, nargs="+", help="crowd sizes of people using the page, one run each")
    p.add_argument("--server-grids", action="store_true", help="with --explorers: the sharp grids come from /grid (no WebGL2)")
    p.add_argument("--users", type=int, default=32)
    p.add_argument("--seconds", type=float, default=60, help="time on each of /decode and /noop, or per crowd size")
    p.add_argument("--warmup", type=float, default=10, help="seconds of the same load before the start RSS is read")
    p.add_argument("--rounds", type=int, default=2, help="alternating phases per endpoint")
    p.add_argument("--max-calls", type=int, default=5000, help="per user and phase")
    p.add_argument("--session-capacity", type=int, default=None,
                   help="launch with state_session_capacity=N, at most the app's own cap (Gradio keeps a copy of every "
                        "component's config for each of the last N sessions; an API call without a session hash is a new session)")
    p.add_argument("--churn", action="store_true",
                   help="new people (new session hashes) in every phase instead of the same users all along")
    p.add_argument("--anonymous", action="store_true",
                   help="send no session hash, like scripts calling the API (default: one per user, like a page)")
    args = p.parse_args()
    launch_options = {} if args.session_capacity is None else {"state_session_capacity": args.session_capacity}

    digits = torch.load(ROOT / "checkpoints" / "test_latents.pt", weights_only=True)["images"]
    photo = digit_photo(np.asarray(digits[3]))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_file = tempfile.NamedTemporaryFile("w+", prefix="load-server-", suffix=".log", delete=False)
    server = start_server(port, log_file, launch_options)
    if args.explorers:
        try:
            explorers_main(args, base, server, [np.asarray(d) for d in digits])
        finally:
            server.terminate()
            server.wait(timeout=30)
        return

    def people() -> list[str | None]:
        return [None if args.anonymous else uuid.uuid4().hex for _ in range(args.users)]

    try:
        # Warm-up under the same load, so that the start RSS already holds what any busy server
        # holds once (worker threads and their malloc arenas, caches, the users' sessions) and growth means a leak.
        sessions = people()
        warm_log, _ = run_phase(base, "decode", sessions, args.warmup, args.max_calls, photo)
        rss = [rss_mb(server.pid)]
        print(f"warm-up: {len(warm_log)} calls in {args.warmup:.0f} s, server RSS {rss[0]:.0f} MB", flush=True)
        logs: dict[str, list] = defaultdict(list)
        elapsed: dict[str, float] = defaultdict(float)
        cpu: dict[str, float] = defaultdict(float)
        for r in range(args.rounds):
            for drag_endpoint in ("decode", "noop") if r % 2 == 0 else ("noop", "decode"):
                cpu0 = cpu_seconds(server.pid)
                if args.churn:
                    sessions = people()
                log, seconds = run_phase(base, drag_endpoint, sessions, args.seconds / args.rounds, args.max_calls, photo)
                cpu[drag_endpoint] += cpu_seconds(server.pid) - cpu0
                logs[drag_endpoint] += log
                elapsed[drag_endpoint] += seconds
                rss.append(rss_mb(server.pid))
                print(f"round {r + 1}, drags on /{drag_endpoint}: {len(log)} calls in {seconds:.1f} s, "
                      f"server RSS {rss[-1]:.0f} MB", flush=True)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()

    print(f"\n{args.users} users, {args.seconds:.0f} s of drags on each of /decode and /noop ({args.rounds} rounds each), "
          f"extra launch options: {launch_options or 'none'}, "
          f"{'no session hash (API scripts)' if args.anonymous else 'one session hash per user (pages)'}"
          f"{', new users every phase' if args.churn else ''}")
    throughput = {}
    for phase in ("decode", "noop"):
        print(f"\nphase: drags call /{phase}; server CPU {1e3 * cpu[phase] / len(logs[phase]):.1f} ms per request "
              f"({cpu[phase] / elapsed[phase]:.2f} cores busy)")
        report(logs[phase], elapsed[phase])
        throughput[phase] = sum(1 for endpoint, _, error in logs[phase] if endpoint == phase and error is None) / elapsed[phase]
    print(f"\n/decode throughput / /noop throughput: {throughput['decode'] / throughput['noop']:.2f} (goal >= 0.80)")
    print(f"server RSS: {rss[0]:.0f} MB after {args.warmup:.0f} s of warm-up load, {rss[-1]:.0f} MB at the end "
          f"(growth {rss[-1] - rss[0]:+.0f} MB, goal < 50 MB); max {max(rss):.0f} MB")
    log_file.seek(0)
    tracebacks = log_file.read().count("Traceback")
    print(f"server log {log_file.name}: {tracebacks} tracebacks")


if __name__ == "__main__":
    main()
