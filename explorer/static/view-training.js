/* The Training tab: the model's training replayed (vae/replay.py; explorer/assets.py's replay
   pack). The latent map shows where the encoder put the replay's test digits after the epoch
   the state names, and below it the manifold decoded at the latest epoch up to then that has
   one. The play button steps through the epochs, four a second. */
import { renderMap, tileDigits } from "./draw.js";
import { stepKeys } from "./keys.js";

export function training(page, element, props, name) {
  const { store } = page, [mapCanvas, manifoldCanvas] = element.querySelectorAll("canvas");
  const caption = element.querySelector(".vae-caption");
  mapCanvas.width = page.frame.width; mapCanvas.height = page.frame.height;
  let latest = 0;
  const paint = async (key) => {
    const ticket = ++latest, { model, train_epoch: wanted } = store.get(), replay = await page.models.replay(model);
    if (ticket !== latest) return;
    if (!replay) {  // a run trained without a replay: the caption says so, over empty pictures
      for (const canvas of [mapCanvas, manifoldCanvas]) canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
      caption.textContent = page.config.no_replay;
      page.painted(name, key);
      return;
    }
    const points = await page.models.points(model);  // the classes' names, which the replay's map writes too
    if (ticket !== latest) return;
    let i = replay.epochs.findIndex((e) => e >= wanted);  // the run's last epoch where the run is shorter
    if (i < 0) i = replay.epochs.length - 1;
    const epoch = replay.epochs[i], n = replay.count;
    if (!replay.maps.has(epoch))
      replay.maps.set(epoch, renderMap(page.frame, page.style, { mu: replay.mu.subarray(2 * n * i, 2 * n * (i + 1)), labels: replay.labels,
        classes: points ? points.classes : null },
        `${props.title} after epoch ${epoch}`));
    mapCanvas.getContext("2d").drawImage(replay.maps.get(epoch), 0, 0);
    let j = 0;
    replay.manifold_epochs.forEach((e, k) => { if (e <= epoch) j = k; });
    const size = 784 * replay.perManifold, side = Math.round(Math.sqrt(replay.perManifold));
    tileDigits(manifoldCanvas, replay.manifolds.subarray(size * j, size * (j + 1)), replay.perManifold, side, 2, 1);
    const h = replay.history[i];
    caption.textContent = `Epoch ${epoch} of ${replay.epochs[replay.epochs.length - 1]}: test −ELBO ${h.neg_elbo.toFixed(1)} = ` +
      `reconstruction ${(-h.reconstruction).toFixed(1)} + KL ${h.kl.toFixed(1)} nats. Manifold as decoded after epoch ${replay.manifold_epochs[j]}.`;
    page.painted(name, key);
  };
  page.watch(["train_epoch", "model"], paint);
  paint("load");
  stepKeys(mapCanvas, store, "train_epoch", { " ": () => play(page) });
}

let timer = null;

/* The play button: through the epochs from the first (or on from where it was paused); pressed
   while playing, it pauses. */
export async function play(page) {
  if (timer) { clearInterval(timer); timer = null; return; }
  const { store } = page, replay = await page.models.replay(store.get().model);
  if (!replay) return;
  const last = () => replay.epochs[replay.epochs.length - 1];
  if (store.get().train_epoch >= last()) store.set({ train_epoch: 1 }, "play");
  timer = setInterval(() => {
    const epoch = store.get().train_epoch;
    if (epoch >= last()) { clearInterval(timer); timer = null; return; }
    store.set({ train_epoch: epoch + 1 }, "play");
  }, 250);
}
