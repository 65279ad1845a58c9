/* The VAE's decoder in plain JavaScript: the same math as VAE.decode in vae/model.py (Linear
   layers with ELU between them and a sigmoid at the end), on the very weights the server
   holds (the decoder pack of explorer/assets.py). */
import { fetchPack } from "./pack.js";

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

export class Decoder {
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

/* Where the digits come from: {mode: "page", decoder} or {mode: "server", reason} when this browser
   cannot decode as the server does, or `serverAsked` names why the server should. onProgress: as fetchPack's. */
export async function loadDecoder(url, serverAsked = null, onProgress = null) {
  if (serverAsked) return { mode: "server", reason: serverAsked };
  try {
    if (typeof Float32Array === "undefined" || typeof Math.imul !== "function" || typeof fetch !== "function")
      throw new Error("this browser lacks typed arrays or fetch");
    const decoder = new Decoder(await fetchPack(url, onProgress));
    const off = decoder.disagreement();
    if (off > 1) throw new Error(`its arithmetic is ${off}/255 off the server's`);
    return { mode: "page", decoder };
  } catch (e) {
    return { mode: "server", reason: `this browser could not run the decoder: ${e.message}` };
  }
}
