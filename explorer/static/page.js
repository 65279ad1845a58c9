/* The page's half of the explorer, and its entry point: every picture that follows a control
   or the pointer is drawn here, from one state (store.js), so that exploring the latent space
   makes no request to the server.

   How the page and Gradio talk (docs/architecture.md):
   - Each view is a gr.HTML whose js_on_load imports this module and calls mount(name, element,
     props) (explorer/components.py). The view named "page" comes first: its props carry the
     page's config (the models' files, the map's frame, the colours, the controls' ranges and
     first values), and it shows the status line.
   - Control -> state: each Gradio control has one JS-only change listener (app.py), which calls
     VAEPage.control(key, value); the key is the control's elem_id. A slider being dragged also
     reports from the DOM's input event, a frame sooner; the store takes a value once.
   - State -> controls: when the state holds values the controls do not show, the store sets
     them as the page view's value; Gradio's change event of that view hands them to the
     controls (one JS-only listener, app.py). The server's events read the controls as usual.
   - A view that needs the server (the drawing pad) sets its own value; its change event
     carries it there.
   Every paint is announced as a "vae-painted" event on the document, {view, key, at}: the key
   says what moved ("slider", "map", "hover", "pan", "sharp", "model", "play", "mark", "load");
   tests and benches listen to it. */
import { copyLink, followAddress } from "./address.js";
import { Frame, renderMap } from "./draw.js";
import { sliderKeys } from "./keys.js";
import { fitViews, fullScreenButton } from "./layout.js";
import { clamp, priorSample, round2 } from "./latent.js";
import { createModels } from "./models.js";
import { createStore } from "./store.js";
import { explorerDigit, interpolation, samples } from "./view-digits.js";
import { grid, gridMove } from "./view-grid.js";
import { explorerMap, gridMap, interpMap, samplesMap } from "./view-maps.js";
import { pad } from "./view-pad.js";
import { sheet } from "./view-sheet.js";
import { play, training } from "./view-training.js";

const VIEWS = { explorer_digit: explorerDigit, explorer_map: explorerMap, grid, grid_map: gridMap, samples, samples_map: samplesMap,
  interp: interpolation, interp_map: interpMap, interp_digits: sheet, elbo_digits: sheet, training, story_training: training, pad };
// Views sized to the window (with the element to keep in view under them), and views with a full-screen button.
const FITTED = { explorer_map: null, grid: null, explorer_digit: "#z2" };
const FULL_SCREEN = ["explorer_map", "grid", "grid_map", "samples", "samples_map", "interp", "interp_map", "training", "story_training"];
const ENDS = [["interp_pick_a", "interp_a1", "interp_a2"], ["interp_pick_b", "interp_b1", "interp_b2"]];

let started = null;
const ready = new Promise((resolve) => { started = resolve; });

// The views drawn from the model: dimmed from a change of model until each has painted the new one.
const MODEL_VIEWS = ["explorer_digit", "explorer_map", "grid", "grid_map", "samples", "samples_map", "interp", "interp_map", "training",
  "story_training"];
const MB = 1e6;

function painted(view, key) {
  document.getElementById(view)?.classList.remove("vae-stale");
  document.dispatchEvent(new CustomEvent("vae-painted", { detail: { view, key, at: performance.now() } }));
}

/* The state to keep for a change: numbers within their controls' ranges (whole numbers where the
   control steps by whole numbers), the epoch within the model's run, and an interpolation end
   moved by hand no longer named as a test digit. */
export function tidy(config) {
  return (next, patch, source, previous) => {
    if (!config.models[next.model]) next.model = previous.model;
    for (const [key, [lo, hi, step]] of Object.entries(config.limits)) {
      let v = next[key];
      if (typeof v !== "number" || Number.isNaN(v)) { next[key] = previous[key]; continue; }
      if (step >= 1) v = Math.round(v);
      const top = key === "train_epoch" ? config.models[next.model].epochs : hi;
      next[key] = clamp(v, lo, top);
    }
    for (const [pick, k1, k2] of ENDS)
      if (source !== "rule" && !(pick in patch) && (next[k1] !== previous[k1] || next[k2] !== previous[k2])) next[pick] = null;
    return next;
  };
}

/* The page view: the store, the models and the status line. */
function start(element, props) {
  const config = props.config, models = createModels(config.models,
    new URLSearchParams(location.search).get("decode") === "server" ? "the address asks for it (?decode=server)" : null,
    (name) => { if (name === store.get().model) status(); });
  const store = createStore({ defaults: config.defaults, controls: config.controls, tidy: tidy(config),
    show: (values) => { props.value = values; } });
  const page = {
    store, models, config, frame: new Frame(config.frame), style: config.style, painted, fit: fitViews(),
    /* paint(key) whenever one of `keys` changes; key is "model" when the model did. */
    watch(keys, paint) {
      store.subscribe((state, changed, source) => {
        if (changed.some((k) => keys.includes(k))) paint(changed.includes("model") ? "model" : source);
      });
    },
    /* The model's latent map without overlays, drawn once per title. */
    baseMap(model, title) {
      const maps = models.maps(model);
      if (!maps.has(title)) maps.set(title, models.points(model).then((points) => renderMap(page.frame, page.style, points, title)));
      return maps.get(title);
    },
  };

  // An interpolation end named as a test digit sits where the model encodes that digit.
  store.subscribe(async (state, changed) => {
    for (const [pick, k1, k2] of ENDS) {
      if (!(changed.includes(pick) || changed.includes("model")) || state[pick] === null) continue;
      const points = await models.points(state.model), now = store.get();
      if (points && now[pick] === state[pick] && now.model === state.model)
        store.set({ [k1]: round2(points.mu[2 * state[pick]]), [k2]: round2(points.mu[2 * state[pick] + 1]) }, "rule");
    }
  });

  // The tab the state names is the tab shown: a person's click has shown it already; an address or a link has not.
  const showTab = (tab, tries = 600) => {
    const button = document.querySelector(`[role=tab][data-tab-id="${tab}"]`);
    if (button && button.getAttribute("aria-selected") !== "true") button.click();
    else if (!button && tries > 0) requestAnimationFrame(() => showTab(tab, tries - 1));  // the tabs are drawn after this view
  };
  store.subscribe((state, changed, source) => { if (changed.includes("tab") && source !== "slider") showTab(state.tab); });
  const link = followAddress(page, config.tabs,
    (state) => ENDS.filter(([pick]) => state[pick] !== null).flatMap(([, k1, k2]) => [k1, k2]));

  // The Story shows the step the state names and hides the others: one rule, which holds whenever Gradio draws the steps.
  const storyRule = document.head.appendChild(document.createElement("style"));
  const showStep = (step) => { storyRule.textContent = `#story .vae-step:not(#story_${step}) { display: none !important; }`; };
  store.subscribe((state, changed) => { if (changed.includes("story_step")) showStep(state.story_step); });
  showStep(store.get().story_step);

  // The status line: where the digits come from, and how far the model's decoder has come while it loads.
  const line = element.querySelector(".vae-mode");
  let busy = false;  // a call to the server waits because its queue is full
  function status() {
    const name = store.get().model, engine = models.ready(name), { got, total } = models.loading(name);
    line.dataset.mode = engine ? engine.mode : "loading";
    line.textContent = (engine ? (engine.mode === "page" ? "" : `Digits are decoded on the server: ${engine.reason}.`)
      : `Loading the decoder of ${config.models[name].name}: ${(got / MB).toFixed(1)}${total ? ` of ${(total / MB).toFixed(1)}` : ""} MB. ` +
        "Until it is here, the server draws the digits.") +
      (busy ? " The server is busy: retrying… (what you drag is drawn here meanwhile)" : "");
  }
  document.addEventListener("vae-busy", (e) => { busy = e.detail.busy; status(); });
  store.subscribe((state, changed) => {
    if (!changed.includes("model")) return;
    for (const view of MODEL_VIEWS) document.getElementById(view)?.classList.add("vae-stale");
    status();
  });
  status();

  // A slider dragged reports its value from the DOM's input event too: Gradio's own change event
  // arrives ~11 ms later (docs/architecture.md), and then finds the store already holding the value.
  const sliders = config.controls.filter((key) => key in config.limits);
  sliderKeys(document);
  document.addEventListener("input", (e) => {
    if (!(e.target instanceof HTMLInputElement) || e.target.type !== "range") return;
    const key = sliders.find((k) => e.target.closest(`#${k}`));
    if (key) store.report(key, parseFloat(e.target.value), true);
  }, true);

  window.VAEPage = {
    control: (key, value) => store.report(key, value),
    reset: () => store.set(Object.fromEntries(config.reset.map((key) => [key, config.defaults[key]])), "reset"),
    gridMove: (dx, dy, zoom) => gridMove(page, dx, dy, zoom),
    newSeed: () => store.set({ samples_seed: Math.floor(Math.random() * 2 ** 31) }, "seed"),
    play: () => play(page),
    storyMove: (by) => store.set({ story_step: store.get().story_step + by }, "story"),
    storyDraw: () => store.set({ story_seed: store.get().story_seed + 1 }, "story"),
    copyLink: async () => { element.querySelector(".vae-said").textContent = await copyLink(link(), element.querySelector(".vae-link")); },
    engine: () => models.engine(store.get().model),
    /* Why the manifold grid is not decoded by this browser's graphics card (null: it is), once that is known. */
    gridReason: async () => (await models.grid(store.get().model)).reason,
    state: () => store.get(),
    priorSample,
  };
  started(page);
}

/* Called by js_on_load of every view's gr.HTML (explorer/components.py). */
export async function mount(name, element, props) {
  if (name === "page") start(element, props);
  const page = await ready;
  if (VIEWS[name]) VIEWS[name](page, element, props, name);
  if (name in FITTED) page.fit.add(element.querySelector("canvas"), FITTED[name]);
  if (FULL_SCREEN.includes(name)) fullScreenButton(element);
}
