/* The server's API, for the pictures the page does not decode itself: called as any API user
   calls it (POST /gradio_api/call/NAME, then read the answer's event stream). */

function apiRoot() {
  const root = window.gradio_config && window.gradio_config.root;
  return (root || `${location.origin}${location.pathname}`).replace(/\/?$/, "/");
}

/* One session for all of this page's calls: without one, Gradio builds a new session for every call. */
const SESSION = `vae-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;

// While the model's decoder is still on its way (a slow network), the server draws the pictures
// once this long has passed, so that nobody looks at an empty picture.
export const SERVER_WHILE_LOADING_MS = 1000;

/* A promise that resolves to undefined after `ms`. */
export const later = (ms) => new Promise((done) => setTimeout(done, ms));

// A server whose queue is full answers 503: the call waits this long (doubling up to the last) and asks again.
const RETRY_MS = [500, 1000, 2000, 4000];
let waitingCalls = 0;

/* Tell the page (a "vae-busy" event on the document, {busy}) whether some call is waiting for a full server. */
function waiting(change) {
  waitingCalls += change;
  document.dispatchEvent(new CustomEvent("vae-busy", { detail: { busy: waitingCalls > 0 } }));
}

/* POST the call, asking again while the server is too busy to queue it. */
async function start(base, data) {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(base, { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ data, session_hash: SESSION }) });
    if (response.status !== 503) { if (attempt > 0) waiting(-1); return response; }
    if (attempt === 0) waiting(+1);
    await later(RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]);
  }
}

/* Call a named endpoint; resolves to the Image of the picture it returns. */
export async function callForImage(name, data) {
  const base = `${apiRoot()}gradio_api/call/${name}`;
  const started = await start(base, data);
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
export function latestOnly(job) {
  let running = false, waiting = null;
  const run = async (args) => {
    running = true;
    try { await job(...args); } catch (e) { console.warn("VAEPage:", e); }
    running = false;
    if (waiting) { const next = waiting; waiting = null; run(next); }
  };
  return (...args) => { if (running) waiting = args; else run(args); };
}
