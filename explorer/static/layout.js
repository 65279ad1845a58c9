/* The views' size: each fitted view grows with the window and stays wholly in view below what is
   above it, so that on a projector (1280x720) the Explorer's map, its digit and both sliders
   show without scrolling, and at 1920x1080 the map and the grid take the room there is. Each
   view the page draws can also go full screen. */
const MIN_HEIGHT = 160;  // px; below this a view is too small to use, and the page scrolls instead
const BOTTOM = 8;  // px left free under a view

/* Size the fitted canvases: a canvas whose view names `below` (a selector) keeps that element in
   view under it too (the Explorer's digit keeps both sliders). The size reaches CSS as --vae-fit (a width);
   --vae-aspect lets full screen keep the canvas's proportions. */
function fit(views) {
  for (const { canvas, below } of views) {
    if (!canvas.width || !canvas.height) continue;
    const aspect = canvas.width / canvas.height;
    canvas.style.setProperty("--vae-aspect", String(aspect));
    const box = canvas.getBoundingClientRect();
    if (!box.height) continue;  // on a tab not shown
    const keep = below && document.querySelector(below);
    const under = keep ? keep.getBoundingClientRect().bottom - box.bottom : 0, top = box.top + scrollY;
    if (top > innerHeight / 2) { canvas.style.removeProperty("--vae-fit"); continue; }  // a phone: the page scrolls to it anyway
    const height = Math.max(MIN_HEIGHT, innerHeight - top - under - BOTTOM);
    const width = `${Math.round(height * aspect)}px`;
    if (canvas.style.getPropertyValue("--vae-fit") !== width) canvas.style.setProperty("--vae-fit", width);
  }
}

/* Keep the views fitted as the window, the page above them (an accordion opened) or a tab changes. */
export function fitViews() {
  const views = [];
  const again = () => fit(views);
  new ResizeObserver(again).observe(document.body);
  addEventListener("resize", again);
  return {
    /* Fit `canvas`; `below`: the selector of an element under it that should stay in view with it. */
    add(canvas, below = null) {
      views.push({ canvas, below });
      new MutationObserver(again).observe(canvas, { attributes: true, attributeFilter: ["width", "height"] });
      again();
    },
  };
}

const CORNERS = { enter: "M1 5V1h4M11 1h4v4M15 11v4h-4M5 15H1v-4", leave: "M5 1v4H1M15 5h-4V1M11 15v-4h4M1 11h4v4" };
const icon = (path) => `<svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true"><path d="${path}" fill="none" stroke="currentColor" stroke-width="2"/></svg>`;

/* A button that shows the view full screen (Esc, or the button again, leaves): beside its first
   canvas's top-right corner where the column has room, else in the canvas's bottom-right corner,
   where the maps' legends and titles are not. */
export function fullScreenButton(element) {
  if (!document.fullscreenEnabled) return;
  const canvas = element.querySelector("canvas"), button = document.createElement("button");
  button.className = "vae-full";
  button.type = "button";
  const label = () => {
    const on = document.fullscreenElement === element;
    button.innerHTML = icon(on ? CORNERS.leave : CORNERS.enter);
    button.title = on ? "Leave full screen" : "Full screen";
    button.setAttribute("aria-label", button.title);
  };
  const place = () => {
    const right = canvas.offsetLeft + canvas.offsetWidth, size = button.offsetWidth, beside = element.clientWidth - right >= size + 4;
    button.style.left = `${beside ? right + 4 : right - size - 4}px`;
    button.style.top = `${beside ? canvas.offsetTop : canvas.offsetTop + canvas.offsetHeight - size - 4}px`;
  };
  button.addEventListener("click", () => {
    if (document.fullscreenElement === element) return document.exitFullscreen();
    for (const c of element.querySelectorAll("canvas")) c.style.setProperty("--vae-aspect", String(c.width / c.height));
    return element.requestFullscreen();
  });
  document.addEventListener("fullscreenchange", label);
  label();
  element.classList.add("vae-view");
  element.append(button);
  const watch = new ResizeObserver(place);
  watch.observe(canvas);
  watch.observe(element);
}
