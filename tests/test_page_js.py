"""The page's JavaScript modules (explorer/static/) run in Node.js, without a browser: they compute
what vae/ computes (prior samples, grid axes, decoded digits), the page's state keeps its promises
to the controls (store.js), and explorer/assets.py serves the modules under hashed names that
import each other. Skips where `node` is absent (.ci/run installs it)."""
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch

from explorer import assets
from vae import latent
from vae.model import DEFAULT_CHECKPOINT, load_checkpoint

STATIC = assets.STATIC
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="no node (apt-get install nodejs; .ci/run does)")


def run_js(script: str, modules: Path = STATIC) -> object:
    """Run an ES module in Node, its imports "./x.js" naming the modules in `modules`; what it prints, as JSON."""
    script = re.sub(r'"\./([\w.-]+\.js)"', lambda m: json.dumps((modules / m[1]).as_uri()), script)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "test.mjs"
        path.write_text(script)
        done = subprocess.run([NODE, str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_prior_samples_and_grid_axes_are_vae_latents():
    out = run_js("""
        import { priorSample, gridAxis } from "./latent.js";
        const seeds = [0, 7, 4000000000];
        console.log(JSON.stringify({
          samples: seeds.map((s) => Array.from({ length: 100 }, (_, i) => priorSample(s, i))),
          axes: [[0, 6, 20, "linear"], [1.5, 3, 7, "cdf"], [-2, 0.1, 30, "cdf"], [0.3, 5, 1, "linear"]].map((a) => gridAxis(...a)),
        }));""")
    for seed, page in zip([0, 7, 4_000_000_000], out["samples"]):
        np.testing.assert_allclose(page, latent.prior_samples(100, seed).numpy(), atol=1e-6)
    for args, page in zip([(0, 6, 20, "linear"), (1.5, 3, 7, "cdf"), (-2, 0.1, 30, "cdf"), (0.3, 5, 1, "linear")], out["axes"]):
        np.testing.assert_allclose(page, latent.grid_axis(*args), atol=1e-5)


def test_the_page_decodes_the_committed_decoder_as_the_server_does(tmp_path):
    model, checkpoint = load_checkpoint(DEFAULT_CHECKPOINT)
    (tmp_path / "decoder.bin").write_bytes(assets.decoder_pack(checkpoint, {"z": [[0.0, 0.0]], "pixels": [[0] * 784]}))
    z = np.random.default_rng(0).uniform(-6, 6, (500, 2))
    pixels = run_js(f"""
        import {{ readFileSync }} from "node:fs";
        import {{ unpack }} from "./pack.js";
        import {{ Decoder }} from "./decoder.js";
        const bytes = readFileSync({json.dumps(str(tmp_path / "decoder.bin"))});
        const decoder = new Decoder(unpack(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)));
        console.log(JSON.stringify(Array.from(decoder.decode({json.dumps(z.ravel().tolist())}, 500))));""")
    page = np.array(pixels).reshape(500, 28, 28)
    assert np.abs(page - latent.decode_images(model, torch.from_numpy(z)).astype(int)).max() <= 1


STORE = """
    import { createStore } from "./store.js";
    const shown = [], frames = [];
    const store = createStore({ defaults: { z1: 0, z2: 0, tab: "explorer", hover: null }, controls: ["z1", "z2"],
      show: (values) => shown.push(values), nextFrame: (fn) => frames.push(fn) });
    const heard = [];
    store.subscribe((state, changed, source) => heard.push([changed, source]));
    const frame = () => frames.splice(0).forEach((fn) => fn());
"""


def test_a_views_values_reach_the_controls_once_a_frame_and_their_echoes_never_come_back():
    out = run_js(STORE + """
        store.set({ z1: 1 }, "map"); store.set({ z1: 2, z2: 1 }, "map");  // a drag: two moves in one frame
        frame();
        store.set({ z1: 3 }, "map"); frame();
        store.report("z1", 2); store.report("z2", 1);  // Gradio's change events for the first push, late
        const afterLateEchoes = store.get().z1;
        store.report("z1", 3);                          // ... and the second
        store.report("z1", -1.5);                       // the user drags the slider
        store.set({ hover: [1, 1] }, "hover"); frame();  // a view's own key: nothing for the controls
        console.log(JSON.stringify({ shown, afterLateEchoes, state: store.get(), heard }));""")
    assert out["shown"] == [{"z1": 2, "z2": 1}, {"z1": 3, "z2": 1}], "one push a frame, with every control's value"
    assert out["afterLateEchoes"] == 3, "an echo of an older push does not move the state back"
    assert out["state"] == {"z1": -1.5, "z2": 1, "tab": "explorer", "hover": [1, 1]}
    assert out["heard"] == [[["z1"], "map"], [["z1", "z2"], "map"], [["z1"], "map"], [["z1"], "slider"], [["hover"], "hover"]]


def test_a_drag_reported_early_by_the_dom_never_steps_back_when_gradios_late_change_events_arrive():
    out = run_js(STORE + """
        const seen = [];
        store.subscribe((state) => seen.push(state.z1));
        for (const v of [0.1, 0.2, 0.3]) store.report("z1", v, true);  // the DOM's input events of a drag
        for (const v of [0.1, 0.2, 0.3]) store.report("z1", v);        // Gradio's change events, ~11 ms behind
        store.report("z1", 0.2);                                          // then the user moves back to 0.2: news
        frame();
        console.log(JSON.stringify({ seen, shown }));""")
    assert out == {"seen": [0.1, 0.2, 0.3, 0.2], "shown": []}


def test_a_value_the_state_keeps_other_than_the_control_sent_goes_back_to_the_control():
    out = run_js("""
        import { createStore } from "./store.js";
        const shown = [];
        const store = createStore({ defaults: { z1: 0 }, controls: ["z1"], show: (v) => shown.push(v), nextFrame: (fn) => fn(),
          tidy: (next) => ({ ...next, z1: Math.min(4.5, next.z1) }) });
        store.report("z1", 9);      // typed beyond the slider's end
        store.report("z1", 4.5);    // the control's echo of the end
        store.report("z1", 9);      // typed again: the control shows 9 again, so the end goes back again
        console.log(JSON.stringify({ shown, z1: store.get().z1 }));""")
    assert out == {"shown": [{"z1": 4.5}, {"z1": 4.5}], "z1": 4.5}


def test_the_state_goes_to_a_short_query_string_and_back():
    out = run_js("""
        import { toQuery, fromQuery } from "./store.js";
        const defaults = { tab: "explorer", model: "beta1", z1: 0, grid_n: 20, interp_pick_a: 0, hover: null };
        const keys = ["tab", "model", "z1", "grid_n", "interp_pick_a"];
        const state = { tab: "manifold", model: "beta0", z1: -1.25, grid_n: 20, interp_pick_a: null, hover: [1, 2] };
        const query = toQuery(state, defaults, keys);
        console.log(JSON.stringify({ query, back: fromQuery(query, defaults, keys), junk: fromQuery("z1=abc&evil=1&grid_n=7", defaults, keys) }));""")
    assert out["query"] == "tab=manifold&model=beta0&z1=-1.25&interp_pick_a="
    assert out["back"] == {"tab": "manifold", "model": "beta0", "z1": -1.25, "interp_pick_a": None}
    assert out["junk"] == {"grid_n": 7}, "a number that does not parse and an unknown key are left out"


def test_the_pages_rules_keep_values_in_range_and_a_moved_end_unnamed():
    out = run_js("""
        import { tidy } from "./page.js";
        const config = { limits: { z1: [-4.5, 4.5, 0.01], grid_n: [1, 30, 1], train_epoch: [1, 60, 1], interp_a1: [-4.5, 4.5, 0.01] },
          models: { beta0: { epochs: 40 }, beta1: { epochs: 60 } } };
        const rules = tidy(config), before = { model: "beta1", z1: 0, grid_n: 20, train_epoch: 50, interp_a1: 1, interp_a2: 2,
          interp_b1: 0, interp_b2: 0, interp_pick_a: 7, interp_pick_b: 1 };
        const apply = (patch, source) => rules({ ...before, ...patch }, patch, source, before);
        console.log(JSON.stringify([
          apply({ z1: 9, grid_n: 7.6 }, "slider"), apply({ z1: NaN }, "slider"), apply({ model: "beta0" }, "slider"),
          apply({ model: "nonsense" }, "slider"), apply({ interp_a1: 2 }, "map"), apply({ interp_a1: 2 }, "rule"),
          apply({ interp_a1: 1 }, "slider")]));""")
    typed, nan, shorter, unknown, moved, placed, unmoved = out
    assert (typed["z1"], typed["grid_n"]) == (4.5, 8)
    assert nan["z1"] == 0, "a value that is not a number keeps the state's"
    assert shorter["train_epoch"] == 40, "the epoch stays within the model's run"
    assert unknown["model"] == "beta1"
    assert moved["interp_pick_a"] is None and moved["interp_pick_b"] == 1, "an end moved by hand no longer names a test digit"
    assert placed["interp_pick_a"] == 7 and unmoved["interp_pick_a"] == 7


def test_the_served_modules_import_each_other_by_their_hashed_names(tmp_path):
    written = assets.write_modules(tmp_path)
    assert set(written) == {p.stem for p in STATIC.glob("*.js")}
    (tmp_path / "package.json").write_text((STATIC / "package.json").read_text())
    out = run_js(f'import("./{written["page"].name}").then((page) => console.log(JSON.stringify(typeof page.mount)));', tmp_path)
    assert out == "function"

    # A module's name changes with its text and with any module it imports, and with nothing else.
    source = tmp_path / "source"
    shutil.copytree(STATIC, source)
    (source / "latent.js").write_text((source / "latent.js").read_text() + "\n// changed\n")
    (tmp_path / "again").mkdir()
    again = assets.write_modules(tmp_path / "again", source)
    changed = {stem for stem in written if written[stem].name != again[stem].name}
    importers = {stem for stem, path in written.items() if '"./latent-' in path.read_text()}
    assert {"latent", "page"} | importers <= changed and "pack" not in changed and "store" not in changed


def test_an_address_names_a_view_and_keeps_what_is_not_the_pages():
    out = run_js("""
        import { addressOf, fromAddress } from "./address.js";
        import { sliderStep } from "./keys.js";
        const defaults = { tab: "explorer", model: "beta1", z1: 0, z2: 0, interp_pick_a: 0, interp_a1: 0.5 };
        const keys = Object.keys(defaults), tabs = ["explorer", "manifold"];
        const at = (search, hash = "") => ({ pathname: "/app/", search, hash });
        console.log(JSON.stringify({
          typed: fromAddress(at("?z1=1.5&z2=-2&model=beta0&decode=server"), defaults, keys, tabs),
          fragment: fromAddress(at("", "#manifold"), defaults, keys, tabs),
          unknown: fromAddress(at("?tab=nowhere&z1=abc", "#elsewhere"), defaults, keys, tabs),
          cleared: fromAddress(at("?interp_pick_a="), defaults, keys, tabs),
          written: addressOf(at("?decode=server&z1=3", "#manifold"), { ...defaults, z1: 0.25, tab: "manifold" }, defaults, keys),
          derived: addressOf(at(""), { ...defaults, model: "beta0", interp_a1: 1.2 }, defaults, keys, keys.filter((k) => k !== "interp_a1")),
          first: addressOf(at("?z1=1"), defaults, defaults, keys),
          steps: [[0.01, false], [0.01, true], [1, false], [1, true], [0.5, false]].map(([s, shift]) => sliderStep(s, shift)),
        }));""")
    assert out["typed"] == {"z1": 1.5, "z2": -2, "model": "beta0"}
    assert out["fragment"] == {"tab": "manifold"}
    assert out["unknown"] == {}, "a tab the page lacks and a number that does not parse are left out"
    assert out["cleared"] == {"interp_pick_a": None}
    assert out["written"] == "/app/?decode=server&tab=manifold&z1=0.25", "other keys kept, the fragment dropped"
    assert out["derived"] == "/app/?model=beta0", "a value that follows from others is left out"
    assert out["first"] == "/app/"
    assert out["steps"] == [0.1, 1, 1, 10, 0.5]
