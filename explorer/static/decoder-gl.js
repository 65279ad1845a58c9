/* The decoder on the graphics card, for many points at once (the manifold grid): WebGL2 runs each
   Linear layer as a fragment shader, one fragment per point and four outputs, over the same
   weights as decoder.js (ELU between layers, a sigmoid at the end), and the digits come back as
   uint8 pixels without blocking the page while the card works. */
import { Decoder } from "./decoder.js";

const VERTEX = `#version 300 es
in vec2 corner;
void main() { gl_Position = vec4(corner, 0.0, 1.0); }`;

/* out[point k, outputs 4q..4q+3] = bias + W[4q..4q+3, :] . h[k, :], four inputs a texel. */
const layerShader = (last) => `#version 300 es
precision highp float;
precision highp int;
precision highp sampler2D;
uniform sampler2D weight;  // texel (c, r): row r's inputs 4c..4c+3
uniform sampler2D bias;    // texel (q, 0): outputs 4q..4q+3
uniform sampler2D h;       // texel (c, k): point k's inputs 4c..4c+3
uniform int quads;         // input texels per point
out vec4 result;
void main() {
  ivec2 at = ivec2(gl_FragCoord.xy);
  int r = 4 * at.x;
  vec4 v = texelFetch(bias, ivec2(at.x, 0), 0);
  for (int c = 0; c < quads; c++) {
    vec4 x = texelFetch(h, ivec2(c, at.y), 0);
    v += vec4(dot(texelFetch(weight, ivec2(c, r), 0), x), dot(texelFetch(weight, ivec2(c, r + 1), 0), x),
              dot(texelFetch(weight, ivec2(c, r + 2), 0), x), dot(texelFetch(weight, ivec2(c, r + 3), 0), x));
  }
  ${last ? "result = 1.0 / (1.0 + exp(-v));  // sigmoid; the uint8 target rounds it to levels of 255"
         : "result = max(v, 0.0) + (exp(min(v, 0.0)) - 1.0);  // ELU"}
}`;

const quadsOf = (n) => Math.ceil(n / 4);

// Renderers that run WebGL on the processor: Chrome's SwiftShader, Mesa's llvmpipe and softpipe, Windows' WARP.
const SOFTWARE = /SwiftShader|llvmpipe|softpipe|Software|Basic Render/i;

function compile(gl, vertex, fragment) {
  const program = gl.createProgram();
  for (const [type, source] of [[gl.VERTEX_SHADER, vertex], [gl.FRAGMENT_SHADER, fragment]]) {
    const shader = gl.createShader(type);
    gl.shaderSource(shader, source);
    gl.compileShader(shader);
    if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(shader));
    gl.attachShader(program, shader);
  }
  gl.bindAttribLocation(program, 0, "corner");
  gl.linkProgram(program);
  if (!gl.getProgramParameter(program, gl.LINK_STATUS)) throw new Error(gl.getProgramInfoLog(program));
  return program;
}

/* A texture of width x height RGBA texels: float32 (data a Float32Array, or null to render into) or uint8. */
function texture(gl, width, height, data, bytes = false) {
  const t = gl.createTexture();
  gl.bindTexture(gl.TEXTURE_2D, t);
  for (const p of [gl.TEXTURE_MIN_FILTER, gl.TEXTURE_MAG_FILTER]) gl.texParameteri(gl.TEXTURE_2D, p, gl.NEAREST);
  if (bytes) gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, width, height, 0, gl.RGBA, gl.UNSIGNED_BYTE, null);
  else gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA32F, width, height, 0, gl.RGBA, gl.FLOAT, data);
  return t;
}

/* rows x cols weights (row-major) as texels of four inputs, rows and inputs padded with zeros to fours. */
function weightTexels(weight, rows, cols) {
  const quads = quadsOf(cols), height = 4 * quadsOf(rows), out = new Float32Array(height * quads * 4);
  for (let r = 0; r < rows; r++) out.set(weight.subarray(r * cols, (r + 1) * cols), r * quads * 4);
  return { data: out, width: quads, height };
}

/* Resolves once the card has done everything asked of it so far, polling (never blocking the page). */
function finished(gl) {
  const sync = gl.fenceSync(gl.SYNC_GPU_COMMANDS_COMPLETE, 0);
  gl.flush();
  return new Promise((done, fail) => {
    const poll = () => {
      const status = gl.clientWaitSync(sync, 0, 0);
      if (status === gl.WAIT_FAILED) { gl.deleteSync(sync); fail(new Error("the graphics card stopped answering")); }
      else if (status === gl.TIMEOUT_EXPIRED) setTimeout(poll, 2);
      else { gl.deleteSync(sync); done(); }
    };
    poll();
  });
}

export class GLDecoder {
  /* decoder: a Decoder (decoder.js), whose dequantized layers this one uploads. */
  constructor(decoder) {
    const canvas = typeof OffscreenCanvas === "function" ? new OffscreenCanvas(1, 1) : document.createElement("canvas");
    // WebGL2 on the processor (no card, or one the browser will not use) decodes a grid slower than
    // the server answers (docs/benchmarks.md): refused where the browser says so, by the
    // context's failIfMajorPerformanceCaveat or by the renderer's name.
    const gl = canvas.getContext("webgl2", { antialias: false, depth: false, powerPreference: "high-performance",
                                             failIfMajorPerformanceCaveat: true });
    if (!gl) throw new Error("this browser has no WebGL2 on a graphics card");
    const info = gl.getExtension("WEBGL_debug_renderer_info"), renderer = info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : "";
    if (SOFTWARE.test(renderer)) throw new Error(`its WebGL2 runs on the processor (${renderer})`);
    if (!gl.getExtension("EXT_color_buffer_float")) throw new Error("this browser's WebGL2 cannot write float32 textures");
    this.gl = gl;
    this.check = decoder.check;
    const programs = [compile(gl, VERTEX, layerShader(false)), compile(gl, VERTEX, layerShader(true))];
    this.layers = decoder.layers.map(({ rows, cols, weight, bias }, i) => {
      const w = weightTexels(weight, rows, cols), b = new Float32Array(4 * quadsOf(rows));
      b.set(bias);
      if (4 * quadsOf(rows) > gl.getParameter(gl.MAX_TEXTURE_SIZE)) throw new Error(`a layer of ${rows} is too wide for this card`);
      return { rows, quads: w.width, outQuads: quadsOf(rows), weight: texture(gl, w.width, w.height, w.data),
               bias: texture(gl, quadsOf(rows), 1, b), program: programs[i === decoder.layers.length - 1 ? 1 : 0] };
    });
    const corners = gl.createBuffer();  // one triangle over the whole target
    gl.bindBuffer(gl.ARRAY_BUFFER, corners);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 3, -1, -1, 3]), gl.STATIC_DRAW);
    gl.enableVertexAttribArray(0);
    gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 0, 0);
    this.framebuffer = gl.createFramebuffer();
    this.queue = Promise.resolve();
  }

  /* z: n latent points as [z1, z2, z1, z2, ...] -> a promise of n digits, 784 uint8 each, as Decoder.decode. */
  decode(z, n) {
    const job = this.queue.then(() => this.run(z, n));
    this.queue = job.catch(() => {});
    return job;
  }

  async run(z, n) {
    const gl = this.gl, made = [];
    if (gl.isContextLost()) throw new Error("the graphics card's context was lost");
    const input = new Float32Array(4 * n);
    for (let k = 0; k < n; k++) { input[4 * k] = z[2 * k]; input[4 * k + 1] = z[2 * k + 1]; }
    let h = texture(gl, 1, n, input);
    made.push(h);
    gl.bindFramebuffer(gl.FRAMEBUFFER, this.framebuffer);
    for (const [i, layer] of this.layers.entries()) {
      const last = i === this.layers.length - 1, out = texture(gl, layer.outQuads, n, null, last);
      made.push(out);
      gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, out, 0);
      gl.viewport(0, 0, layer.outQuads, n);
      gl.useProgram(layer.program);
      [["weight", layer.weight], ["bias", layer.bias], ["h", h]].forEach(([name, t], unit) => {
        gl.activeTexture(gl.TEXTURE0 + unit);
        gl.bindTexture(gl.TEXTURE_2D, t);
        gl.uniform1i(gl.getUniformLocation(layer.program, name), unit);
      });
      gl.uniform1i(gl.getUniformLocation(layer.program, "quads"), layer.quads);
      gl.drawArrays(gl.TRIANGLES, 0, 3);
      h = out;
    }
    const size = n * 4 * this.layers[this.layers.length - 1].outQuads, buffer = gl.createBuffer();
    gl.bindBuffer(gl.PIXEL_PACK_BUFFER, buffer);
    gl.bufferData(gl.PIXEL_PACK_BUFFER, size, gl.STREAM_READ);
    gl.readPixels(0, 0, size / (4 * n), n, gl.RGBA, gl.UNSIGNED_BYTE, 0);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    try {
      await finished(gl);
      const pixels = new Uint8Array(size);
      gl.bindBuffer(gl.PIXEL_PACK_BUFFER, buffer);
      gl.getBufferSubData(gl.PIXEL_PACK_BUFFER, 0, pixels);
      return pixels;
    } finally {
      gl.bindBuffer(gl.PIXEL_PACK_BUFFER, null);
      gl.deleteBuffer(buffer);
      made.forEach((t) => gl.deleteTexture(t));
    }
  }

  /* The largest difference, in levels of 255, from the server's decode of the pack's check points. */
  async disagreement() {
    const { z, pixels } = this.check, mine = await this.decode(z.flat(), z.length);
    let worst = 0;
    pixels.flat().forEach((p, i) => { worst = Math.max(worst, Math.abs(p - mine[i])); });
    return worst;
  }
}

/* A GLDecoder for this browser when its card decodes as the server does, else null and why. */
export async function glDecoder(decoder) {
  try {
    const gl = new GLDecoder(decoder), off = await gl.disagreement();
    if (off > 1) throw new Error(`its arithmetic is ${off}/255 off the server's`);
    return { decoder: gl, reason: null };
  } catch (e) {
    return { decoder: null, reason: `the graphics card could not run the decoder: ${e.message}` };
  }
}
