/* A picker's thumbnails: the first test digits in a sheet, the ones the state picks outlined
   (and lettered, as props.letters say). A click picks the digit under the pointer; from the
   keyboard, the arrow keys move a dashed cursor and Enter or Space picks the digit under it,
   which the canvas's label names.

   props.marks: the state's keys of the picked digits (["interp_pick_a", "interp_pick_b"]);
   props.choose: the key naming which of them a click sets, by its letter (optional). */
import { canvasPoint, text } from "./draw.js";
import { clamp } from "./latent.js";

const COLS = 20, CELL = 30;
const cellCorner = (i) => [(i % COLS) * CELL, Math.floor(i / COLS) * CELL];

export function sheet(page, element, props, name) {
  const { store } = page, canvas = element.querySelector("canvas"), ctx = canvas.getContext("2d");
  const letters = props.letters || [];
  let picture = null, labels = null, count = 0, cursor = null;  // cursor: the digit the keyboard is on
  const picked = () => props.marks.map((key, k) => [store.get()[key], letters[k]]).filter(([i]) => typeof i === "number");
  const pick = (i) => {
    const which = props.choose ? Math.max(0, letters.indexOf(store.get()[props.choose])) : 0;
    store.set({ [props.marks[which]]: i }, "mark");
  };
  const cellAt = (e) => {
    const [x, y] = canvasPoint(canvas, e), i = Math.floor(y / CELL) * COLS + Math.floor(x / CELL);
    return x >= 0 && y >= 0 && x < canvas.width && i < count ? i : null;
  };
  const outline = (i, colour, dash) => {
    const [left, top] = cellCorner(i);
    ctx.setLineDash(dash); ctx.strokeStyle = colour; ctx.lineWidth = 2;
    ctx.strokeRect(left + 1, top + 1, CELL - 2, CELL - 2);
    ctx.setLineDash([]);
    return [left, top];
  };
  const paint = (key) => {
    if (!picture) return;
    ctx.putImageData(picture, 0, 0);
    for (const [index, letter] of picked()) {
      const [left, top] = outline(index, "rgb(230,80,20)", []);
      if (letter) text(ctx, page.style, letter, left + 3, top + 2, 10, "left", "top", [255, 170, 60]);
    }
    if (cursor !== null && document.activeElement === canvas) outline(cursor, "rgb(80,160,255)", [3, 2]);
    page.painted(name, key);
  };
  page.models.points(store.get().model).then((points) => {  // the test digits are the same whatever the model
    if (!points) return;
    labels = points.labels; count = points.images.length / 784;
    canvas.width = COLS * CELL; canvas.height = Math.ceil(count / COLS) * CELL;
    picture = ctx.createImageData(canvas.width, canvas.height);
    picture.data.fill(255);
    for (let i = 0; i < count; i++) {
      const [left, top] = cellCorner(i);
      for (let p = 0; p < 784; p++) {  // each digit one pixel in from its cell's corner
        const v = points.images[784 * i + p], at = 4 * ((top + 1 + Math.floor(p / 28)) * canvas.width + left + 1 + (p % 28));
        picture.data[at] = picture.data[at + 1] = picture.data[at + 2] = v;
      }
    }
    paint("load");
  });
  page.watch(props.marks, () => paint("mark"));
  canvas.addEventListener("click", (e) => { const i = cellAt(e); if (i !== null) pick(i); });
  canvas.tabIndex = 0;
  const moveTo = (i) => {
    cursor = clamp(i, 0, count - 1);
    canvas.setAttribute("aria-label", `test digit #${cursor} (a ${labels[cursor]}): Enter picks it`);
    paint("cursor");
  };
  canvas.addEventListener("focus", () => { if (picture) moveTo(cursor ?? (picked().length ? picked()[0][0] : 0)); });
  canvas.addEventListener("blur", () => paint("cursor"));
  canvas.addEventListener("keydown", (e) => {
    const moves = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -COLS, ArrowDown: COLS };
    if (!picture || cursor === null) return;
    if (moves[e.key]) { e.preventDefault(); moveTo(cursor + moves[e.key]); }
    else if (e.key === "Enter" || e.key === " ") { e.preventDefault(); pick(cursor); }
  });
  canvas.addEventListener("pointermove", (e) => {
    const i = cellAt(e);
    canvas.title = i === null ? "" : `test digit #${i} (a ${labels[i]}): click to pick it`;
  });
}
