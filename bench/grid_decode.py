"""How long the page's two decoders take for a manifold grid's points, in headless Chromium.

    python bench/grid_decode.py            # n = 20 and 30
    python bench/grid_decode.py --n 10 20

Serves the app in this process, opens a page of it and times, in the page, decoder.js's Decoder
(plain JavaScript, one run) and decoder-gl.js's GLDecoder (WebGL2, five runs after the first) on
the n x n points of a grid, and the largest difference between the two in levels of 255. Here
WebGL2 is SwiftShader, on the processor, which the app refuses (docs/benchmarks.md); this bench
uses it anyway, to show why. On a machine with a graphics card, run it in a browser that has one.
"""
import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from explorer import models  # noqa: E402
from explorer.browser import launch, serve_app  # noqa: E402

TIME = """async ([decoderJs, glJs, packJs, packUrl, sizes]) => {
  const { Decoder } = await import(decoderJs), { GLDecoder } = await import(glJs), { fetchPack } = await import(packJs);
  const js = new Decoder(await fetchPack(packUrl)), gl = new GLDecoder(js), out = {};
  for (const n of sizes) {
    const z = [];
    for (let i = 0; i < n * n; i++) z.push(-3 + (6 * (i % n)) / (n - 1), 3 - (6 * Math.floor(i / n)) / (n - 1));
    let t = performance.now();
    const plain = js.decode(z, n * n), jsMs = performance.now() - t;
    await gl.decode(z, n * n);  // the first run compiles and uploads
    const glMs = [];
    let card;
    for (let r = 0; r < 5; r++) { t = performance.now(); card = await gl.decode(z, n * n); glMs.push(performance.now() - t); }
    let worst = 0;
    plain.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - card[i])); });
    out[n] = { jsMs, glMs, worst };
  }
  const info = window.__getExtension.call(gl.gl, "WEBGL_debug_renderer_info");
  return { renderer: info ? gl.gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : "unknown", sizes: out };
}"""

# The app refuses WebGL2 on the processor by its renderer's name: hidden here, so that the bench can time it.
HIDE_RENDERER = """const getExtension = window.__getExtension = WebGL2RenderingContext.prototype.getExtension;
WebGL2RenderingContext.prototype.getExtension = function (name) {
  return name === 'WEBGL_debug_renderer_info' ? null : getExtension.call(this, name); };"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, nargs="+", default=[20, 30], help="grid sizes (n x n points)")
    args = p.parse_args()
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from playwright.sync_api import sync_playwright

    url = serve_app()
    file = lambda path: f"{url}gradio_api/file={path}"  # noqa: E731
    modules = [file(models.PAGE_MODULES[name]) for name in ("decoder", "decoder-gl", "pack")]
    with sync_playwright() as pw:
        browser = launch(pw)
        page = browser.new_page()
        page.add_init_script(HIDE_RENDERER)
        page.goto(url + "gradio_api/info", wait_until="load")
        result = page.evaluate(TIME, [*modules, file(models.DEFAULT.assets["decoder"]), args.n])
        browser.close()
    print(f"WebGL2 renderer: {result['renderer']}")
    for n, r in result["sizes"].items():
        gl = sorted(r["glMs"])
        print(f"  {n}x{n} grid: JavaScript {r['jsMs']:7.0f} ms   WebGL2 median {gl[2]:7.1f} ms (min {gl[0]:.1f})   "
              f"largest difference {r['worst']}/255")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
