/* The keyboard: every view the page draws takes the focus and answers the arrow keys, and a
   slider's arrow keys move it in steps a person can use (crossing a z slider 0.01 a press would
   take 900 presses). */
import { clamp, round2 } from "./latent.js";

const ARROWS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
const FINE = 0.1, COARSE = 1;  // a z slider's arrow-key steps, without and with Shift

/* Arrow keys on a focused view call move(dx, dy, shift), dx and dy in {-1, 0, 1}; other keys call
   more[key](), if given ("+", "-", " " ...). */
export function viewKeys(element, move, more = {}) {
  element.tabIndex = 0;
  element.addEventListener("keydown", (e) => {
    const arrow = ARROWS[e.key], other = more[e.key];
    if (!arrow && !other) return;
    e.preventDefault();
    if (arrow) move(arrow[0], arrow[1], e.shiftKey); else other();
  });
}

/* How far an arrow key moves a point of the latent plane. */
export const latentStep = (shift) => (shift ? COARSE : FINE);

/* The step an arrow key moves a slider of step `step`: latentStep where the slider steps finer
   than FINE, else one step (ten with Shift). */
export function sliderStep(step, shift) {
  if (step < FINE) return latentStep(shift);
  return shift ? 10 * step : step;
}

/* Arrow keys on a focused view move the point current() gives by latentStep, within ±half: the
   maps and the digit work without a mouse. */
export function pointKeys(element, half, current, set) {
  viewKeys(element, (dx, dy, shift) => {
    const step = latentStep(shift), z = current();
    set([clamp(round2(z[0] + step * dx), -half, half), clamp(round2(z[1] + step * dy), -half, half)]);
  });
}

/* Left and right arrows on a focused view step the state's `key` down and up by one (the store
   keeps it within its range); other keys as viewKeys' `more`. */
export function stepKeys(element, store, key, more = {}) {
  viewKeys(element, (dx) => { if (dx) store.set({ [key]: store.get()[key] + dx }, "key"); }, more);
}

/* Arrow keys on any range input of the page move it by sliderStep, then tell Gradio as a drag would. */
export function sliderKeys(root) {
  root.addEventListener("keydown", (e) => {
    const input = e.target, arrow = ARROWS[e.key];
    if (!(input instanceof HTMLInputElement) || input.type !== "range" || !arrow) return;
    e.preventDefault();
    const step = parseFloat(input.step) || 1, lo = parseFloat(input.min), hi = parseFloat(input.max);
    const moved = parseFloat(input.value) + (arrow[0] + arrow[1]) * sliderStep(step, e.shiftKey);
    const value = Math.min(hi, Math.max(lo, Math.round(moved / step) * step));
    input.value = String(Number(value.toFixed(6)));
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }, true);
}
