/* The address follows the view: the state's difference from the first view is written into the
   address bar as the person explores (history.replaceState: no request, no new history entry),
   and an address opened later restores it. A tab can also be named by the fragment
   (…/#manifold). Query keys the state does not own (?decode=server, ?__theme=dark) are kept. */
import { fromQuery, toQuery } from "./store.js";

const QUIET_MS = 250;  // browsers refuse a flood of replaceState calls; one write after a drag settles is enough

/* The state the address asks for: its query, and a tab named by its fragment. */
export function fromAddress(location, defaults, keys, tabs) {
  const patch = fromQuery(location.search, defaults, keys), named = decodeURIComponent(location.hash.slice(1));
  if (!("tab" in patch) && tabs.includes(named)) patch.tab = named;
  if ("tab" in patch && !tabs.includes(patch.tab)) delete patch.tab;
  return patch;
}

/* The address for `state`: the current one with the state's `keys` rewritten (those in `written`
   written, the others dropped) and a tab fragment dropped. */
export function addressOf(location, state, defaults, keys, written = keys) {
  const query = new URLSearchParams(location.search);
  for (const key of keys) query.delete(key);
  for (const [key, value] of new URLSearchParams(toQuery(state, defaults, written))) query.set(key, value);
  const text = query.toString();
  return location.pathname + (text ? `?${text}` : "");
}

/* Restore the state from the address, then keep the address up to date. derived(state): the keys
   whose values follow from others (an interpolation end named as a test digit), left out of it.
   Returns link(): the address of the view shown, in full. */
export function followAddress(page, tabs, derived) {
  const { store, config } = page;
  store.set(fromAddress(location, config.defaults, config.saved, tabs), "address");
  const addressFor = (state) => addressOf(location, state, config.defaults, config.saved,
    config.saved.filter((key) => !derived(state).includes(key)));
  let timer = null;
  const write = () => {
    timer = null;
    const next = addressFor(store.get());
    if (next !== location.pathname + location.search || location.hash) history.replaceState(history.state, "", next);
  };
  store.subscribe((state, changed) => {
    if (timer === null && changed.some((key) => config.saved.includes(key))) timer = setTimeout(write, QUIET_MS);
  });
  if (location.hash || location.search) write();
  return () => new URL(addressFor(store.get()), location.href).href;
}

/* Copy the address of the view shown; where the clipboard is refused (a page served over plain
   http to another machine), select it in a box for the person to copy. Returns what to say. */
export async function copyLink(link, box) {
  try {
    await navigator.clipboard.writeText(link);
    box.hidden = true;
    return "Link copied.";
  } catch {
    box.hidden = false;
    box.value = link;
    box.select();
    return "Copy this link:";
  }
}
