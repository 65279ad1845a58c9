/* The manifold: an n x n grid of decoded digits. Dragging and the wheel pan and zoom the picture
   shown at once, and the sharp picture is drawn when the gesture ends: decoded by this browser's
   graphics card (decoder-gl.js) where it decodes as the server does, else by the server's /grid
   (while the card is being prepared, and where the page cannot decode); the canvas's
   data-drawn-by says which. A click centres the grid on the cell under it. Where the cells sit
   comes from vae/draw.py's grid_layout, through the page's config. */
import { canvasPoint, drawGrid } from "./draw.js";
import { viewKeys } from "./keys.js";
import { clamp, gridAxis, round2 } from "./latent.js";
import { SERVER_WHILE_LOADING_MS, callForImage, later, latestOnly } from "./server.js";

const KEYS = ["grid_z1", "grid_z2", "grid_span", "grid_n", "grid_spacing"];

export function grid(page, element, props, name) {
  const { store, config } = page, canvas = element.querySelector("canvas"), note = element.querySelector(".vae-note");
  const ctx = canvas.getContext("2d"), [spanMin, spanMax] = config.limits.grid_span, half = page.frame.half;
  const windowOf = (s) => ({ z1: s.grid_z1, z2: s.grid_z2, span: s.grid_span, n: s.grid_n, spacing: s.grid_spacing, model: s.model });
  const layout = (n) => { const L = config.grid_layouts[n]; return { ...L, pitch: L.cell + L.gap, size: n * L.cell + (n - 1) * L.gap }; };
  const zPerPx = (w) => w.span / (Math.max(w.n - 1, 1) * layout(w.n).pitch);
  let shown = null, asked = "", gesture = false;

  function paint(key) {
    const now = windowOf(store.get());
    const reach = Math.max(Math.abs(now.z1), Math.abs(now.z2)) + now.span / 2;
    note.textContent = reach > config.digit_region ? config.models[now.model].note : "";
    if (!shown) return;
    if (canvas.width !== shown.image.width) { canvas.width = shown.image.width; canvas.height = shown.image.height; }
    const L = layout(shown.n), same = shown.n === now.n && shown.spacing === now.spacing && shown.model === now.model;
    if (!same || (shown.z1 === now.z1 && shown.z2 === now.z2 && shown.span === now.span)) ctx.drawImage(shown.image, 0, 0);
    else {  // the picture shown, moved and scaled to where the new window puts it, until the sharp one arrives
      const k = zPerPx(shown) / zPerPx(now), cx = L.left + L.size / 2, cy = L.top + L.size / 2;
      const dx = (shown.z1 - now.z1) / zPerPx(now), dy = -(shown.z2 - now.z2) / zPerPx(now);
      ctx.fillStyle = "white"; ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.save(); ctx.beginPath(); ctx.rect(L.left, L.top, L.size, L.size); ctx.clip();
      ctx.fillStyle = "rgb(235,235,235)"; ctx.fillRect(L.left, L.top, L.size, L.size);
      ctx.translate(cx + dx, cy + dy); ctx.scale(k, k); ctx.translate(-cx, -cy);
      ctx.drawImage(shown.image, 0, 0);
      ctx.restore();
    }
    page.painted(name, key);
    element.classList.toggle("vae-stale", shown.model !== now.model);  // the old model's grid until the new one's arrives
  }

  const decodeHere = async (decoder, w) => {
    const cols = gridAxis(w.z1, w.span, w.n, w.spacing), rows = gridAxis(w.z2, w.span, w.n, w.spacing).reverse(), z = [];
    for (const z2 of rows) for (const z1 of cols) z.push(z1, z2);  // row-major from the top: vae.latent.grid_points
    const pixels = await decoder.decode(z, w.n * w.n), picture = document.createElement("canvas");
    drawGrid(picture, page.style, pixels, cols, rows, config.grid_layouts[w.n], config.grid_margins);
    return picture;
  };
  const fetchSharp = latestOnly(async (w) => {
    const card = page.models.gridReady(w.model) || await Promise.race([page.models.grid(w.model), later(SERVER_WHILE_LOADING_MS)]);
    let image = null, by = "page";
    if (card && card.decoder) {
      try { image = await decodeHere(card.decoder, w); } catch (e) { console.warn("VAEPage: the graphics card failed:", e); }
    }
    if (!image) { image = await callForImage("grid", [w.z1, w.z2, w.span, w.n, w.spacing, w.model]); by = "server"; }
    shown = { ...w, image };
    canvas.dataset.drawnBy = by;
    paint("sharp");
  });
  const sharpen = () => {  // during a drag or a run of wheel steps, only when it ends: no request while dragging
    const w = windowOf(store.get()), key = JSON.stringify(w);
    if (key !== asked) { asked = key; fetchSharp(w); }
  };
  page.watch([...KEYS, "model"], (key) => { paint(key); if (!gesture) sharpen(); });

  const commit = (z1, z2, span) => store.set({ grid_z1: clamp(round2(z1), -half, half), grid_z2: clamp(round2(z2), -half, half),
    grid_span: clamp(Math.round(span * 1000) / 1000, spanMin, spanMax) }, "pan");
  let drag = null, wheelEnd = null;
  canvas.addEventListener("pointerdown", (e) => {
    drag = { start: canvasPoint(canvas, e), window: windowOf(store.get()), moved: false };
    gesture = true;
    canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!drag) return;
    const [x, y] = canvasPoint(canvas, e), [x0, y0] = drag.start;
    if (!drag.moved && Math.hypot(x - x0, y - y0) < 4) return;
    drag.moved = true;
    const w = drag.window, zpp = zPerPx(w);
    commit(w.z1 - (x - x0) * zpp, w.z2 + (y - y0) * zpp, w.span);
  });
  canvas.addEventListener("pointerup", (e) => {
    if (drag && !drag.moved && shown) {  // a click: centre on the cell under it
      const w = windowOf(store.get()), L = layout(w.n), [x, y] = canvasPoint(canvas, e);
      const col = Math.floor((x - L.left) / L.pitch), row = Math.floor((y - L.top) / L.pitch);
      if (col >= 0 && col < w.n && row >= 0 && row < w.n)
        commit(gridAxis(w.z1, w.span, w.n, w.spacing)[col], gridAxis(w.z2, w.span, w.n, w.spacing).reverse()[row], w.span);
    }
    drag = null;
    gesture = false;
    sharpen();
  });
  canvas.addEventListener("pointercancel", () => { drag = null; gesture = false; sharpen(); });
  canvas.addEventListener("wheel", (e) => {
    e.preventDefault();
    const w = windowOf(store.get()), L = layout(w.n), [x, y] = canvasPoint(canvas, e), zpp = zPerPx(w);
    const span = clamp(w.span * clamp(Math.exp(e.deltaY * 0.002), 0.5, 2), spanMin, spanMax), k = span / w.span;
    const px = x - (L.left + L.size / 2), py = y - (L.top + L.size / 2);  // the point under the pointer stays put
    gesture = true;
    commit(w.z1 + px * zpp * (1 - k), w.z2 - py * zpp * (1 - k), span);
    clearTimeout(wheelEnd);
    wheelEnd = setTimeout(() => { gesture = false; sharpen(); }, 100);
  }, { passive: false });
  paint("load");
  sharpen();
  const zoom = (steps) => () => gridMove(page, 0, 0, steps);
  viewKeys(canvas, (dx, dy) => gridMove(page, dx, dy, 0), { "+": zoom(-1), "=": zoom(-1), "-": zoom(1) });
}

const ZOOM = 1.5;  // one zoom step scales the span by this

/* A pan or zoom button or key: move the centre by (dx, dy) quarter-spans, or zoom out by `zoom` steps (in, if negative). */
export function gridMove(page, dx, dy, zoom) {
  const s = page.store.get(), [spanMin, spanMax] = page.config.limits.grid_span, half = page.frame.half;
  const span = clamp(s.grid_span * ZOOM ** zoom, spanMin, spanMax);
  page.store.set({ grid_z1: clamp(round2(s.grid_z1 + (dx * span) / 4), -half, half),
    grid_z2: clamp(round2(s.grid_z2 + (dy * span) / 4), -half, half), grid_span: Math.round(span * 1000) / 1000 }, "pan");
}
