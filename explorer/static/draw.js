/* Drawing on canvases, as vae/draw.py draws on images: the latent map (the test digits' means
   coloured by class, with ticks and a legend), its overlays clipped to the plot box, and digits
   tiled into sheets. The numbers that must match the server's pictures (the map's frame, the
   colours, the splat) come from Python in the page's config (explorer/components.py). */

const FONT = "system-ui, sans-serif";

/* draw.MapFrame: the plane [-half, half]^2 around centre in a plot box of `plot` pixels. */
export class Frame {
  constructor({ centre, half, plot, left, top, legend, bottom }) { Object.assign(this, { centre, half, plot, left, top, legend, bottom }); }
  get width() { return this.left + this.plot + this.legend; }
  get height() { return this.top + this.plot + this.bottom; }
  get ppu() { return this.plot / (2 * this.half); }
  toPx([z1, z2]) { return [this.left + (z1 - this.centre[0] + this.half) * this.ppu, this.top + (this.centre[1] + this.half - z2) * this.ppu]; }
  toZ([x, y]) { return [this.centre[0] - this.half + (x - this.left) / this.ppu, this.centre[1] + this.half - (y - this.top) / this.ppu]; }
  inPlot([x, y]) { return x >= this.left && x <= this.left + this.plot && y >= this.top && y <= this.top + this.plot; }
  contains([z1, z2]) { return Math.abs(z1 - this.centre[0]) <= this.half && Math.abs(z2 - this.centre[1]) <= this.half; }
}

export const rgb = (c) => `rgb(${c.join(",")})`;

function niceStep(width, ticks = 8) {
  const raw = width / ticks, power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
}

export function text(ctx, style, s, x, y, size, align, baseline, colour = style.ink) {
  ctx.font = `${size}px ${FONT}`; ctx.textAlign = align; ctx.textBaseline = baseline; ctx.fillStyle = rgb(colour);
  ctx.fillText(s, x, y);
}

/* draw.draw_axes: ticks below (z1) and left (z2) of the box, and the axis names. */
function drawAxes(ctx, style, [x0, y0, x1, y1], xTicks, yTicks, size) {
  ctx.strokeStyle = rgb(style.axis); ctx.lineWidth = 1;
  for (const [x, label] of xTicks) { ctx.beginPath(); ctx.moveTo(x, y1 + 1); ctx.lineTo(x, y1 + 5); ctx.stroke(); text(ctx, style, label, x, y1 + 7, size, "center", "top"); }
  for (const [y, label] of yTicks) { ctx.beginPath(); ctx.moveTo(x0 - 5, y); ctx.lineTo(x0 - 1, y); ctx.stroke(); text(ctx, style, label, x0 - 7, y, size, "right", "middle"); }
  text(ctx, style, "z1", (x0 + x1) / 2, y1 + 23, 13, "center", "top");
  text(ctx, style, "z2", 4, (y0 + y1) / 2, 13, "left", "middle");
}

/* The splatted scatter of draw.splat: discs of the style's radius, colours averaged where they
   overlap, coverage 1 - (1 - alpha)^count; faint grid lines at the ticks. */
function scatter(ctx, f, style, points, lineX, lineY) {
  const P = f.plot, count = new Float32Array(P * P), sums = new Float32Array(P * P * 3);
  if (points) {
    const { mu, labels } = points, offsets = [], r = Math.ceil(style.splat_radius);
    for (let dx = -r; dx <= r; dx++) for (let dy = -r; dy <= r; dy++) if (dx * dx + dy * dy <= style.splat_radius ** 2) offsets.push([dx, dy]);
    for (let i = 0; i < labels.length; i++) {
      const [x, y] = f.toPx([mu[2 * i], mu[2 * i + 1]]), cx = Math.round(x - f.left), cy = Math.round(y - f.top);
      const colour = style.colours[labels[i]];
      for (const [dx, dy] of offsets) {
        const px = cx + dx, py = cy + dy;
        if (px < 0 || px >= P || py < 0 || py >= P) continue;
        const at = py * P + px;
        count[at]++;
        sums[3 * at] += colour[0]; sums[3 * at + 1] += colour[1]; sums[3 * at + 2] += colour[2];
      }
    }
  }
  const plot = ctx.createImageData(P, P), clear = 1 - style.splat_alpha;
  for (let y = 0; y < P; y++) for (let x = 0; x < P; x++) {
    const at = y * P + x, n = count[at], cover = 1 - clear ** n, line = lineX.has(x) || lineY.has(y);
    for (let c = 0; c < 3; c++) {
      const v = Math.round(255 * (1 - cover) + (n ? sums[3 * at + c] / n : 0) * cover);
      plot.data[4 * at + c] = line ? Math.min(v, style.grid_line) : v;
    }
    plot.data[4 * at + 3] = 255;
  }
  ctx.putImageData(plot, f.left, f.top);
}

/* draw.class_centres: each digit's cluster centre, the median of its points ([NaN, NaN] for none). */
export function classCentres({ mu, labels }) {
  const z1 = Array.from({ length: 10 }, () => []), z2 = Array.from({ length: 10 }, () => []);
  for (let i = 0; i < labels.length; i++) { z1[labels[i]].push(mu[2 * i]); z2[labels[i]].push(mu[2 * i + 1]); }
  const median = (v) => {
    if (!v.length) return NaN;
    v.sort((a, b) => a - b);
    const m = v.length >> 1;
    return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
  };
  return z1.map((v, d) => [median(v), median(z2[d])]);
}

/* draw.short_names: whether every class name fits beside its dot in the legend. */
const shortNames = (style, names) => Math.max(...names.map((n) => n.length)) <= style.short_name;

/* draw.draw_class_labels: each class's name on its cluster's centre, ink with a white halo, clipped to the
   plot: a class is told by its name as well as its colour, which two classes may nearly share for some eyes. */
function classLabels(ctx, f, style, points, names) {
  inPlot(ctx, f, (c) => {
    c.font = `${shortNames(style, names) ? style.label_size : style.name_size}px ${FONT}`;
    c.textAlign = "center"; c.textBaseline = "middle"; c.lineJoin = "round";
    classCentres(points).forEach((z, d) => {
      if (!f.contains(z)) return;
      const [x, y] = f.toPx(z);
      c.strokeStyle = "white"; c.lineWidth = 6; c.strokeText(names[d], x, y);
      c.fillStyle = rgb(style.ink); c.fillText(names[d], x, y);
    });
  });
}

/* draw.draw_legend: each class's colour as a dot right of the plot, its name beside it, or under it when the
   names are long; without names (the points could not be loaded) the dots alone. */
function legend(ctx, f, style, names) {
  const x1 = f.left + f.plot, beside = !names || shortNames(style, names);
  style.colours.forEach((colour, d) => {
    const y = f.top + 14 + d * (beside ? 22 : 40), x = beside ? x1 + 20 : x1 + Math.floor(f.legend / 2);
    ctx.fillStyle = rgb(colour); ctx.beginPath(); ctx.arc(x, y, 6, 0, 2 * Math.PI); ctx.fill();
    if (!names) return;
    if (beside) text(ctx, style, names[d], x + 14, y, 14, "left", "middle");
    else text(ctx, style, names[d], x, y + 9, style.name_size, "center", "top");
  });
}

/* The latent map without overlays, drawn once per model and title: draw.render_map, titled. points: the
   digits' means and labels, and the classes' names (explorer/assets.py's points pack), or null. */
export function renderMap(f, style, points, title) {
  const canvas = document.createElement("canvas"), P = f.plot;
  canvas.width = f.width; canvas.height = f.height;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "white"; ctx.fillRect(0, 0, f.width, f.height);
  const step = niceStep(2 * f.half);
  const ticks = (c) => { const t = []; for (let v = Math.ceil((c - f.half) / step); v <= Math.floor((c + f.half) / step); v++) t.push(v * step); return t; };
  const ticks1 = ticks(f.centre[0]), ticks2 = ticks(f.centre[1]);
  scatter(ctx, f, style, points, new Set(ticks1.map((t) => Math.round(f.toPx([t, 0])[0] - f.left))),
    new Set(ticks2.map((t) => Math.round(f.toPx([0, t])[1] - f.top))));
  const names = points && points.classes;
  if (names) classLabels(ctx, f, style, points, names);
  const x0 = f.left, y0 = f.top, x1 = f.left + P, y1 = f.top + P;
  ctx.strokeStyle = rgb(style.axis); ctx.lineWidth = 1; ctx.strokeRect(x0 - 0.5, y0 - 0.5, P + 1, P + 1);
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  drawAxes(ctx, style, [x0, y0, x1, y1], ticks1.map((t) => [f.toPx([t, 0])[0], (t + 0).toFixed(decimals)]),
    ticks2.map((t) => [f.toPx([0, t])[1], (t + 0).toFixed(decimals)]), 11);
  legend(ctx, f, style, names);
  text(ctx, style, title, 6, 6, 13, "left", "top");
  if (!points) text(ctx, style, "(the test digits could not be loaded)", x0 + P / 2, y0 + P / 2, 13, "center", "middle");
  return canvas;
}

/* draw(ctx) clipped to the map's plot box, as vae/draw.py's overlays are. */
export function inPlot(ctx, f, draw) {
  ctx.save(); ctx.beginPath(); ctx.rect(f.left, f.top, f.plot, f.plot); ctx.clip();
  draw(ctx); ctx.restore();
}

function ring(ctx, x, y, r, colour, width) { ctx.strokeStyle = colour; ctx.lineWidth = width; ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI); ctx.stroke(); }
export function dot(ctx, x, y, r, colour, outline) {
  ctx.fillStyle = colour; ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI); ctx.fill();
  if (outline) { ctx.strokeStyle = outline; ctx.lineWidth = 1; ctx.stroke(); }
}

/* draw.draw_marker: a crosshair ring with a white halo, visible on any class colour (overlays are greys). */
export function drawMarker(ctx, f, z, colour, radius = 7) {
  const [x, y] = f.toPx(z);
  ring(ctx, x, y, radius + 1, "white", 5); ring(ctx, x, y, radius, colour, 3);
  ctx.strokeStyle = colour; ctx.lineWidth = 2;
  for (const [dx, dy] of [[1, 0], [-1, 0], [0, 1], [0, -1]]) {
    ctx.beginPath(); ctx.moveTo(x + dx * (radius + 2), y + dy * (radius + 2)); ctx.lineTo(x + dx * (radius + 7), y + dy * (radius + 7)); ctx.stroke();
  }
}

export function drawBox(ctx, f, ink, lo, hi) {
  const [xa, ya] = f.toPx([lo[0], hi[1]]), [xb, yb] = f.toPx([hi[0], lo[1]]);
  ctx.strokeStyle = "white"; ctx.lineWidth = 4; ctx.strokeRect(xa, ya, xb - xa, yb - ya);
  ctx.strokeStyle = ink; ctx.lineWidth = 2; ctx.strokeRect(xa, ya, xb - xa, yb - ya);
}

/* A path through points, its ends ringed and lettered A and B. */
export function drawPath(ctx, f, ink, points) {
  const p = points.map((z) => f.toPx(z));
  for (const [colour, width] of [["white", 5], [ink, 2]]) {
    ctx.strokeStyle = colour; ctx.lineWidth = width; ctx.beginPath();
    p.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y))); ctx.stroke();
  }
  for (const [x, y] of p) dot(ctx, x, y, 2.5, ink);
  for (const [[x, y], label] of [[p[0], "A"], [p[p.length - 1], "B"]]) {
    ring(ctx, x, y, 6, ink, 2);
    ctx.font = `bold 14px ${FONT}`; ctx.textAlign = "left"; ctx.textBaseline = "bottom";
    ctx.strokeStyle = "white"; ctx.lineWidth = 3; ctx.strokeText(label, x + 8, y - 6); ctx.fillStyle = ink; ctx.fillText(label, x + 8, y - 6);
  }
}

/* uint8 digits (784 each) into `image` (ImageData) from (ox, oy), in rows of `cols`, each `scale` x enlarged,
   `gap` white pixels apart: draw.tile. */
function tileInto(image, pixels, count, cols, scale, gap, ox, oy, blank) {
  const rows = Math.ceil(count / cols), cell = 28 * scale, d = image.data;
  for (let i = 0; i < rows * cols; i++) {
    const cx = ox + (i % cols) * (cell + gap), cy = oy + Math.floor(i / cols) * (cell + gap);
    for (let y = 0; y < cell; y++) for (let x = 0; x < cell; x++) {
      const v = i < count ? pixels[i * 784 + Math.floor(y / scale) * 28 + Math.floor(x / scale)] : blank;
      const at = 4 * ((cy + y) * image.width + cx + x);
      d[at] = d[at + 1] = d[at + 2] = v;
    }
  }
}

/* The digits tiled into a canvas of their own size: draw.tile. */
export function tileDigits(canvas, pixels, count, cols, scale, gap, blank = 0) {
  const rows = Math.ceil(count / cols), cell = 28 * scale;
  canvas.width = cols * (cell + gap) - gap; canvas.height = rows * (cell + gap) - gap;
  const ctx = canvas.getContext("2d"), image = ctx.createImageData(canvas.width, canvas.height);
  image.data.fill(255);
  tileInto(image, pixels, count, cols, scale, gap, 0, 0, blank);
  ctx.putImageData(image, 0, 0);
}

/* draw.tick_format: enough decimals to tell neighbouring ticks apart. */
function tickDecimals(values) {
  const step = values.length > 1 ? Math.min(...values.slice(1).map((v, i) => Math.abs(v - values[i]))) : 1;
  return Math.min(3, Math.max(1, Math.ceil(-Math.log10(Math.max(step, 1e-3))) + 1));
}

/* draw.render_grid: n x n digits (row-major, rows from the top) with the z1 of each column and the z2
   of each row as ticks, into `canvas`; layout: draw.grid_layout(n), margins: draw.GRID_MARGINS. */
export function drawGrid(canvas, style, pixels, cols, rows, layout, margins) {
  const n = cols.length, { cell, gap, left, top } = layout, size = n * cell + (n - 1) * gap;
  canvas.width = left + size + margins.right; canvas.height = top + size + margins.bottom;
  const ctx = canvas.getContext("2d"), image = ctx.createImageData(canvas.width, canvas.height);
  image.data.fill(255);
  tileInto(image, pixels, n * n, n, cell / 28, gap, left, top, 0);
  ctx.putImageData(image, 0, 0);
  const every = Math.max(1, Math.ceil(n / 8)), ticks = [];  // at most ~8 labels per axis so they never overlap
  for (let i = 0; i < n; i += every) ticks.push(i);
  const at = (i) => i * (cell + gap) + cell / 2, dc = tickDecimals(cols), dr = tickDecimals(rows);
  drawAxes(ctx, style, [left, top, left + size, top + size], ticks.map((i) => [left + at(i), cols[i].toFixed(dc)]),
    ticks.map((i) => [top + at(i), rows[i].toFixed(dr)]), 12);
}

export function showImage(canvas, image) {
  canvas.width = image.naturalWidth; canvas.height = image.naturalHeight;
  canvas.getContext("2d").drawImage(image, 0, 0);
}

/* The pointer's position on a canvas, in the canvas's own pixels (canvases are scaled to fit). */
export function canvasPoint(canvas, event) {
  const box = canvas.getBoundingClientRect();
  return [((event.clientX - box.left) * canvas.width) / box.width, ((event.clientY - box.top) * canvas.height) / box.height];
}
