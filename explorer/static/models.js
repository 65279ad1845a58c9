/* Each committed model's files, fetched the first time the model is shown: its decoder (or
   the reason digits come from the server instead), its map points (the test digits' posterior
   means, labels, the first test digits' pictures and the classes' names) and its training replay. */
import { loadDecoder } from "./decoder.js";
import { fetchPack } from "./pack.js";

/* files: {name: {decoder_url, points_url, replay_url, ...}} (explorer/components.py). serverAsked:
   why the page should not decode (the address asks for it), or null. */
export function createModels(files, serverAsked) {
  const loaded = {};
  const of = (name) => {
    if (!loaded[name]) {
      const model = loaded[name] = {
        engine: loadDecoder(files[name].decoder_url, serverAsked).then((engine) => { model.ready = engine; return engine; }),
        ready: null,  // the engine, once loaded: views paint with it in the same task as the event
        points: fetchPack(files[name].points_url)
          .then(({ meta, arrays }) => ({ mu: arrays.mu.data, labels: arrays.labels.data, images: arrays.images.data, classes: meta.classes }))
          .catch((e) => { console.warn("VAEPage: no map points:", e); return null; }),
        replay: null,
        maps: new Map(),  // drawn base maps by title
      };
    }
    return loaded[name];
  };
  return {
    files,
    engine: (name) => of(name).engine,
    ready: (name) => of(name).ready,
    points: (name) => of(name).points,
    maps: (name) => of(name).maps,
    /* The training replay (vae/replay.py): the means after each epoch, a few manifolds, per-epoch metrics;
       null for a run without one. */
    replay(name) {
      const model = of(name);
      if (!files[name].replay_url) return Promise.resolve(null);
      if (!model.replay) {
        model.replay = fetchPack(files[name].replay_url).then(({ meta, arrays }) => ({
          ...meta, mu: arrays.mu.data, labels: arrays.labels.data, count: arrays.labels.data.length,
          manifolds: arrays.manifolds.data, perManifold: arrays.manifolds.shape[1], maps: new Map() }))
          .catch((e) => { console.warn("VAEPage: no replay:", e); return null; });
      }
      return model.replay;
    },
  };
}
