/* Each committed model's files, fetched the first time the model is shown: its decoder (or
   the reason digits come from the server instead), its map points (the test digits' posterior
   means, labels, the first test digits' pictures and the classes' names) and its training replay. */
import { loadDecoder } from "./decoder.js";
import { glDecoder } from "./decoder-gl.js";
import { fetchPack } from "./pack.js";

/* files: {name: {decoder_url, points_url, replay_url, ...}} (explorer/components.py). serverAsked:
   why the page should not decode (the address asks for it), or null. onLoading(name): the
   decoder of model `name` has come closer (loading(name) says how far) or is ready. */
export function createModels(files, serverAsked, onLoading) {
  const loaded = {};
  const of = (name) => {
    if (!loaded[name]) {
      const progress = (got, total) => { model.loading = { got, total }; onLoading(name); };
      const model = loaded[name] = {
        engine: loadDecoder(files[name].decoder_url, serverAsked, progress)
          .then((engine) => { model.ready = engine; onLoading(name); return engine; }),
        ready: null,  // the engine, once loaded: views paint with it in the same task as the event
        loading: { got: 0, total: null },  // the decoder's bytes so far, and in all where the server says
        points: fetchPack(files[name].points_url)
          .then(({ meta, arrays }) => ({ mu: arrays.mu.data, labels: arrays.labels.data, images: arrays.images.data, classes: meta.classes }))
          .catch((e) => { console.warn("VAEPage: no map points:", e); return null; }),
        grid: null,
        gridReady: null,  // what grid() resolved to, once it has
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
    loading: (name) => of(name).loading,
    points: (name) => of(name).points,
    maps: (name) => of(name).maps,
    /* The decoder for many points at once (the manifold grid): {decoder: a GLDecoder} where the page decodes
       and this browser's graphics card decodes as the server does, else {decoder: null, reason}. */
    grid(name) {
      const model = of(name);
      if (!model.grid) {
        model.grid = model.engine.then((engine) => (engine.mode === "page" ? glDecoder(engine.decoder) : { decoder: null, reason: engine.reason }))
          .then((grid) => { model.gridReady = grid; return grid; });
      }
      return model.grid;
    },
    gridReady: (name) => of(name).gridReady,
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
