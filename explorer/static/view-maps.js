/* The latent maps: the test digits' means coloured by class, drawn once per model, with each
   map's overlay on top. A click (or drag, or the arrow keys) on a map sets the state it shows. */
import { canvasPoint, dot, drawBox, drawMarker, drawPath, inPlot, renderMap, rgb } from "./draw.js";
import { pointKeys, stepKeys } from "./keys.js";
import { interpolationPoints, priorSample, round2 } from "./latent.js";

/* A canvas showing the current model's map with overlay(ctx, state) drawn on it, repainted when
   one of `keys` (or the model) changes. onPoint(z, event): a press on the plot, if the map sets z. */
function mapView(page, element, props, name, { keys, overlay, onPoint }) {
  const canvas = element.querySelector("canvas"), { frame: f } = page, ctx = canvas.getContext("2d");
  canvas.width = f.width; canvas.height = f.height;
  let base = null, baseOf = null;
  function paint(key) {
    const model = page.store.get().model;
    if (baseOf !== model) {  // first paint, or another model picked: its map first
      baseOf = model;
      base = null;
      page.baseMap(model, props.title).then((b) => { if (baseOf === model) { base = b; paint(key); } });
      return;
    }
    if (!base) return;
    ctx.drawImage(base, 0, 0);
    inPlot(ctx, f, (c) => overlay(c, page.store.get()));
    page.painted(name, key);
  }
  // Repainted once a frame at most, after the digits: the screen shows both in the same frame.
  let waiting = null;
  page.watch([...keys, "model"], (key) => {
    if (waiting === null) requestAnimationFrame(() => { const k = waiting; waiting = null; paint(k); });
    waiting = key;
  });
  paint("load");
  if (!onPoint) return canvas;
  const at = (e) => { const p = canvasPoint(canvas, e); return f.inPlot(p) ? f.toZ(p).map(round2) : null; };
  canvas.addEventListener("pointerdown", (e) => { const z = at(e); if (z) onPoint(z, e); });
  return canvas;
}

/* Explorer: the marker at z, a grey one where the mouse hovers; click or drag sets z, hovering previews. */
export function explorerMap(page, element, props, name) {
  const { store } = page, ink = rgb(page.style.ink), grey = rgb(page.style.hover);
  const keep = (z) => store.set({ z1: z[0], z2: z[1], explorer_hover: null }, "map");
  let dragging = false;
  const canvas = mapView(page, element, props, name, {
    keys: ["z1", "z2", "explorer_hover"],
    overlay: (ctx, s) => {
      if (s.explorer_hover) drawMarker(ctx, page.frame, s.explorer_hover, grey, 5);
      drawMarker(ctx, page.frame, [s.z1, s.z2], ink);
    },
    onPoint: (z, e) => { dragging = true; canvas.setPointerCapture(e.pointerId); keep(z); },
  });
  const f = page.frame, hover = (z) => { if (store.get().explorer_hover !== z) store.set({ explorer_hover: z }, "hover"); };
  canvas.addEventListener("pointermove", (e) => {
    const p = canvasPoint(canvas, e), z = f.inPlot(p) ? f.toZ(p).map(round2) : null;
    if (!z) hover(null);
    else if (dragging) keep(z);
    else if (e.pointerType === "mouse") hover(z);
  });
  const stop = () => { dragging = false; };
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
  canvas.addEventListener("pointerleave", () => { if (!dragging) hover(null); });
  pointKeys(canvas, page.frame.half, () => [store.get().z1, store.get().z2], keep);
}

/* Manifold: the grid's window as a box; a click centres the grid there. */
export function gridMap(page, element, props, name) {
  const { store } = page, ink = rgb(page.style.ink);
  const centre = (z) => store.set({ grid_z1: z[0], grid_z2: z[1] }, "map");
  const canvas = mapView(page, element, props, name, {
    keys: ["grid_z1", "grid_z2", "grid_span"],
    overlay: (ctx, s) => drawBox(ctx, page.frame, ink, [s.grid_z1 - s.grid_span / 2, s.grid_z2 - s.grid_span / 2],
      [s.grid_z1 + s.grid_span / 2, s.grid_z2 + s.grid_span / 2]),
    onPoint: centre,
  });
  pointKeys(canvas, page.frame.half, () => [store.get().grid_z1, store.get().grid_z2], centre);
}

/* Samples: where the prior samples drawn lie. */
export function samplesMap(page, element, props, name) {
  const ink = rgb(page.style.ink);
  const canvas = mapView(page, element, props, name, {
    keys: ["samples_n", "samples_seed"],
    overlay: (ctx, s) => {
      for (let i = 0; i < s.samples_n; i++) { const [x, y] = page.frame.toPx(priorSample(s.samples_seed, i)); dot(ctx, x, y, 3.5, ink, "white"); }
    },
  });
  stepKeys(canvas, page.store, "samples_seed");
}

/* Interpolation: the path from A to B; a click moves the end that "clicking the map sets" names. */
export function interpMap(page, element, props, name) {
  const { store } = page, ink = rgb(page.style.ink);
  const end = () => (store.get().interp_click_sets === "B" ? ["interp_b1", "interp_b2"] : ["interp_a1", "interp_a2"]);
  const canvas = mapView(page, element, props, name, {
    keys: ["interp_a1", "interp_a2", "interp_b1", "interp_b2", "interp_steps"],
    overlay: (ctx, s) => drawPath(ctx, page.frame, ink, interpolationPoints([s.interp_a1, s.interp_a2], [s.interp_b1, s.interp_b2], s.interp_steps)),
    onPoint: (z) => { const [k1, k2] = end(); store.set({ [k1]: z[0], [k2]: z[1] }, "map"); },
  });
  pointKeys(canvas, page.frame.half, () => { const [k1, k2] = end(); return [store.get()[k1], store.get()[k2]]; },
    (z) => { const [k1, k2] = end(); store.set({ [k1]: z[0], [k2]: z[1] }, "map"); });
}
