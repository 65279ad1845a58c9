/* Reading the page's binary files, "packs" (explorer/assets.py writes them): the 4 bytes
   VAEP, a little-endian uint32 header length, a JSON header {meta, arrays: {name: {dtype,
   shape, offset}}}, then the arrays' bytes. */

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

/* An ArrayBuffer holding a pack -> {meta, arrays: {name: {shape, data}}}. */
export function unpack(buffer) {
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

/* Fetch and unpack a pack; onProgress(bytes so far, total bytes or null) follows its arrival. */
export async function fetchPack(url, onProgress = null) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url.split("/").pop()} answered ${response.status}`);
  return unpack(await readBody(response, onProgress));
}

async function readBody(response, onProgress) {
  if (!onProgress || !response.body) return response.arrayBuffer();
  const total = Number(response.headers.get("Content-Length")) || null, reader = response.body.getReader(), parts = [];
  let got = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    got += value.length;
    onProgress(got, total);
  }
  const bytes = new Uint8Array(got);
  parts.reduce((at, part) => { bytes.set(part, at); return at + part.length; }, 0);
  return bytes.buffer;
}
