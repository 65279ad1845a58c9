/* Digits decoded from the state: the Explorer's digit at z (or where the mouse hovers), the
   prior samples, the interpolation strip. Decoded in the page, or asked of the server's API
   where the page cannot decode (the status line says why). */
import { tileDigits, showImage } from "./draw.js";
import { pointKeys, stepKeys } from "./keys.js";
import { interpolationPoints, priorSample } from "./latent.js";
import { SERVER_WHILE_LOADING_MS, callForImage, later, latestOnly } from "./server.js";

/* paint(key): decode with draw(decoder, state), or show the picture of the endpoint that
   server(state) names ([name, data]); then report the paint. Repainted when one of `keys` changes. */
function digitView(page, name, canvas, keys, draw, server) {
  let latest = 0, drawnHere = 0;  // the newest paint; the newest the page decoded, which no older server picture covers
  // Per model, resolved SERVER_WHILE_LOADING_MS after this view first waited for its decoder: paints that
  // follow each other (a drag while the file loads) share the deadline instead of each restarting it.
  const patience = new Map();
  const fetchPicture = latestOnly(async (state, key, ticket) => {
    const image = await callForImage(...server(state));
    if (ticket < drawnHere) return;
    showImage(canvas, image);
    page.painted(name, key);
  });
  const paint = async (key) => {
    const ticket = ++latest, state = page.store.get();
    let engine = page.models.ready(state.model);
    if (!engine) {
      const loading = page.models.engine(state.model);
      if (!patience.has(state.model)) patience.set(state.model, later(SERVER_WHILE_LOADING_MS));
      engine = await Promise.race([loading, patience.get(state.model)]);
      if (ticket !== latest) return;  // a newer paint of this view draws instead
      if (!engine) {
        fetchPicture(state, key, ticket);
        engine = await loading;
        if (ticket !== latest) return;
      }
    }
    if (engine.mode === "page") { drawnHere = ticket; draw(engine.decoder, state); page.painted(name, key); } else fetchPicture(state, key, ticket);
  };
  page.watch([...keys, "model"], paint);
  paint("load");
}

export function explorerDigit(page, element, props, name) {
  const canvas = element.querySelector("canvas"), caption = element.querySelector(".vae-caption");
  const shown = (s) => {  // the point decoded, named in the caption
    const z = s.explorer_hover || [s.z1, s.z2];
    caption.textContent = `z = (${z[0].toFixed(2)}, ${z[1].toFixed(2)})${s.explorer_hover ? "  (hovering: click to keep it)" : ""}`;
    return z;
  };
  digitView(page, name, canvas, ["z1", "z2", "explorer_hover"], (decoder, s) => tileDigits(canvas, decoder.decode(shown(s), 1), 1, 1, 1, 0),
    (s) => ["decode", [...shown(s), s.model]]);
  const { store } = page;
  pointKeys(canvas, page.frame.half, () => [store.get().z1, store.get().z2], (z) => store.set({ z1: z[0], z2: z[1], explorer_hover: null }, "key"));
}

export function samples(page, element, props, name) {
  const canvas = element.querySelector("canvas"), decoded = new Map();  // sample i of a seed never changes
  digitView(page, name, canvas, ["samples_n", "samples_seed"], (decoder, s) => {
    const n = s.samples_n, key = `${s.model} ${s.samples_seed}`;
    if (!decoded.has(key)) decoded.set(key, []);
    const done = decoded.get(key), missing = n - done.length;
    if (missing > 0) {  // decode only the new ones
      const z = [];
      for (let i = done.length; i < n; i++) z.push(...priorSample(s.samples_seed, i));
      const pixels = decoder.decode(z, missing);
      for (let i = 0; i < missing; i++) done.push(pixels.subarray(784 * i, 784 * (i + 1)));
    }
    const all = new Uint8Array(784 * n);
    for (let i = 0; i < n; i++) all.set(done[i], 784 * i);
    tileDigits(canvas, all, n, Math.ceil(Math.sqrt(n)), 2, 2);
  }, (s) => ["sample", [s.samples_n, s.samples_seed, s.model]]);
  stepKeys(canvas, page.store, "samples_seed");
}

export function interpolation(page, element, props, name) {
  const canvas = element.querySelector("canvas");
  const ends = (s) => [[s.interp_a1, s.interp_a2], [s.interp_b1, s.interp_b2]];
  digitView(page, name, canvas, ["interp_a1", "interp_a2", "interp_b1", "interp_b2", "interp_steps"], (decoder, s) => {
    const steps = s.interp_steps;
    tileDigits(canvas, decoder.decode(interpolationPoints(...ends(s), steps).flat(), steps), steps, Math.min(steps, 10), 3, 2, 255);
  }, (s) => ["interpolate", [...ends(s).flat(), s.interp_steps, s.model]]);
  stepKeys(canvas, page.store, "interp_steps");
}
