/* The drawing pad: black strokes on a transparent square canvas (white behind it on the page),
   drawn by any pointer: mouse, pen or finger. When the pen lifts, and after undo or clear, the
   drawing becomes the view's value, one small PNG as a data URL ("" when the pad is empty), and
   Gradio's change event of the view sends it to the server's reconstruction (app.py). */
import { canvasPoint, dot } from "./draw.js";

const SIZE = 280, WIDTHS = { thin: 8, medium: 16, wide: 28 };

export function pad(page, element, props) {
  const canvas = element.querySelector("canvas"), ctx = canvas.getContext("2d");
  canvas.width = canvas.height = SIZE;
  let strokes = [], current = null, width = WIDTHS.medium;
  function line(stroke) {
    ctx.strokeStyle = ctx.fillStyle = "black";
    ctx.lineWidth = stroke.width; ctx.lineCap = ctx.lineJoin = "round";
    const [first, ...rest] = stroke.points;
    if (!rest.length) { dot(ctx, first[0], first[1], stroke.width / 2, "black"); return; }
    ctx.beginPath(); ctx.moveTo(...first);
    for (const p of rest) ctx.lineTo(...p);
    ctx.stroke();
  }
  const redraw = () => { ctx.clearRect(0, 0, canvas.width, canvas.height); strokes.forEach(line); };
  const send = () => { props.value = strokes.length ? canvas.toDataURL("image/png") : ""; };
  canvas.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    canvas.setPointerCapture(e.pointerId);
    current = { width, points: [canvasPoint(canvas, e)] };
    strokes.push(current);
    line(current);
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!current) return;
    for (const event of e.getCoalescedEvents ? e.getCoalescedEvents() : [e]) {
      const p = canvasPoint(canvas, event);
      line({ width: current.width, points: [current.points[current.points.length - 1], p] });
      current.points.push(p);
    }
  });
  const lift = () => { if (current) { current = null; send(); } };
  canvas.addEventListener("pointerup", lift);
  canvas.addEventListener("pointercancel", lift);
  for (const button of element.querySelectorAll("button[data-width]")) {
    button.addEventListener("click", () => {
      width = WIDTHS[button.dataset.width];
      for (const b of element.querySelectorAll("button[data-width]")) b.setAttribute("aria-pressed", String(b === button));
    });
  }
  element.querySelector("button[data-act=undo]").addEventListener("click", () => { if (strokes.pop()) { redraw(); send(); } });
  element.querySelector("button[data-act=clear]").addEventListener("click", () => { if (strokes.length) { strokes = []; redraw(); send(); } });
}
