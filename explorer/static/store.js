/* The page's state, in one place: one flat object whose keys are the elem_ids of the Gradio
   controls (z1, grid_span, interp_pick_a, ...) plus `tab`, and a few keys of the views' own
   that no control shows (the map's hover). Everything the page draws is a function of it.

   In:  store.set(patch, source) from a view (a click on a map, a drag on the grid) or a rule;
        store.report(key, value) from a control's change event (app.py: one listener a control),
        and from a slider's DOM input event, which comes a frame sooner (page.js).
   Out: store.subscribe(fn): fn(state, changedKeys, source) after every change, at once;
        `show(values)` (given to createStore): the controls' values, when the state holds values
        the controls do not show (app.py passes them to the controls through the page view).

   A control reports every value it is given, the store's own included; those echoes are
   recognised and dropped, so that a value the store has moved on from never comes back as news.
   toQuery/fromQuery turn the state into a short query string and back: only what differs
   from the first view is written. */

const same = (a, b) => a === b || (typeof a === "number" && typeof b === "number" && Number.isNaN(a) && Number.isNaN(b));

/* defaults: the first view's state (the controls' first values, `tab`, the views' own keys).
   controls: the keys that Gradio controls show. tidy(next, patch, source, previous): the state
   to keep for a change (values brought within range, rules applied). show(values): see above.
   nextFrame: how pushes to the controls are batched (one per animation frame in a browser). */
export function createStore({ defaults, controls, tidy = (next) => next, show = () => {},
  nextFrame = (fn) => (typeof requestAnimationFrame === "function" ? requestAnimationFrame(fn) : setTimeout(fn, 0)) }) {
  let state = { ...defaults }, pushing = false;
  const listeners = [], shown = {}, pending = {};
  for (const key of controls) { shown[key] = defaults[key]; pending[key] = []; }

  function push() {
    pushing = false;
    let any = false;
    for (const key of controls) {
      if (same(state[key], shown[key])) continue;
      pending[key].push(state[key]);
      shown[key] = state[key];
      any = true;
    }
    if (any) show({ ...shown });
  }

  const store = {
    get: () => state,
    subscribe(fn) { listeners.push(fn); },

    /* Change the state; listeners hear of it at once, the controls by the next frame. */
    set(patch, source) {
      const next = tidy({ ...state, ...patch }, patch, source, state);
      const changed = Object.keys(next).filter((key) => !same(next[key], state[key]));
      if (changed.length) {
        state = next;
        for (const fn of listeners) fn(state, changed, source);
      }
      if (!pushing && controls.some((key) => !same(state[key], shown[key]))) { pushing = true; nextFrame(push); }
    },

    /* A control's change event: its own echo of what the store showed it, or news. `early`: the
       value comes ahead of the control's own change event (a slider's DOM input event), whose
       report of it, when it comes, is then an echo too. */
    report(key, value, early = false) {
      const queue = pending[key];
      const echo = queue ? queue.findIndex((v) => same(v, value)) : -1;
      if (echo >= 0) { queue.splice(0, echo + 1); return; }
      if (queue) {
        if (early) queue.push(value); else queue.length = 0;
        shown[key] = value;
      }
      store.set({ [key]: value }, "slider");
    },
  };
  return store;
}

/* The state's difference from `defaults`, over `keys`, as a query string: "z1=1.5&model=beta0". */
export function toQuery(state, defaults, keys) {
  const query = new URLSearchParams();
  for (const key of keys)
    if (!same(state[key], defaults[key])) query.set(key, state[key] === null || state[key] === undefined ? "" : String(state[key]));
  return query.toString();
}

/* A query string back to a patch of the state: each value typed as its default is (numbers as
   numbers, "" as null); unknown keys and numbers that do not parse are left out. */
export function fromQuery(text, defaults, keys) {
  const patch = {}, query = new URLSearchParams(text);
  for (const key of keys) {
    if (!query.has(key)) continue;
    const raw = query.get(key);
    if (raw === "") patch[key] = null;
    else if (typeof defaults[key] === "number" || defaults[key] === null) {
      const value = Number(raw);
      if (Number.isFinite(value)) patch[key] = value;
    } else patch[key] = raw;
  }
  return patch;
}
