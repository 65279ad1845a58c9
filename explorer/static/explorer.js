/* The page's half of the explorer: the VAE's decoder in plain JavaScript, and every
   picture that follows a slider or the pointer drawn on canvases, so that exploring the
   latent space makes no request to the server.

   app.py puts each view in a gr.HTML whose js_on_load calls VAEPage.mount(name, element,
   props, trigger), and wires the Gradio controls to VAEPage.set(...) with JS-only event
   listeners. A view changes a control by remembering the new values and triggering its
   "pick" event, whose JS-only listener returns them (VAEPage.picked(name)).

   The decoder is the same math as VAE.decode in vae/model.py: Linear layers with ELU
   between them and a sigmoid at the end, on the very weights the server holds (the pack
   explorer/assets.py writes). Where it cannot run, or with ?decode=server in the address,
   the digits come from the app's API endpoints instead, and one line on the page says so.
   The manifold's sharp grid always comes from the server's /grid, which decodes a grid
   several times faster than JavaScript can (docs/benchmarks.md): dragging and zooming on it
   move and scale the picture shown at once, and ask for the sharp one when the gesture ends.

   There is one decoder and one set of map points per committed model (the picker at the top of the
   page, VAEPage.useModel); each is fetched the first time its model is picked, and every view
   redraws with it. The Training tab scrubs through a model's training replay (its own pack).

   Every paint records when it happened, as a "vae-painted" event on the document
   (bench/browser_latency.py and the browser tests listen to it). */
(() => {
  "use strict";
  if (window.VAEPage) return;

  // ------------------------------------------------------------ packs (explorer/assets.py)

  function halfToFloat(h) {
    const sign = h & 0x8000 ? -1 : 1, exponent = (h >> 10) & 0x1f, fraction = h & 0x3ff;
    if (exponent === 0) return sign * fraction * 2 ** -24;
    if (exponent === 31) return fraction ? NaN : sign * Infinity;
    return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
  }

  function readArray(buffer, dtype, at, count) {
    if (dtype === "int8") return new Int8Array(buffer, at, count);
    if (dtype === "uint8") return new Uint8Array(buffer, at, count);
    if (dtype === "float32") return new Float32Array(buffer, at, count);
    if (dtype === "float16") {
      const half = new Uint16Array(buffer, at, count), out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = halfToFloat(half[i]);
      return out;
    }
    throw new Error(`unknown dtype ${dtype}`);
  }

  function unpack(buffer) {
    const bytes = new Uint8Array(buffer);
    if (String.fromCharCode(...bytes.subarray(0, 4)) !== "VAEP") throw new Error("not a VAEP pack");
    const size = new DataView(buffer).getUint32(4, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + size)));
    const arrays = {};
    for (const [name, a] of Object.entries(header.arrays)) {
      const count = a.shape.reduce((x, y) => x * y, 1);
      arrays[name] = { shape: a.shape, data: readArray(buffer, a.dtype, 8 + size + a.offset, count) };
    }
    return { meta: header.meta, arrays };
  }

  async function fetchPack(url) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url.split("/").pop()} answered ${response.status}`);
    return unpack(await response.arrayBuffer());
  }

  // ------------------------------------------------------------ the decoder

  /* One Linear layer on n inputs h [n, cols] -> [n, rows], with ELU after it if elu. One weight row
     meets every input while it is in cache; V8 runs the plain inner loop fastest. */
  function linear({ rows, cols, weight, bias }, h, n, elu) {
    const out = new Float32Array(n * rows);
    for (let r = 0; r < rows; r++) {
      const row = r * cols, b = bias[r];
      for (let k = 0; k < n; k++) {
        const x = k * cols;
        let v = b;
        for (let c = 0; c < cols; c++) v += weight[row + c] * h[x + c];
        out[k * rows + r] = elu && v < 0 ? Math.exp(v) - 1 : v;
      }
    }
    return out;
  }

  class Decoder {
    constructor({ meta, arrays }) {
      this.layers = [];
      for (let i = 0; i < meta.layers; i++) {
        const w = arrays[`w${i}`], s = arrays[`s${i}`], [rows, cols] = w.shape;
        const weight = new Float32Array(rows * cols);
        if (s) {  // int8 times a float16 scale per group of a row: vae.model.dequantize
          const groups = s.shape[1], group = cols / groups;
          for (let r = 0; r < rows; r++)
            for (let c = 0; c < cols; c++) weight[r * cols + c] = w.data[r * cols + c] * s.data[r * groups + Math.floor(c / group)];
        } else weight.set(w.data);
        this.layers.push({ rows, cols, weight, bias: Float32Array.from(arrays[`b${i}`].data) });
      }
      this.check = meta.check;
    }

    /* z: n latent points as [z1, z2, z1, z2, ...] -> n digits, 784 uint8 each (white ink on black). */
    decode(z, n) {
      let h = Float32Array.from(z);
      for (let i = 0; i < this.layers.length - 1; i++) h = linear(this.layers[i], h, n, true);
      const logits = linear(this.layers[this.layers.length - 1], h, n, false), pixels = new Uint8Array(logits.length);
      for (let i = 0; i < logits.length; i++) pixels[i] = Math.round(255 / (1 + Math.exp(-logits[i])));  // sigmoid
      return pixels;
    }

    /* The largest difference, in levels of 255, from the server's decode of the pack's check points. */
    disagreement() {
      const { z, pixels } = this.check, mine = this.decode(z.flat(), z.length);
      let worst = 0;
      pixels.flat().forEach((p, i) => { worst = Math.max(worst, Math.abs(p - mine[i])); });
      return worst;
    }
  }

  // ------------------------------------------------------------ the server's API, for what the page does not decode

  function apiRoot() {
    const root = window.gradio_config && window.gradio_config.root;
    return (root || `${location.origin}${location.pathname}`).replace(/\/?$/, "/");
  }

  /* One session for all of this page's calls: without one, Gradio builds a new session for every call. */
  const SESSION = `vae-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;

  /* Call a named endpoint as any API user does; resolves to the Image of its picture. */
  async function callForImage(name, data) {
    const base = `${apiRoot()}gradio_api/call/${name}`;
    const started = await fetch(base, { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ data, session_hash: SESSION }) });
    if (!started.ok) throw new Error(`${name} answered ${started.status}`);
    const { event_id: id } = await started.json();
    const stream = await (await fetch(`${base}/${id}`)).text();
    const events = stream.split("\n\n").map((block) => {
      const lines = block.split("\n");
      const event = (lines.find((l) => l.startsWith("event:")) || "").slice(6).trim();
      const payload = (lines.find((l) => l.startsWith("data:")) || "").slice(5).trim();
      return { event, payload };
    });
    const done = events.find((e) => e.event === "complete");
    if (!done) {
      const error = events.find((e) => e.event === "error");
      throw new Error((error && error.payload && error.payload !== "null" ? JSON.parse(error.payload) : null) || `${name} failed`);
    }
    const [file] = JSON.parse(done.payload);
    const image = new Image();
    image.src = file.url;
    await image.decode();
    return image;
  }

  /* Runs an async job for the newest request only: while one runs, later ones replace each other. */
  function latestOnly(job) {
    let running = false, waiting = null;
    const run = async (args) => {
      running = true;
      try { await job(...args); } catch (e) { console.warn("VAEPage:", e); }
      running = false;
      if (waiting) { const next = waiting; waiting = null; run(next); }
    };
    return (...args) => { if (running) waiting = args; else run(args); };
  }

  // ------------------------------------------------------------ numbers (vae/latent.py)

  const round2 = (v) => Math.round(v * 100) / 100;
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

  /* A 32-bit integer hash: vae.latent.mix32. */
  function mix32(x) {
    x = (x ^ (x >>> 16)) >>> 0;
    x = Math.imul(x, 0x7feb352d) >>> 0;
    x = (x ^ (x >>> 15)) >>> 0;
    x = Math.imul(x, 0x846ca68b) >>> 0;
    return (x ^ (x >>> 16)) >>> 0;
  }

  /* The i-th prior sample of a seed, by Box-Muller: vae.latent.prior_samples. */
  function priorSample(seed, i) {
    const u = (k) => (mix32((mix32(2 * i + k + 1) ^ seed) >>> 0) + 0.5) / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u(0))), angle = 2 * Math.PI * u(1);
    return [r * Math.cos(angle), r * Math.sin(angle)];
  }

  function interpolationPoints(a, b, steps) {
    const points = [];
    for (let i = 0; i < steps; i++) {
      const t = i / (steps - 1);
      points.push([(1 - t) * a[0] + t * b[0], (1 - t) * a[1] + t * b[1]]);
    }
    return points;
  }

  /* Phi(z) from erfc (Numerical Recipes' Chebyshev fit, 1.2e-7 accurate) and its inverse by bisection. */
  function normalCdf(z) {
    const x = Math.abs(z) / Math.SQRT2, t = 1 / (1 + 0.5 * x);
    const erfc = t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
      t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
    return z >= 0 ? 1 - erfc / 2 : erfc / 2;
  }

  function normalIcdf(u) {
    let lo = -12, hi = 12;
    for (let i = 0; i < 60; i++) { const mid = (lo + hi) / 2; if (normalCdf(mid) < u) lo = mid; else hi = mid; }
    return (lo + hi) / 2;
  }

  /* vae.latent.grid_axis */
  function gridAxis(centre, span, n, spacing) {
    if (n === 1) return [centre];
    const lo = centre - span / 2, hi = centre + span / 2, axis = [];
    for (let i = 0; i < n; i++) axis.push(lo + (i * span) / (n - 1));
    if (spacing !== "cdf") return axis;
    const ulo = normalCdf(lo), uhi = normalCdf(hi);
    return axis.map((_, i) => (i === 0 ? lo : i === n - 1 ? hi : clamp(normalIcdf(ulo + (i * (uhi - ulo)) / (n - 1)), lo, hi)));
  }

  // ------------------------------------------------------------ pictures (vae/draw.py)

  const COLOURS = [[31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
    [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207]];
  const INK = "rgb(20,20,20)", AXIS = "rgb(90,90,90)", FONT = "system-ui, sans-serif";

  /* draw.MapFrame: the plane [-half, half]^2 around centre in a plot box of `plot` pixels. */
  class Frame {
    constructor() { Object.assign(this, { centre: [0, 0], half: 4.5, plot: 480, left: 44, top: 36, legend: 64, bottom: 40 }); }
    get width() { return this.left + this.plot + this.legend; }
    get height() { return this.top + this.plot + this.bottom; }
    get ppu() { return this.plot / (2 * this.half); }
    toPx([z1, z2]) { return [this.left + (z1 - this.centre[0] + this.half) * this.ppu, this.top + (this.centre[1] + this.half - z2) * this.ppu]; }
    toZ([x, y]) { return [this.centre[0] - this.half + (x - this.left) / this.ppu, this.centre[1] + this.half - (y - this.top) / this.ppu]; }
    inPlot([x, y]) { return x >= this.left && x <= this.left + this.plot && y >= this.top && y <= this.top + this.plot; }
  }
  const FRAME = new Frame();

  function niceStep(width, ticks = 8) {
    const raw = width / ticks, power = 10 ** Math.floor(Math.log10(raw));
    return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  }

  /* The latent map without overlays, drawn once: draw.render_map. */
  function renderMap(points, title) {
    const f = FRAME, canvas = document.createElement("canvas"), P = f.plot;
    canvas.width = f.width; canvas.height = f.height;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "white"; ctx.fillRect(0, 0, f.width, f.height);
    const count = new Float32Array(P * P), sums = new Float32Array(P * P * 3);
    if (points) {  // draw.splat: discs of radius 1.6, colours averaged, coverage 1 - 0.45^count
      const { mu, labels } = points, offsets = [];
      for (let dx = -2; dx <= 2; dx++) for (let dy = -2; dy <= 2; dy++) if (dx * dx + dy * dy <= 1.6 * 1.6) offsets.push([dx, dy]);
      for (let i = 0; i < labels.length; i++) {
        const [x, y] = f.toPx([mu[2 * i], mu[2 * i + 1]]), cx = Math.round(x - f.left), cy = Math.round(y - f.top);
        const colour = COLOURS[labels[i]];
        for (const [dx, dy] of offsets) {
          const px = cx + dx, py = cy + dy;
          if (px < 0 || px >= P || py < 0 || py >= P) continue;
          const at = py * P + px;
          count[at]++;
          sums[3 * at] += colour[0]; sums[3 * at + 1] += colour[1]; sums[3 * at + 2] += colour[2];
        }
      }
    }
    const plot = ctx.createImageData(P, P), step = niceStep(2 * f.half);
    const ticks = (c) => { const t = []; for (let v = Math.ceil((c - f.half) / step); v <= Math.floor((c + f.half) / step); v++) t.push(v * step); return t; };
    const ticks1 = ticks(f.centre[0]), ticks2 = ticks(f.centre[1]);
    const lineX = new Set(ticks1.map((t) => Math.round(f.toPx([t, 0])[0] - f.left)));
    const lineY = new Set(ticks2.map((t) => Math.round(f.toPx([0, t])[1] - f.top)));
    for (let y = 0; y < P; y++) for (let x = 0; x < P; x++) {
      const at = y * P + x, n = count[at], cover = 1 - 0.45 ** n, line = lineX.has(x) || lineY.has(y);
      for (let c = 0; c < 3; c++) {
        let v = Math.round(255 * (1 - cover) + (n ? sums[3 * at + c] / n : 0) * cover);
        if (line) v = Math.min(v, 236);  // faint grid lines at the ticks
        plot.data[4 * at + c] = v;
      }
      plot.data[4 * at + 3] = 255;
    }
    ctx.putImageData(plot, f.left, f.top);
    const x0 = f.left, y0 = f.top, x1 = f.left + P, y1 = f.top + P;
    ctx.strokeStyle = AXIS; ctx.lineWidth = 1; ctx.strokeRect(x0 - 0.5, y0 - 0.5, P + 1, P + 1);
    const decimals = Math.max(0, -Math.floor(Math.log10(step)));
    drawAxes(ctx, [x0, y0, x1, y1], ticks1.map((t) => [f.toPx([t, 0])[0], (t + 0).toFixed(decimals)]),
      ticks2.map((t) => [f.toPx([0, t])[1], (t + 0).toFixed(decimals)]), 11);
    for (let d = 0; d < 10; d++) {
      const y = y0 + 14 + d * 22;
      ctx.fillStyle = `rgb(${COLOURS[d]})`; ctx.beginPath(); ctx.arc(x1 + 20, y, 6, 0, 2 * Math.PI); ctx.fill();
      text(ctx, String(d), x1 + 34, y, 14, "left", "middle");
    }
    text(ctx, title, 6, 6, 13, "left", "top");
    if (!points) text(ctx, "(the test digits could not be loaded)", x0 + P / 2, y0 + P / 2, 13, "center", "middle");
    return canvas;
  }

  function text(ctx, s, x, y, size, align, baseline, colour = INK) {
    ctx.font = `${size}px ${FONT}`; ctx.textAlign = align; ctx.textBaseline = baseline; ctx.fillStyle = colour;
    ctx.fillText(s, x, y);
  }

  /* draw.draw_axes: ticks below (z1) and left (z2) of the box, and the axis names. */
  function drawAxes(ctx, [x0, y0, x1, y1], xTicks, yTicks, size) {
    ctx.strokeStyle = AXIS; ctx.lineWidth = 1;
    for (const [x, label] of xTicks) { ctx.beginPath(); ctx.moveTo(x, y1 + 1); ctx.lineTo(x, y1 + 5); ctx.stroke(); text(ctx, label, x, y1 + 7, size, "center", "top"); }
    for (const [y, label] of yTicks) { ctx.beginPath(); ctx.moveTo(x0 - 5, y); ctx.lineTo(x0 - 1, y); ctx.stroke(); text(ctx, label, x0 - 7, y, size, "right", "middle"); }
    text(ctx, "z1", (x0 + x1) / 2, y1 + 23, 13, "center", "top");
    text(ctx, "z2", 4, (y0 + y1) / 2, 13, "left", "middle");
  }

  /* Overlays, clipped to the plot box like vae/draw.py's. */
  function inPlot(ctx, draw) {
    const f = FRAME;
    ctx.save(); ctx.beginPath(); ctx.rect(f.left, f.top, f.plot, f.plot); ctx.clip();
    draw(ctx); ctx.restore();
  }

  function ring(ctx, x, y, r, colour, width) { ctx.strokeStyle = colour; ctx.lineWidth = width; ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI); ctx.stroke(); }
  function dot(ctx, x, y, r, colour, outline) {
    ctx.fillStyle = colour; ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI); ctx.fill();
    if (outline) { ctx.strokeStyle = outline; ctx.lineWidth = 1; ctx.stroke(); }
  }

  function drawMarker(ctx, z, colour = INK, radius = 7) {
    const [x, y] = FRAME.toPx(z);
    ring(ctx, x, y, radius + 1, "white", 5); ring(ctx, x, y, radius, colour, 3);
    ctx.strokeStyle = colour; ctx.lineWidth = 2;
    for (const [dx, dy] of [[1, 0], [-1, 0], [0, 1], [0, -1]]) {
      ctx.beginPath(); ctx.moveTo(x + dx * (radius + 2), y + dy * (radius + 2)); ctx.lineTo(x + dx * (radius + 7), y + dy * (radius + 7)); ctx.stroke();
    }
  }

  function drawBox(ctx, lo, hi) {
    const [xa, ya] = FRAME.toPx([lo[0], hi[1]]), [xb, yb] = FRAME.toPx([hi[0], lo[1]]);
    ctx.strokeStyle = "white"; ctx.lineWidth = 4; ctx.strokeRect(xa, ya, xb - xa, yb - ya);
    ctx.strokeStyle = INK; ctx.lineWidth = 2; ctx.strokeRect(xa, ya, xb - xa, yb - ya);
  }

  function drawPath(ctx, points) {
    const p = points.map((z) => FRAME.toPx(z));
    for (const [colour, width] of [["white", 5], [INK, 2]]) {
      ctx.strokeStyle = colour; ctx.lineWidth = width; ctx.beginPath();
      p.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y))); ctx.stroke();
    }
    for (const [x, y] of p) dot(ctx, x, y, 2.5, INK);
    for (const [[x, y], label] of [[p[0], "A"], [p[p.length - 1], "B"]]) {
      ring(ctx, x, y, 6, INK, 2);
      ctx.font = `bold 14px ${FONT}`; ctx.textAlign = "left"; ctx.textBaseline = "bottom";
      ctx.strokeStyle = "white"; ctx.lineWidth = 3; ctx.strokeText(label, x + 8, y - 6); ctx.fillStyle = INK; ctx.fillText(label, x + 8, y - 6);
    }
  }

  /* uint8 digits (784 each) laid out in rows of `cols`, each `scale` x enlarged, `gap` white pixels apart: draw.tile. */
  function tileDigits(canvas, pixels, count, cols, scale, gap, blank = 0) {
    const rows = Math.ceil(count / cols), cell = 28 * scale;
    const width = cols * (cell + gap) - gap, height = rows * (cell + gap) - gap;
    canvas.width = width; canvas.height = height;
    const ctx = canvas.getContext("2d"), image = ctx.createImageData(width, height), d = image.data;
    d.fill(255);
    for (let i = 0; i < rows * cols; i++) {
      const ox = (i % cols) * (cell + gap), oy = Math.floor(i / cols) * (cell + gap);
      for (let y = 0; y < cell; y++) for (let x = 0; x < cell; x++) {
        const v = i < count ? pixels[i * 784 + Math.floor(y / scale) * 28 + Math.floor(x / scale)] : blank;
        const at = 4 * ((oy + y) * width + ox + x);
        d[at] = d[at + 1] = d[at + 2] = v;
      }
    }
    ctx.putImageData(image, 0, 0);
  }

  function showImage(canvas, image) {
    canvas.width = image.naturalWidth; canvas.height = image.naturalHeight;
    canvas.getContext("2d").drawImage(image, 0, 0);
  }

  function painted(view, key) {
    document.dispatchEvent(new CustomEvent("vae-painted", { detail: { view, key, at: performance.now() } }));
  }

  // ------------------------------------------------------------ the engine: page or server

  /* The model shown (`model`), its decoder (`engine`), map points (`pointsReady`) and drawn maps (`maps`);
     `models` holds every model's file URLs, `loaded` what has been fetched of each. */
  const VAEPage = { views: {}, controllers: {}, picks: {}, engine: null, pointsReady: null, maps: {}, model: null, models: {},
    loaded: {} };
  window.VAEPage = VAEPage;

  async function loadDecoder(url) {
    const asked = new URLSearchParams(location.search).get("decode");
    if (asked === "server") return { mode: "server", reason: "the address asks for it (?decode=server)" };
    try {
      if (typeof Float32Array === "undefined" || typeof Math.imul !== "function" || typeof fetch !== "function")
        throw new Error("this browser lacks typed arrays or fetch");
      const decoder = new Decoder(await fetchPack(url));
      const off = decoder.disagreement();
      if (off > 1) throw new Error(`its arithmetic is ${off}/255 off the server's`);
      return { mode: "page", decoder };
    } catch (e) {
      return { mode: "server", reason: `this browser could not run the decoder: ${e.message}` };
    }
  }

  /* Make `name` the model every view draws with, fetching its files the first time. */
  function selectModel(name) {
    const urls = VAEPage.models[name];
    if (!VAEPage.loaded[name]) {
      VAEPage.loaded[name] = {
        engine: loadDecoder(urls.decoder_url),
        points: fetchPack(urls.points_url)
          .then(({ arrays }) => ({ mu: arrays.mu.data, labels: arrays.labels.data, images: arrays.images.data }))
          .catch((e) => { console.warn("VAEPage: no map points:", e); return null; }),
        maps: {},
      };
    }
    const loaded = VAEPage.loaded[name];
    Object.assign(VAEPage, { model: name, engine: loaded.engine, pointsReady: loaded.points, maps: loaded.maps });
    return loaded.engine;
  }

  function startEngine(props) {
    if (VAEPage.engine) return VAEPage.engine;
    VAEPage.models = props.models;
    return selectModel(props.model);
  }

  /* The model picker: every view redraws with the model picked (the server's views follow through their events). */
  VAEPage.useModel = (name) => {
    if (!VAEPage.models[name] || name === VAEPage.model) return;
    selectModel(name);
    const views = VAEPage.views;
    explorer.paint("model");
    if (views.grid && grid.state) views.grid.set(grid.state, "model");
    for (const v of ["mode", "grid_map", "samples", "samples_map", "interp", "interp_map", "training"]) if (views[v]) views[v].paint("model");
  };

  /* The latent map's picture without overlays, for a title: drawn once per title. */
  async function baseMap(title) {
    if (!VAEPage.maps[title]) VAEPage.maps[title] = VAEPage.pointsReady.then((points) => renderMap(points, title));
    return VAEPage.maps[title];
  }

  /* A canvas on which a map is drawn with an overlay; returns a function that redraws it. */
  function mapPainter(view, canvas, title) {
    canvas.width = FRAME.width; canvas.height = FRAME.height;
    const ctx = canvas.getContext("2d");
    let base = null, baseOf = null;
    function paint(key) {
      if (baseOf !== VAEPage.model) {  // first paint, or another model picked: its map first
        const model = baseOf = VAEPage.model;
        baseMap(title).then((b) => { if (baseOf === model) { base = b; paint(key); } });
        return;
      }
      if (!base) return;
      ctx.drawImage(base, 0, 0);
      inPlot(ctx, view.overlay || (() => {}));
      painted(view.name, key);
    }
    paint("load");
    return paint;
  }

  /* Pointer position on a canvas, in the canvas's own pixels. */
  function canvasPoint(canvas, event) {
    const box = canvas.getBoundingClientRect();
    return [((event.clientX - box.left) * canvas.width) / box.width, ((event.clientY - box.top) * canvas.height) / box.height];
  }

  /* A view sets controls: remember the values and trigger the view's "pick" event, whose listener returns them. */
  function pick(name, values) {
    VAEPage.picks[name] = values;
    const view = VAEPage.views[name];
    if (view && view.trigger) view.trigger("pick");
  }
  VAEPage.picked = (name) => VAEPage.picks[name];

  /* Arrow keys on a focused map move a point by 0.1 (1 with Shift): the maps work without a mouse. */
  function arrowKeys(canvas, current, set) {
    canvas.tabIndex = 0;
    canvas.addEventListener("keydown", (e) => {
      const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
      if (!moves[e.key]) return;
      e.preventDefault();
      const step = e.shiftKey ? 1 : 0.1, z = current();
      set([clamp(round2(z[0] + step * moves[e.key][0]), -FRAME.half, FRAME.half), clamp(round2(z[1] + step * moves[e.key][1]), -FRAME.half, FRAME.half)]);
    });
  }

  // ------------------------------------------------------------ the views' controllers

  /* Explorer: a digit decoded from z; hover previews a point, click or drag sets the sliders. */
  const explorer = {
    z: [0, 0], hover: null,
    set(z1, z2) {
      if (z1 === this.z[0] && z2 === this.z[1] && !this.hover) return;
      this.z = [z1, z2]; this.hover = null; this.paint("slider");
    },
    paint(key) {
      const shown = this.hover || this.z, digit = VAEPage.views.explorer_digit, map = VAEPage.views.explorer_map;
      if (digit) digit.show(shown, !!this.hover, key);
      if (map) map.paint(key);
    },
  };

  const grid = { state: null, shown: null, asked: "", gesture: false };
  const samples = { n: 36, seed: 0, cache: new Map() };
  const interp = { a: [0, 0], b: [0, 0], steps: 10 };
  Object.assign(VAEPage.controllers, { explorer, grid, samples, interp });

  /* Decode points in the page, or fetch the endpoint's picture in server mode, and draw onto canvas. */
  function digitsOrServer(canvas, page, server) {
    const job = latestOnly(async (args, done) => {
      const image = await callForImage(...server(...args));
      showImage(canvas, image);
      done();
    });
    return async (args, done) => {
      const engine = await VAEPage.engine;
      if (engine.mode === "page") { page(engine.decoder, ...args); done(); } else job(args, done);
    };
  }

  const MOUNT = {
    mode(view, element) {
      view.paint = () => VAEPage.engine.then((engine) => {
        const line = element.querySelector(".vae-mode");
        line.textContent = engine.mode === "page" ? "" : `Digits are decoded on the server: ${engine.reason}.`;
        line.dataset.mode = engine.mode;
      });
      view.paint();
    },

    explorer_digit(view, element) {
      const canvas = element.querySelector("canvas"), caption = element.querySelector(".vae-caption");
      const draw = digitsOrServer(canvas, (decoder, z) => tileDigits(canvas, decoder.decode(z, 1), 1, 1, 1, 0),
        (z) => ["decode", [...z, VAEPage.model]]);
      view.show = (z, hovering, key) => {
        draw([z], () => painted("explorer_digit", key));
        caption.textContent = `z = (${z[0].toFixed(2)}, ${z[1].toFixed(2)})${hovering ? "  (hovering: click to keep it)" : ""}`;
      };
      explorer.paint("load");
    },

    explorer_map(view, element, props) {
      const canvas = element.querySelector("canvas");
      view.overlay = (ctx) => {
        if (explorer.hover) drawMarker(ctx, explorer.hover, "rgb(120,120,120)", 5);
        drawMarker(ctx, explorer.z);
      };
      view.paint = mapPainter(view, canvas, props.title);
      let dragging = false;
      const at = (e) => { const p = canvasPoint(canvas, e); return FRAME.inPlot(p) ? FRAME.toZ(p).map(round2) : null; };
      const keep = (z) => { explorer.z = z; explorer.hover = null; explorer.paint("map"); pick("explorer_map", z); };
      canvas.addEventListener("pointerdown", (e) => { const z = at(e); if (!z) return; dragging = true; canvas.setPointerCapture(e.pointerId); keep(z); });
      canvas.addEventListener("pointermove", (e) => {
        const z = at(e);
        if (!z) { if (explorer.hover) { explorer.hover = null; explorer.paint("hover"); } return; }
        if (dragging) keep(z);
        else if (e.pointerType === "mouse") { explorer.hover = z; explorer.paint("hover"); }
      });
      const stop = () => { dragging = false; };
      canvas.addEventListener("pointerup", stop);
      canvas.addEventListener("pointercancel", stop);
      canvas.addEventListener("pointerleave", () => { if (explorer.hover && !dragging) { explorer.hover = null; explorer.paint("hover"); } });
      arrowKeys(canvas, () => explorer.z, keep);
      explorer.paint("load");
    },

    grid(view, element, props) {
      const canvas = element.querySelector("canvas"), note = element.querySelector(".vae-note");
      const ctx = canvas.getContext("2d");
      const fetchSharp = latestOnly(async (state) => {
        const image = await callForImage("grid", [state.z1, state.z2, state.span, state.n, state.spacing, state.model]);
        grid.shown = { ...state, image };
        view.paint("sharp");
      });
      // draw.grid_layout: where the cells sit in the server's picture
      const layout = (n) => {
        const scale = Math.max(1, Math.floor(600 / (28 * n))), cell = 28 * scale, gap = n > 10 ? 1 : 2;
        return { n, cell, gap, left: 52, top: 36, pitch: cell + gap, size: n * cell + (n - 1) * gap };
      };
      const zPerPx = (s) => s.span / (Math.max(s.n - 1, 1) * layout(s.n).pitch);
      view.paint = (key) => {
        const { shown, state } = grid;
        if (!shown || !state) return;
        if (canvas.width !== shown.image.naturalWidth) { canvas.width = shown.image.naturalWidth; canvas.height = shown.image.naturalHeight; }
        const L = layout(shown.n), same = shown.n === state.n && shown.spacing === state.spacing;
        if (!same || (shown.z1 === state.z1 && shown.z2 === state.z2 && shown.span === state.span)) ctx.drawImage(shown.image, 0, 0);
        else {  // the picture shown, moved and scaled to where the new window puts it, until the sharp one arrives
          const k = zPerPx(shown) / zPerPx(state), cx = L.left + L.size / 2, cy = L.top + L.size / 2;
          const dx = (shown.z1 - state.z1) / zPerPx(state), dy = -(shown.z2 - state.z2) / zPerPx(state);
          ctx.fillStyle = "white"; ctx.fillRect(0, 0, canvas.width, canvas.height);
          ctx.save(); ctx.beginPath(); ctx.rect(L.left, L.top, L.size, L.size); ctx.clip();
          ctx.fillStyle = "rgb(235,235,235)"; ctx.fillRect(L.left, L.top, L.size, L.size);
          ctx.translate(cx + dx, cy + dy); ctx.scale(k, k); ctx.translate(-cx, -cy);
          ctx.drawImage(shown.image, 0, 0);
          ctx.restore();
        }
        painted("grid", key);
      };
      view.set = (state, key) => {
        grid.state = state;
        const reach = Math.max(Math.abs(state.z1), Math.abs(state.z2)) + state.span / 2;
        note.textContent = reach > props.digit_region ? VAEPage.models[VAEPage.model].note : "";
        view.paint(key);
        if (!grid.gesture) view.sharpen();
      };
      view.sharpen = () => {  // during a drag or a run of wheel steps, only when it ends: no request while dragging
        const state = { ...grid.state, model: VAEPage.model }, asked = JSON.stringify(state);
        if (asked !== grid.asked) { grid.asked = asked; fetchSharp(state); }
      };
      const commit = (z1, z2, span) => {
        const state = { ...grid.state, z1: clamp(round2(z1), -FRAME.half, FRAME.half), z2: clamp(round2(z2), -FRAME.half, FRAME.half),
          span: clamp(Math.round(span * 1000) / 1000, props.span_min, props.span_max) };
        VAEPage.set("grid", state.z1, state.z2, state.span, state.n, state.spacing, "pan");
        pick("grid", [state.z1, state.z2, state.span]);
      };
      let drag = null, wheelEnd = null;
      canvas.addEventListener("pointerdown", (e) => {
        if (!grid.state) return;
        drag = { start: canvasPoint(canvas, e), state: { ...grid.state }, moved: false };
        grid.gesture = true;
        canvas.setPointerCapture(e.pointerId);
      });
      canvas.addEventListener("pointermove", (e) => {
        if (!drag) return;
        const [x, y] = canvasPoint(canvas, e), [x0, y0] = drag.start;
        if (!drag.moved && Math.hypot(x - x0, y - y0) < 4) return;
        drag.moved = true;
        const s = drag.state, zpp = zPerPx(s);
        commit(s.z1 - (x - x0) * zpp, s.z2 + (y - y0) * zpp, s.span);
      });
      canvas.addEventListener("pointerup", (e) => {
        if (drag && !drag.moved && grid.shown) {  // a click: centre on the cell under it
          const s = grid.state, L = layout(s.n), [x, y] = canvasPoint(canvas, e);
          const col = Math.floor((x - L.left) / L.pitch), row = Math.floor((y - L.top) / L.pitch);
          if (col >= 0 && col < s.n && row >= 0 && row < s.n) {
            const cols = gridAxis(s.z1, s.span, s.n, s.spacing), rows = gridAxis(s.z2, s.span, s.n, s.spacing).reverse();
            commit(cols[col], rows[row], s.span);
          }
        }
        drag = null;
        grid.gesture = false;
        view.sharpen();
      });
      canvas.addEventListener("pointercancel", () => { drag = null; grid.gesture = false; view.sharpen(); });
      canvas.addEventListener("wheel", (e) => {
        if (!grid.state) return;
        e.preventDefault();
        const s = grid.state, L = layout(s.n), [x, y] = canvasPoint(canvas, e), zpp = zPerPx(s);
        const factor = clamp(Math.exp(e.deltaY * 0.002), 0.5, 2);
        const span = clamp(s.span * factor, props.span_min, props.span_max), k = span / s.span;
        const px = x - (L.left + L.size / 2), py = y - (L.top + L.size / 2);  // the point under the pointer stays put
        grid.gesture = true;
        commit(s.z1 + px * zpp * (1 - k), s.z2 - py * zpp * (1 - k), span);
        clearTimeout(wheelEnd);
        wheelEnd = setTimeout(() => { grid.gesture = false; view.sharpen(); }, 100);
      }, { passive: false });
      if (grid.state) view.set(grid.state, "load");
    },

    grid_map(view, element, props) {
      const canvas = element.querySelector("canvas");
      view.overlay = (ctx) => {
        const s = grid.state;
        if (s) drawBox(ctx, [s.z1 - s.span / 2, s.z2 - s.span / 2], [s.z1 + s.span / 2, s.z2 + s.span / 2]);
      };
      view.paint = mapPainter(view, canvas, props.title);
      const centre = (z) => { if (grid.state) { VAEPage.set("grid", z[0], z[1], grid.state.span, grid.state.n, grid.state.spacing, "map"); pick("grid_map", z); } };
      canvas.addEventListener("pointerdown", (e) => { const p = canvasPoint(canvas, e); if (FRAME.inPlot(p)) centre(FRAME.toZ(p).map(round2)); });
      arrowKeys(canvas, () => (grid.state ? [grid.state.z1, grid.state.z2] : [0, 0]), centre);
    },

    samples(view, element) {
      const canvas = element.querySelector("canvas");
      const draw = digitsOrServer(canvas, (decoder, n, seed) => {
        const key = `${VAEPage.model} ${seed}`;
        if (!samples.cache.has(key)) samples.cache.set(key, []);
        const decoded = samples.cache.get(key);  // sample i of a seed never changes: decode only the new ones
        const missing = n - decoded.length;
        if (missing > 0) {
          const z = [];
          for (let i = decoded.length; i < n; i++) z.push(...priorSample(seed, i));
          const pixels = decoder.decode(z, missing);
          for (let i = 0; i < missing; i++) decoded.push(pixels.subarray(784 * i, 784 * (i + 1)));
        }
        const all = new Uint8Array(784 * n);
        for (let i = 0; i < n; i++) all.set(decoded[i], 784 * i);
        tileDigits(canvas, all, n, Math.ceil(Math.sqrt(n)), 2, 2);
      }, (n, seed) => ["sample", [n, seed, VAEPage.model]]);
      view.paint = (key) => draw([samples.n, samples.seed], () => painted("samples", key));
      view.paint("load");
    },

    samples_map(view, element, props) {
      const canvas = element.querySelector("canvas");
      view.overlay = (ctx) => {
        for (let i = 0; i < samples.n; i++) { const [x, y] = FRAME.toPx(priorSample(samples.seed, i)); dot(ctx, x, y, 3.5, INK, "white"); }
      };
      view.paint = mapPainter(view, canvas, props.title);
    },

    interp(view, element) {
      const canvas = element.querySelector("canvas");
      const draw = digitsOrServer(canvas, (decoder, a, b, steps) => {
        tileDigits(canvas, decoder.decode(interpolationPoints(a, b, steps).flat(), steps), steps, Math.min(steps, 10), 3, 2, 255);
      }, (a, b, steps) => ["interpolate", [...a, ...b, steps, VAEPage.model]]);
      view.paint = (key) => draw([interp.a, interp.b, interp.steps], () => painted("interp", key));
      view.paint("load");
    },

    interp_map(view, element, props) {
      const canvas = element.querySelector("canvas");
      view.overlay = (ctx) => drawPath(ctx, interpolationPoints(interp.a, interp.b, interp.steps));
      view.paint = mapPainter(view, canvas, props.title);
      canvas.addEventListener("pointerdown", (e) => {
        const p = canvasPoint(canvas, e);
        if (FRAME.inPlot(p)) pick("interp_map", FRAME.toZ(p).map(round2));
      });
    },
  };

  /* The drawing pad: black strokes on a transparent square canvas (white behind it on the page), drawn
     by any pointer: mouse, pen or finger. When the pen lifts, and after undo or clear, the drawing goes
     to the server's reconstruction as one small PNG; an empty pad sends "" and the results clear. */
  const PAD = { size: 280, widths: { thin: 8, medium: 16, wide: 28 } };
  MOUNT.pad = (view, element) => {
    const canvas = element.querySelector("canvas"), ctx = canvas.getContext("2d");
    canvas.width = canvas.height = PAD.size;
    let strokes = [], current = null, width = PAD.widths.medium;
    function line(stroke) {
      ctx.strokeStyle = ctx.fillStyle = "black";
      ctx.lineWidth = stroke.width; ctx.lineCap = ctx.lineJoin = "round";
      const [first, ...rest] = stroke.points;
      if (!rest.length) { dot(ctx, first[0], first[1], stroke.width / 2, "black"); return; }
      ctx.beginPath(); ctx.moveTo(...first);
      for (const p of rest) ctx.lineTo(...p);
      ctx.stroke();
    }
    function redraw() { ctx.clearRect(0, 0, canvas.width, canvas.height); strokes.forEach(line); }
    const send = () => pick("pad", [strokes.length ? canvas.toDataURL("image/png") : ""]);
    canvas.addEventListener("pointerdown", (e) => {
      if (e.button !== 0) return;
      canvas.setPointerCapture(e.pointerId);
      current = { width, points: [canvasPoint(canvas, e)] };
      strokes.push(current);
      line(current);
    });
    canvas.addEventListener("pointermove", (e) => {
      if (!current) return;
      for (const event of e.getCoalescedEvents ? e.getCoalescedEvents() : [e]) {
        const p = canvasPoint(canvas, event);
        line({ width: current.width, points: [current.points[current.points.length - 1], p] });
        current.points.push(p);
      }
    });
    const lift = () => { if (current) { current = null; send(); } };
    canvas.addEventListener("pointerup", lift);
    canvas.addEventListener("pointercancel", lift);
    for (const button of element.querySelectorAll("button[data-width]")) {
      button.addEventListener("click", () => {
        width = PAD.widths[button.dataset.width];
        for (const b of element.querySelectorAll("button[data-width]")) b.setAttribute("aria-pressed", String(b === button));
      });
    }
    element.querySelector("button[data-act=undo]").addEventListener("click", () => { if (strokes.pop()) { redraw(); send(); } });
    element.querySelector("button[data-act=clear]").addEventListener("click", () => { if (strokes.length) { strokes = []; redraw(); send(); } });
  };

  /* A picker's thumbnails: the first test digits in a sheet, the picked ones outlined and lettered.
     A click picks the digit under the pointer (the view's "pick" event carries its index); the title
     names the one under the pointer. From the keyboard, the arrow keys move a dashed cursor and Enter
     or Space picks the digit under it, whose name the canvas's label says. VAEPage.mark sets the
     outlines from the pickers' values. */
  const SHEET = { cols: 20, cell: 30 };
  const cellCorner = (i) => [(i % SHEET.cols) * SHEET.cell, Math.floor(i / SHEET.cols) * SHEET.cell];
  function digitSheet(view, element, props) {
    const canvas = element.querySelector("canvas"), ctx = canvas.getContext("2d");
    view.letters = props.letters || [];
    view.marks = marks(view, props.start || []);
    let sheet = null, labels = null, count = 0;
    const cellAt = (e) => {
      const [x, y] = canvasPoint(canvas, e), i = Math.floor(y / SHEET.cell) * SHEET.cols + Math.floor(x / SHEET.cell);
      return x >= 0 && y >= 0 && x < canvas.width && i < count ? i : null;
    };
    VAEPage.pointsReady.then((points) => {
      if (!points) return;
      labels = points.labels; count = points.images.length / 784;
      canvas.width = SHEET.cols * SHEET.cell; canvas.height = Math.ceil(count / SHEET.cols) * SHEET.cell;
      sheet = ctx.createImageData(canvas.width, canvas.height);
      sheet.data.fill(255);
      for (let i = 0; i < count; i++) {
        const [left, top] = cellCorner(i);
        for (let p = 0; p < 784; p++) {  // each digit one pixel in from its cell's corner
          const v = points.images[784 * i + p], at = 4 * ((top + 1 + Math.floor(p / 28)) * canvas.width + left + 1 + (p % 28));
          sheet.data[at] = sheet.data[at + 1] = sheet.data[at + 2] = v;
        }
      }
      view.paint("load");
    });
    let cursor = null;  // the digit the keyboard is on
    const outline = (i, colour, dash) => {
      const [left, top] = cellCorner(i);
      ctx.setLineDash(dash); ctx.strokeStyle = colour; ctx.lineWidth = 2;
      ctx.strokeRect(left + 1, top + 1, SHEET.cell - 2, SHEET.cell - 2);
      ctx.setLineDash([]);
      return [left, top];
    };
    view.paint = (key) => {
      if (!sheet) return;
      ctx.putImageData(sheet, 0, 0);
      for (const [index, letter] of view.marks) {
        const [left, top] = outline(index, "rgb(230,80,20)", []);
        if (letter) text(ctx, letter, left + 3, top + 2, 10, "left", "top", "rgb(255,170,60)");
      }
      if (cursor !== null && document.activeElement === canvas) outline(cursor, "rgb(80,160,255)", [3, 2]);
      painted(view.name, key);
    };
    canvas.addEventListener("click", (e) => { const i = cellAt(e); if (i !== null) pick(view.name, [i]); });
    canvas.tabIndex = 0;
    const moveTo = (i) => {
      cursor = clamp(i, 0, count - 1);
      canvas.setAttribute("aria-label", `test digit #${cursor} (a ${labels[cursor]}): Enter picks it`);
      view.paint("cursor");
    };
    canvas.addEventListener("focus", () => moveTo(cursor ?? (view.marks.length ? view.marks[0][0] : 0)));
    canvas.addEventListener("blur", () => view.paint("cursor"));
    canvas.addEventListener("keydown", (e) => {
      const moves = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -SHEET.cols, ArrowDown: SHEET.cols };
      if (!sheet || cursor === null) return;
      if (moves[e.key]) { e.preventDefault(); moveTo(cursor + moves[e.key]); }
      else if (e.key === "Enter" || e.key === " ") { e.preventDefault(); pick(view.name, [cursor]); }
    });
    canvas.addEventListener("pointermove", (e) => {
      const i = cellAt(e);
      canvas.title = i === null ? "" : `test digit #${i} (a ${labels[i]}): click to pick it`;
    });
  }
  MOUNT.elbo_digits = MOUNT.interp_digits = digitSheet;

  /* The Training tab: the picked model's training replayed (vae/replay.py; explorer/assets.py's replay
     pack). The latent map shows where the encoder put the replay's test digits after the epoch the
     slider picks, and below it the manifold decoded at the latest epoch up to then that has one. The
     play button steps through the epochs and moves the slider, whose server event marks the epoch on
     the loss curves. */
  const training = { epoch: 1, timer: null };
  VAEPage.controllers.training = training;
  function replayOf(name) {
    const loaded = VAEPage.loaded[name];
    if (!loaded.replay) {
      loaded.replay = fetchPack(VAEPage.models[name].replay_url).then(({ meta, arrays }) => ({
        ...meta, mu: arrays.mu.data, labels: arrays.labels.data, count: arrays.labels.data.length,
        manifolds: arrays.manifolds.data, perManifold: arrays.manifolds.shape[1], maps: new Map() }))
        .catch((e) => { console.warn("VAEPage: no replay:", e); return null; });
    }
    return loaded.replay;
  }
  /* The index of the epoch to show: the slider's, or the run's last where the run is shorter. */
  const replayIndex = (replay) => { const i = replay.epochs.findIndex((e) => e >= training.epoch); return i < 0 ? replay.epochs.length - 1 : i; };
  MOUNT.training = (view, element, props) => {
    const [mapCanvas, manifoldCanvas] = element.querySelectorAll("canvas"), caption = element.querySelector(".vae-caption");
    mapCanvas.width = FRAME.width; mapCanvas.height = FRAME.height;
    view.paint = async (key) => {
      const name = VAEPage.model, replay = await replayOf(name);
      if (!replay || name !== VAEPage.model) return;
      const i = replayIndex(replay), epoch = replay.epochs[i], n = replay.count;
      if (!replay.maps.has(epoch))
        replay.maps.set(epoch, renderMap({ mu: replay.mu.subarray(2 * n * i, 2 * n * (i + 1)), labels: replay.labels }, `${props.title} after epoch ${epoch}`));
      mapCanvas.getContext("2d").drawImage(replay.maps.get(epoch), 0, 0);
      let j = 0;
      replay.manifold_epochs.forEach((e, k) => { if (e <= epoch) j = k; });
      const size = 784 * replay.perManifold, side = Math.round(Math.sqrt(replay.perManifold));
      tileDigits(manifoldCanvas, replay.manifolds.subarray(size * j, size * (j + 1)), replay.perManifold, side, 2, 1);
      const h = replay.history[i];
      caption.textContent = `Epoch ${epoch} of ${replay.epochs[replay.epochs.length - 1]}: test −ELBO ${h.neg_elbo.toFixed(1)} = ` +
        `reconstruction ${(-h.reconstruction).toFixed(1)} + KL ${h.kl.toFixed(1)} nats. Manifold as decoded after epoch ${replay.manifold_epochs[j]}.`;
      painted("training", key);
    };
    view.paint("load");
  };

  /* The play button: through the epochs, four a second, from the first (or on from where it was
     paused); pressed while playing, it pauses. */
  VAEPage.play = async () => {
    if (training.timer) { clearInterval(training.timer); training.timer = null; return; }
    const replay = await replayOf(VAEPage.model);
    if (!replay) return;
    const last = () => replay.epochs[replay.epochs.length - 1];
    if (training.epoch >= last()) training.epoch = 0;
    training.timer = setInterval(() => {
      if (training.epoch >= last()) { clearInterval(training.timer); training.timer = null; return; }
      training.epoch += 1;
      if (VAEPage.views.training) VAEPage.views.training.paint("play");
      pick("training", [training.epoch]);
    }, 250);
  };

  /* The pickers' values (test digit indices, or null) outline their thumbnails, lettered as the view's props say. */
  function marks(view, indices) {
    return indices.map((index, k) => [index, view.letters[k]]).filter(([index]) => typeof index === "number");
  }
  VAEPage.mark = (name, ...indices) => {
    const view = VAEPage.views[name];
    if (!view) return;
    view.marks = marks(view, indices);
    view.paint("mark");
  };

  const CONTROLLER = { explorer_map: "explorer", explorer_digit: "explorer", grid: "grid", grid_map: "grid",
    samples: "samples", samples_map: "samples", interp: "interp", interp_map: "interp", training: "training" };
  const started = {};

  /* A controller's state from its controls' values, as the Gradio listeners pass them. */
  function assign(name, values) {
    started[name] = true;
    if (name === "explorer") return explorer.set(values[0], values[1]);
    if (name === "grid") {
      const [z1, z2, span, n, spacing] = values;
      grid.state = { z1, z2, span, n, spacing };
    }
    if (name === "samples") {
      samples.n = clamp(Math.round(values[0]) || 1, 1, 100);
      samples.seed = clamp(Math.floor(values[1]) || 0, ...SEED_RANGE);
    }
    if (name === "interp") {
      const [a1, a2, b1, b2, steps] = values;
      Object.assign(interp, { a: [a1, a2], b: [b1, b2], steps: clamp(Math.round(steps) || 2, 2, 30) });
    }
    if (name === "training") training.epoch = Math.max(1, Math.round(values[0]) || 1);
  }

  /* Called by js_on_load of each view's gr.HTML; props.start holds its controls' first values. */
  VAEPage.mount = (name, element, props, trigger) => {
    startEngine(props);
    const view = { name, element, trigger };
    VAEPage.views[name] = view;
    const controller = CONTROLLER[name];
    if (controller && !started[controller] && props.start) assign(controller, props.start);
    MOUNT[name](view, element, props);
  };

  /* Called by the JS-only listeners of the controls with their values; the key says what moved. */
  /* Control values inside the ranges the page shows, each slider's own min and max (the samples' seed,
     a number box, within what numpy and torch take): a number typed beyond a slider's end becomes that
     end, in the box as in the pictures (the API clamps to its own, wider, ranges). */
  const SEED_RANGE = [0, 2 ** 32 - 1];
  function inRange(name, values) {
    return values.map((v, i) => {
      if (typeof v !== "number" || Number.isNaN(v)) return v;
      const id = (SLIDERS[name] || [])[i], slider = id && document.querySelector(`#${id} input[type=range]`);
      const range = slider ? [parseFloat(slider.min), parseFloat(slider.max)] : name === "samples" && i === 1 ? SEED_RANGE : null;
      return range ? clamp(v, range[0], range[1]) : v;
    });
  }

  const lastSet = {};
  /* Returns the values as the controls should show them. */
  VAEPage.set = (name, ...given) => {
    const views = VAEPage.views, key = typeof given[given.length - 1] === "string" && given.length > 5 ? given.pop() : "slider";
    const values = inRange(name, given), signature = JSON.stringify(values);
    if (lastSet[name] === signature) return values;  // a control's input and change events both report one move
    lastSet[name] = signature;
    assign(name, values);
    if (name === "grid") {
      if (views.grid) views.grid.set(grid.state, key);
      if (views.grid_map) views.grid_map.paint(key);
    }
    for (const v of { samples: ["samples", "samples_map"], interp: ["interp", "interp_map"], training: ["training"] }[name] || [])
      if (views[v]) views[v].paint(key);
    return values;
  };

  /* Sliders dragged: the pictures follow from the DOM's own input event, caught before Gradio handles
     it; Gradio's input and change events (typed values, resets, values set by listeners) come after
     and find nothing new. Without the sliders' markup this finds nothing, and Gradio's events alone do it. */
  const SLIDERS = { explorer: ["z1", "z2"], grid: ["grid_z1", "grid_z2", "grid_span", "grid_n"], samples: ["samples_n"],
    interp: ["interp_a1", "interp_a2", "interp_b1", "interp_b2", "interp_steps"], training: ["train_epoch"] };
  document.addEventListener("input", (e) => {
    if (!(e.target instanceof HTMLInputElement) || e.target.type !== "range") return;
    for (const [name, ids] of Object.entries(SLIDERS)) {
      if (!e.target.closest(ids.map((id) => `#${id}`).join(","))) continue;
      const values = ids.map((id) => parseFloat((document.querySelector(`#${id} input[type=range]`) || {}).value));
      if (values.some(Number.isNaN)) return;
      if (name === "grid") values.push(grid.state ? grid.state.spacing : "linear");
      if (name === "samples") values.push(samples.seed);
      VAEPage.set(name, ...values);
    }
  }, true);

  /* The end of the interpolation a click on its map sets (A or B), and the pickers: the moved end's is cleared. */
  VAEPage.pickedEnd = (which, a1, a2, b1, b2, pickA, pickB) => {
    const z = VAEPage.picks.interp_map;
    return which === "A" ? [z[0], z[1], b1, b2, null, pickB] : [a1, a2, z[0], z[1], pickA, null];
  };

  /* A pan or zoom button of the manifold: move the centre by (dx, dy) quarter-spans, or scale the span. */
  VAEPage.gridMove = (z1, z2, span, dx, dy, zoom, spanMin, spanMax) => {
    const s = clamp(span * zoom, spanMin, spanMax);
    return [clamp(round2(z1 + (dx * s) / 4), -FRAME.half, FRAME.half), clamp(round2(z2 + (dy * s) / 4), -FRAME.half, FRAME.half), Math.round(s * 1000) / 1000];
  };

  VAEPage.newSeed = () => Math.floor(Math.random() * 2 ** 31);
  Object.assign(VAEPage, { Decoder, unpack, priorSample, gridAxis, mix32 });
})();
