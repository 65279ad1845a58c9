"""The app in a real browser: Debian's chromium, driven by Playwright, against the app
served on loopback (the `app_url` fixture of conftest.py).

The page decodes as the server does (1,000 points, every pixel within 1/255); dragging a
slider, hovering the map and panning the grid change the pictures with no request, and
they show what the server's model decodes; the page falls back to the server when its
decoder cannot load. A user uploads a photo of a digit and gets its reconstruction,
clicks the manifold grid and it recentres, and moves L and K in the ELBO anatomy tab and
the numbers change. The command that regenerates the
README's screenshot photographs every tab with output (into a temporary folder here).
Skips when /usr/bin/chromium is absent (CI installs it).
"""
import base64
import io
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
import pytest
from PIL import Image

from explorer import api, assets, events, models, text
from explorer.browser import ARGS, CHROMIUM, RECORD_PAINTS
from pictures import photo_of
from vae import draw, latent

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 30_000  # ms; generous, the machine is shared

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (apt-get install chromium; .ci/run does)")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, app_url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(TIMEOUT)
    page.add_init_script(RECORD_PAINTS)
    page.goto(app_url)
    drawn(page, "explorer_digit")
    page.wait_for_function("() => document.querySelector('#explorer_digit canvas').width === 28")  # decoded in the page
    yield page
    page.close()


def drawn(page, view: str, key: str | None = None, after: int = 0) -> int:
    """Wait until the page has drawn `view` (for `key` if given) as its paint number > after; return the count of paints."""
    page.wait_for_function("([view, key, after]) => window.__paints.length > after &&"
                           " window.__paints.slice(after).some(p => p.view === view && (!key || p.key === key))",
                           arg=[view, key, after])
    return paints(page)


def paints(page) -> int:
    return page.evaluate("() => window.__paints.length")


def canvas(page, elem_id: str) -> np.ndarray:
    """The grey levels of the canvas in #elem_id, as drawn (height x width)."""
    return canvas_at(page, f"#{elem_id} canvas")


def canvas_at(page, selector: str) -> np.ndarray:
    """The grey levels of the canvas `selector` (the first, where a view has several), as drawn (height x width)."""
    width, height, data = page.evaluate("""(sel) => {
        const c = document.querySelector(sel), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let s = ''; for (let i = 0; i < d.length; i += 4) s += String.fromCharCode(d[i]);
        return [c.width, c.height, btoa(s)]; }""", selector)
    return np.frombuffer(base64.b64decode(data), dtype=np.uint8).reshape(height, width)


def server_digit(z1: float, z2: float) -> np.ndarray:
    """What the server's model (float32) decodes at z, as uint8 28x28."""
    return latent.decode_images(models.DEFAULT.model, [[z1, z2]])[0]


def caption_z(page) -> tuple[float, float]:
    text = page.locator("#explorer_digit .vae-caption").inner_text()
    z1, z2 = text.split("(")[1].split(")")[0].split(",")
    return float(z1), float(z2)


def point_at(page, elem_id: str, x: float, y: float) -> tuple[float, float]:
    """Where on the screen pixel (x, y) of the canvas in #elem_id is shown (canvases are scaled to fit)."""
    page.locator(f"#{elem_id} canvas").first.scroll_into_view_if_needed()
    box = page.locator(f"#{elem_id} canvas").bounding_box()
    size = page.evaluate("(id) => { const c = document.querySelector(`#${id} canvas`); return [c.width, c.height]; }", elem_id)
    return box["x"] + x * box["width"] / size[0], box["y"] + y * box["height"] / size[1]


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()


def src(page, elem_id: str) -> str:
    return page.locator(f"#{elem_id} img").first.get_attribute("src")


def wait_for_new_image(page, elem_id: str, old: str | None) -> str:
    """Wait until the image in #elem_id has a source other than `old` and has loaded; return the source."""
    page.wait_for_function("([id, old]) => { const img = document.querySelector(`#${id} img`);"
                           " return img && img.src && img.src !== old && img.complete && img.naturalWidth > 0; }",
                           arg=[elem_id, old])
    return src(page, elem_id)


def fetch(page, url: str) -> np.ndarray:
    """The image the page shows, fetched as the browser does."""
    response = page.request.get(url)
    assert response.ok, url
    return np.asarray(Image.open(io.BytesIO(response.body())).convert("L"))


def drag(page, elem_id: str, dx: float) -> None:
    """Press the slider's thumb (at its current value) and drag it dx pixels, as a user does."""
    slider = page.locator(f"#{elem_id} input[type=range]")
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    lo, hi = float(slider.get_attribute("min")), float(slider.get_attribute("max"))
    x = box["x"] + box["width"] * (float(slider.input_value()) - lo) / (hi - lo)
    y = box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y, steps=8)
    page.mouse.up()


def number(page, elem_id: str) -> float:
    return float(page.locator(f"#{elem_id} input[type=number]").input_value())


def wait_for_number(page, elem_id: str, value: float) -> None:
    page.wait_for_function("([id, v]) => parseFloat(document.querySelector(`#${id} input[type=number]`).value) === v", arg=[elem_id, value])


def test_the_page_decodes_1000_points_as_the_server_does(page):
    z = np.random.default_rng(0).uniform(-6, 6, (1000, 2))
    mode, data = page.evaluate("""async (z) => {
        const engine = await VAEPage.engine(), pixels = engine.decoder.decode(z.flat(), z.length);
        let s = ''; for (const v of pixels) s += String.fromCharCode(v);
        return [engine.mode, btoa(s)]; }""", z.tolist())
    assert mode == "page"
    mine = np.frombuffer(base64.b64decode(data), dtype=np.uint8).reshape(1000, 28, 28).astype(int)
    assert np.abs(mine - latent.decode_images(models.DEFAULT.model, z)).max() <= 1


def test_dragging_hovering_and_panning_draw_the_servers_digits_with_no_request(page):
    requests = []  # fonts aside: the formulas' fonts load when a tab first shows them
    page.on("request", lambda r: requests.append(r.url) if r.resource_type != "font" else None)
    before = canvas(page, "explorer_digit")

    count = paints(page)
    drag(page, "z1", 120)
    z1, z2 = number(page, "z1"), number(page, "z2")
    assert z1 > 0.5
    page.wait_for_function("(z) => document.querySelector('#explorer_digit .vae-caption').innerText.includes(z)", arg=f"{z1:.2f}")
    assert paints(page) > count + 2, "the digit and the marker follow the drag"
    shown = canvas(page, "explorer_digit")
    assert np.abs(shown.astype(int) - before).mean() > 2
    assert np.abs(shown.astype(int) - server_digit(z1, z2)).max() <= 1

    page.mouse.move(*point_at(page, "explorer_map", *models.MAP.z_to_px(np.array([-2.0, 1.0]))), steps=5)
    page.wait_for_function("() => document.querySelector('#explorer_digit .vae-caption').innerText.includes('hovering')")
    hovered = caption_z(page)
    assert hovered == pytest.approx((-2.0, 1.0), abs=0.05)
    assert np.abs(canvas(page, "explorer_digit").astype(int) - server_digit(*hovered)).max() <= 1
    assert (number(page, "z1"), number(page, "z2")) == (z1, z2), "hovering previews; it does not move the sliders"
    assert requests == [], requests

    open_tab(page, "Manifold")
    assert "its WebGL2 runs on the processor (ANGLE (Google, Vulkan" in page.evaluate("() => VAEPage.gridReason()")
    drawn(page, "grid", "sharp")
    grid_before, requests[:] = canvas(page, "grid"), []
    x, y = point_at(page, "grid", 330, 330)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 90, y + 40, steps=6)
    moved = canvas(page, "grid")
    assert np.abs(moved.astype(int) - grid_before).mean() > 5, "the grid moves with the pointer"
    assert requests == [], requests
    count = paints(page)
    page.mouse.up()
    drawn(page, "grid", "sharp", after=count)
    window = [number(page, e) for e in ("grid_z1", "grid_z2", "grid_span")]
    assert window[0] > 0.3 and window[1] > 0.1 and window[2] == 6.0
    assert page.get_attribute("#grid canvas", "data-drawn-by") == "server"
    np.testing.assert_array_equal(canvas(page, "grid"), np.asarray(api.grid(*window, 20, "linear")))
    assert all("/gradio_api/call/grid" in u or "/gradio_api/file=" in u for u in requests), requests


def assert_same_grid(shown: np.ndarray, server: np.ndarray, n: int) -> None:
    """The page's grid is the server's: the same size, every cell's pixels within 1/255, ticks in the same places."""
    assert shown.shape == server.shape
    layout = draw.grid_layout(n)
    size = n * layout.cell + (n - 1) * layout.gap
    cells = np.s_[layout.top:layout.top + size, layout.left:layout.left + size]
    assert np.abs(shown[cells].astype(int) - server[cells]).max() <= 1
    below, left = np.s_[layout.top + size + 2, layout.left:layout.left + size], np.s_[layout.top:layout.top + size, layout.left - 3]
    for row in (below, left):  # the tick marks, where the server's are (the canvas smooths a line over two pixels)
        page_ticks, server_ticks = dark_runs(shown[row]), dark_runs(server[row])
        assert len(page_ticks) == len(server_ticks) == math.ceil(n / math.ceil(n / 8))
        assert np.abs(np.subtract(page_ticks, server_ticks)).max() <= 1


def dark_runs(line: np.ndarray) -> list[float]:
    """The middles of the runs of dark pixels along a line of grey levels."""
    dark = np.flatnonzero(line < 240)
    return [run.mean() for run in np.split(dark, np.flatnonzero(np.diff(dark) > 1) + 1) if len(run)]


# WebGL2 here is SwiftShader, on the processor, which the page refuses by its name as too slow; this
# script hides the name, as some browsers do, so that the page decodes on it as on a graphics card.
SOFTWARE_CARD = """const getExtension = WebGL2RenderingContext.prototype.getExtension;
WebGL2RenderingContext.prototype.getExtension = function (name) {
  return name === 'WEBGL_debug_renderer_info' ? null : getExtension.call(this, name); };"""


def test_a_graphics_card_draws_the_sharp_grid_as_the_server_does(browser, app_url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(TIMEOUT)
    page.add_init_script(RECORD_PAINTS + SOFTWARE_CARD)
    page.goto(app_url + "?tab=manifold&grid_n=16&grid_spacing=cdf")
    drawn(page, "grid", "sharp")
    assert page.evaluate("() => VAEPage.gridReason()") is None
    requests = []
    page.on("request", lambda r: requests.append(r.url) if r.resource_type != "font" else None)
    count = paints(page)
    page.evaluate("() => VAEPage.gridMove(1, -1, 1)")  # a quarter span right and down, zoomed out a step
    drawn(page, "grid", "sharp", after=count)
    window = [number(page, e) for e in ("grid_z1", "grid_z2", "grid_span")]
    assert window[2] == 9.0
    assert page.get_attribute("#grid canvas", "data-drawn-by") == "page"
    # The server's float32 decode: its /grid draws with latent.display_decoder's copy, in bfloat16
    # on processors where that is faster, a few levels of 255 away.
    cols, rows, points = latent.grid_points(*window, 16, "cdf")
    server = draw.render_grid(latent.decode_images(models.DEFAULT.model, points), cols, rows)
    assert_same_grid(canvas(page, "grid"), np.asarray(server), 16)
    assert requests == [], "the page decodes the grid: no request"
    page.close()


def test_samples_and_interpolation_are_drawn_in_the_page_as_the_server_decodes_them(page):
    requests = []
    page.on("request", lambda r: requests.append(r.url) if r.resource_type != "font" else None)  # the formulas' fonts aside
    z = page.evaluate("() => [0, 1, 2, 99].map(i => VAEPage.priorSample(4000000000, i))")
    np.testing.assert_allclose(z, latent.prior_samples(100, 4_000_000_000).numpy()[[0, 1, 2, 99]], atol=1e-6)

    open_tab(page, "Sample & interpolate")
    count = paints(page)
    page.locator("#samples_seed input").fill("7")
    page.locator("#samples_seed input").press("Enter")
    drawn(page, "samples", after=count)
    drawn(page, "samples_map", after=count)
    sheet = draw.sample_sheet(latent.decode_images(models.DEFAULT.model, latent.prior_samples(36, 7)))
    assert np.abs(canvas(page, "samples").astype(int) - sheet).max() <= 1

    count = paints(page)
    drag(page, "interp_b1", -60)
    drawn(page, "interp", after=count)
    ends = [number(page, e) for e in ("interp_a1", "interp_a2", "interp_b1", "interp_b2")]
    page.wait_for_timeout(300)
    strip = draw.strip(latent.decode_images(models.DEFAULT.model, latent.interpolation_points(ends[:2], ends[2:], 10)))
    assert np.abs(canvas(page, "interp").astype(int) - strip).max() <= 1
    assert requests == [], requests


def test_a_page_that_cannot_load_the_decoder_says_so_and_asks_the_server(browser, app_url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(TIMEOUT)
    page.add_init_script(RECORD_PAINTS)
    page.route("**/decoder-*.bin", lambda route: route.abort())
    page.goto(app_url)
    page.wait_for_function("() => (document.querySelector('.vae-mode')?.innerText || '').includes('could not run the decoder')")
    drawn(page, "explorer_digit")
    count = paints(page)
    drag(page, "z1", 120)
    z1, z2 = number(page, "z1"), number(page, "z2")
    page.wait_for_function("(z) => document.querySelector('#explorer_digit .vae-caption').innerText.includes(z)", arg=f"{z1:.2f}")
    drawn(page, "explorer_digit", after=count)
    page.wait_for_timeout(500)  # the newest of the answers
    shown = canvas(page, "explorer_digit")[::api.DIGIT_SCALE, ::api.DIGIT_SCALE]  # the server's picture, 4x enlarged
    np.testing.assert_array_equal(shown, api.decode(z1, z2)[::api.DIGIT_SCALE, ::api.DIGIT_SCALE])
    page.close()


def test_asking_for_the_server_path_and_reloading_fetches_no_file_again(browser, app_url):
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT)
    page.add_init_script(RECORD_PAINTS)
    page.goto(app_url + "?decode=server")
    page.wait_for_function("() => (document.querySelector('.vae-mode')?.innerText || '').includes('?decode=server')")
    page.goto(app_url)
    drawn(page, "explorer_digit")
    page.reload()
    drawn(page, "explorer_digit")
    page.wait_for_function("() => performance.getEntriesByType('resource').filter(e => e.name.includes('decoder-')).length > 0")
    sizes = page.evaluate("() => performance.getEntriesByType('resource').filter(e => /-[0-9a-f]{16}[.](bin|js)$/.test(e.name))"
                          ".map(e => [e.name.split('/').pop(), e.transferSize])")
    names = {name.rsplit("-", 1)[0] for name, _ in sizes}
    assert {"decoder", "points", "page"} | {path.stem for path in assets.STATIC.glob("*.js")} <= names, names
    assert all(size == 0 for _, size in sizes), sizes  # 0 bytes over the wire: from the cache
    page.close()


def test_uploading_a_photo_shows_its_reconstruction(page, tmp_path):
    photo = tmp_path / "digit.jpg"
    photo.write_bytes(photo_of(models.test_images[3]))
    open_tab(page, "Reconstruct")
    open_tab(page, "Upload / paste / webcam")
    page.locator("#upload input[type=file]").set_input_files(str(photo))

    prepared = fetch(page, wait_for_new_image(page, "prepared", None))
    reconstruction = fetch(page, wait_for_new_image(page, "reconstruction", None))
    assert prepared.mean() < 100 and prepared.max() > 200, "the encoder sees bright ink on black, as in MNIST"
    # The photo's reconstruction looks like the clean digit's.
    clean = api.reconstruction_of(models.test_images[3])[1]
    assert reconstruction.shape == clean.shape
    assert np.corrcoef(reconstruction.ravel(), clean.ravel())[0, 1] > 0.8
    # q(z|x) as numbers, whole on the page: no JSON to scroll, sigma not cut off
    page.wait_for_function("() => document.querySelector('#posterior').innerText.includes('standard deviation')")
    shown = page.locator("#posterior").inner_text()
    assert "mean" in shown and shown.count("(") >= 2
    box = page.locator("#posterior").bounding_box()
    assert page.evaluate("() => { const e = document.querySelector('#posterior'); return e.scrollHeight <= e.clientHeight + 1 && e.scrollWidth <= e.clientWidth + 1; }")
    assert box["height"] < 120


def test_clicking_the_grid_recentres_it(page):
    open_tab(page, "Manifold")
    count = drawn(page, "grid", "sharp")
    page.mouse.click(*point_at(page, "grid", 52 + 0.15 * 580, 36 + 0.15 * 580))  # a cell up and to the left
    drawn(page, "grid", "sharp", after=count)
    assert number(page, "grid_z1") < -1 and number(page, "grid_z2") > 1


def test_elbo_numbers_follow_digit_L_and_K(page):
    open_tab(page, "ELBO anatomy")
    numbers = page.locator("#elbo_numbers")

    def changed(old: str) -> str:
        page.wait_for_function("([old]) => { const t = document.querySelector('#elbo_numbers').innerText;"
                               " return t !== old && !t.includes('Computing'); }", arg=[old])
        return numbers.inner_text()

    shown = changed("")
    assert "ELBO" in shown

    page.locator("#elbo_digit input").click()
    page.get_by_role("option", name="test digit #7 (").first.click()
    shown = changed(shown)

    drag(page, "elbo_L", 60)
    assert number(page, "elbo_L") > 10
    shown = changed(shown)

    drag(page, "elbo_K", -150)
    assert number(page, "elbo_K") < 1000
    changed(shown)


def test_the_screenshot_command_photographs_every_tab(app_url, tmp_path):
    """`python docs/screenshot.py` (here against the test's server, into a temporary file): every tab
    shows output, on the desktop and on a phone (and the first two on a projector and in dark mode),
    or the command fails naming the blank ones."""
    out = tmp_path / "screenshot.png"
    run = subprocess.run([sys.executable, str(ROOT / "docs" / "screenshot.py"), "--url", app_url, "--out", str(out)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    sheet = np.asarray(Image.open(out))
    assert sheet.shape == (4 * 500, 2 * 700, 3)  # seven 1400x1000 tabs at half size, two to a row
    for i in range(7):
        row, col = divmod(i, 2)
        assert sheet[row * 500:(row + 1) * 500, col * 700:(col + 1) * 700].std() > 20, (row, col)
    phone = np.asarray(Image.open(tmp_path / "screenshot-phone.png"))
    assert phone.shape == (844, 7 * 390, 3)  # the seven tabs on a 390x844 phone, side by side
    for col in range(7):
        assert phone[:, col * 390:(col + 1) * 390].std() > 20, col
    projector, dark = np.asarray(Image.open(tmp_path / "screenshot-projector.png")), np.asarray(Image.open(tmp_path / "screenshot-dark.png"))
    assert projector.shape == (360, 2 * 640, 3) and dark.shape == (500, 2 * 700, 3)  # the Explorer and the Manifold, at half size
    assert dark.mean() < 100 < sheet.mean(), "the dark picture is the page in dark mode"


def click_map_at(page, elem_id: str, x: float, y: float) -> None:
    """Click a latent map where pixel (x, y) of its picture is shown."""
    page.mouse.click(*point_at(page, elem_id, x, y))


def picker_text(page, elem_id: str) -> str:
    return page.locator(f"#{elem_id} input").input_value()


def test_a_click_on_the_legend_moves_nothing_and_a_click_on_the_plot_does(page):
    left, top, right, bottom = models.MAP.box
    count = paints(page)
    click_map_at(page, "explorer_map", right + 30, top + 40)  # the legend's "1"
    x, y = models.MAP.z_to_px(np.array([2.0, -1.0]))
    click_map_at(page, "explorer_map", x, y)
    page.wait_for_function("() => parseFloat(document.querySelector('#z1 input[type=number]').value) > 1.5")
    assert number(page, "z1") == pytest.approx(2.0, abs=0.1) and number(page, "z2") == pytest.approx(-1.0, abs=0.1)
    set_by_clicks = page.evaluate("(n) => window.__paints.slice(n).filter(p => p.view === 'explorer_map' && p.key === 'map').length", count)
    assert set_by_clicks == 1, "of the two clicks, only the one on the plot set z"


def test_pickers_do_not_name_a_test_digit_that_is_no_longer_shown(page, tmp_path):
    open_tab(page, "Sample & interpolate")
    assert picker_text(page, "interp_pick_b").startswith("test digit #1")
    page.locator("#interp_click_sets").get_by_text("B", exact=True).click()
    x, y = models.MAP.z_to_px(np.array([-2.0, 2.0]))
    click_map_at(page, "interp_map", x, y)
    page.wait_for_function("() => document.querySelector('#interp_pick_b input').value === ''")
    assert number(page, "interp_b1") == pytest.approx(-2.0, abs=0.1)
    assert picker_text(page, "interp_pick_a").startswith("test digit #0"), "A did not move"

    drag(page, "interp_a1", 40)  # moving A by hand: A no longer is test digit #0
    page.wait_for_function("() => document.querySelector('#interp_pick_a input').value === ''")

    open_tab(page, "ELBO anatomy")
    page.wait_for_function("() => document.querySelector('#elbo_digit input').value.startsWith('test digit #0')")
    photo = tmp_path / "digit.jpg"
    photo.write_bytes(photo_of(models.test_images[5]))
    page.locator("#elbo_upload input[type=file]").set_input_files(str(photo))
    page.wait_for_function("() => document.querySelector('#elbo_digit input').value === ''")


def test_zooming_the_manifold_out_says_where_digits_end(page):
    open_tab(page, "Manifold")
    assert page.locator("#grid .vae-note").inner_text().strip() == ""
    page.locator("#zoom_out").click()
    page.wait_for_function("() => document.querySelector('#grid .vae-note').innerText.includes('beyond |z| = 4')")


def test_the_elbo_tab_calls_iwae_an_estimate_with_its_spread(page):
    open_tab(page, "ELBO anatomy")
    page.wait_for_function("() => { const t = document.querySelector('#elbo_numbers').innerText;"
                           " return t.includes('a bound on average') && !t.includes('Computing'); }")
    row = page.locator("#elbo_numbers tr", has_text="IWAE").inner_text()
    assert "±" in row, row
    body = page.locator("body").inner_text()
    assert f"{models.DEFAULT.facts['iwae_gap']:.2f} nats below it on average" in body


def image_buttons(page, elem_id: str) -> list[str]:
    page.hover(f"#{elem_id} img")
    return page.eval_on_selector_all(f"#{elem_id} button", "els => els.map(e => e.getAttribute('aria-label') || '')")


def test_pictures_have_no_share_button_and_the_footer_no_dangling_dot(page):
    assert page.locator("footer").inner_text().strip() == "Use via API"
    open_tab(page, "Reconstruct")
    assert "Download" in image_buttons(page, "rec_map") and "Share" not in image_buttons(page, "rec_map")


def reset(page, elem_id: str) -> None:
    page.locator(f"#{elem_id} button[aria-label='Reset to default value']").click()


def test_resetting_a_slider_moves_what_it_drives(page):
    x, y = models.MAP.z_to_px(np.array([0.19, -3.67]))
    click_map_at(page, "explorer_map", x, y)
    page.wait_for_function("() => parseFloat(document.querySelector('#z2 input[type=number]').value) < -3")
    z1 = number(page, "z1")
    marker = canvas(page, "explorer_map")
    reset(page, "z2")
    assert number(page, "z2") == 0.0
    page.wait_for_function("(z) => document.querySelector('#explorer_digit .vae-caption').innerText.includes(z)",
                           arg=f"({z1:.2f}, 0.00)")
    assert np.abs(canvas(page, "explorer_digit").astype(int) - server_digit(z1, 0.0)).max() <= 1
    assert (canvas(page, "explorer_map") != marker).any(), "the marker follows"

    open_tab(page, "Manifold")
    count = drawn(page, "grid", "sharp")
    page.locator("#zoom_in").click()
    count = drawn(page, "grid", "sharp", after=count)
    assert number(page, "grid_span") < 6
    reset(page, "grid_span")
    drawn(page, "grid", "sharp", after=count)
    assert number(page, "grid_span") == 6.0
    np.testing.assert_array_equal(canvas(page, "grid"), np.asarray(api.grid(0.0, 0.0, 6.0, 20, "linear")))

    open_tab(page, "ELBO anatomy")
    shows_l_10 = "() => /L = 10(?!\\d)/.test(document.querySelector('#elbo_numbers').innerText)"
    page.wait_for_function(shows_l_10)
    drag(page, "elbo_L", 60)
    page.wait_for_function(f"() => !({shows_l_10})()")
    reset(page, "elbo_L")
    page.wait_for_function(shows_l_10)


@pytest.mark.parametrize("name, content, message", [
    ("notes.png", b"Hello, this is a text file pretending to be a PNG.\n" * 10, "This file is not an image we can read"),
    ("empty.png", b"", "The file is empty"),
])
def test_a_bad_file_gets_the_apis_sentence_in_the_page(page, tmp_path, name, content, message):
    bad = tmp_path / name
    bad.write_bytes(content)
    open_tab(page, "Reconstruct")
    open_tab(page, "Upload / paste / webcam")
    page.locator("#upload input[type=file]").set_input_files(str(bad))
    page.get_by_text(message).first.wait_for()


def test_the_wheel_zooms_the_grid_about_the_pointer_and_the_maps_take_arrow_keys(page):
    canvas_box = page.locator("#explorer_map canvas")
    canvas_box.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowUp")
    page.wait_for_function("() => parseFloat(document.querySelector('#z2 input[type=number]').value) === 1")
    assert number(page, "z1") == pytest.approx(0.1)
    assert caption_z(page) == pytest.approx((0.1, 1.0))

    open_tab(page, "Manifold")
    count = drawn(page, "grid", "sharp")
    before = canvas(page, "grid")
    page.mouse.move(*point_at(page, "grid", 52 + 580 * 0.75, 36 + 580 / 2))  # right of the centre, on z2 = 0
    page.mouse.wheel(0, -300)  # zoom in
    count = drawn(page, "grid", "pan", after=count)
    assert (canvas(page, "grid") != before).any(), "the grid is scaled at once"
    drawn(page, "grid", "sharp", after=count)
    span, z1, z2 = number(page, "grid_span"), number(page, "grid_z1"), number(page, "grid_z2")
    assert span < 4 and z1 > 0.4 and z2 == pytest.approx(0.0, abs=0.02), "the point under the pointer stays put"
    np.testing.assert_array_equal(canvas(page, "grid"), np.asarray(api.grid(z1, z2, span, 20, "linear")))


def test_a_number_typed_beyond_a_sliders_end_becomes_that_end_everywhere(page):
    box = page.locator("#z1 input[type=number]")
    box.fill("9")
    box.press("Enter")
    page.wait_for_function("() => document.querySelector('#explorer_digit .vae-caption').innerText.includes('(4.50, 0.00)')")
    page.wait_for_function("() => document.querySelector('#z1 input[type=number]').value === '4.5'")
    assert page.locator("#z1 input[type=range]").input_value() == "4.5"
    assert np.abs(canvas(page, "explorer_digit").astype(int) - server_digit(4.5, 0.0)).max() <= 1
    assert page.locator(".toast-body").count() == 0


@pytest.fixture
def phone(browser, app_url):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.add_init_script(RECORD_PAINTS)
    page.goto(app_url)
    drawn(page, "explorer_digit")
    yield page
    context.close()


def in_viewport(page, selector: str) -> bool:
    return page.evaluate("(sel) => { const r = document.querySelector(sel).getBoundingClientRect();"
                         " return r.top >= 0 && r.bottom <= window.innerHeight && r.height > 0; }", selector)


def mostly_in_viewport(page, selector: str) -> bool:
    """At least 80% of the element's height is on screen."""
    return page.evaluate("(sel) => { const r = document.querySelector(sel).getBoundingClientRect();"
                         " const shown = Math.min(r.bottom, window.innerHeight) - Math.max(r.top, 0);"
                         " return r.height > 0 && shown >= 0.8 * r.height; }", selector)


def test_on_a_phone_every_tab_is_a_tab_and_the_digit_stays_beside_its_sliders(phone):
    tabs = phone.get_by_role("tab")
    assert tabs.all_inner_texts() == ["Explorer", f"Story: the idea in {len(text.STORY)} steps", "Reconstruct", "Manifold",
                                      "Sample & interpolate", "ELBO anatomy", "Training"]
    assert all(tab.is_visible() for tab in tabs.all())
    phone.locator("#z2 input[type=range]").scroll_into_view_if_needed()
    assert in_viewport(phone, "#z1 input[type=range]") and in_viewport(phone, "#explorer_digit canvas")

    open_tab(phone, "Reconstruct")
    phone.locator("#rec_results").evaluate("e => e.scrollIntoView()")  # the results at the top, the pad under them
    assert in_viewport(phone, "#pad canvas")
    pad_stroke(phone, 0.5)
    wait_for_new_image(phone, "reconstruction", None)
    assert mostly_in_viewport(phone, "#reconstruction img"), "the reconstruction is in view while drawing"
    label, picture = (phone.locator(f"#rec_map {s}").first.bounding_box() for s in ("label[data-testid=block-label]", "img"))
    assert label["y"] + label["height"] <= picture["y"] + 1, "the map's label sits above it, not on it"

    open_tab(phone, "ELBO anatomy")
    phone.wait_for_function("() => { const t = document.querySelector('#elbo_numbers').innerText;"
                            " return t.includes('ELBO') && !t.includes('Computing'); }")
    lines = phone.eval_on_selector_all("#elbo_numbers td:last-child", """cells => cells.map(c => {
        const range = document.createRange(); range.selectNodeContents(c);
        return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size; })""")
    assert len(lines) > 5 and set(lines) == {1}, lines  # every number on one line


def test_reset_the_views_puts_every_page_drawn_view_back(page):
    click_map_at(page, "explorer_map", *models.MAP.z_to_px(np.array([2.0, -1.0])))
    page.wait_for_function("() => parseFloat(document.querySelector('#z1 input[type=number]').value) > 1.5")
    open_tab(page, "Manifold")
    count = drawn(page, "grid", "sharp")
    page.locator("#zoom_in").click()
    count = drawn(page, "grid", "sharp", after=count)
    assert number(page, "grid_span") < 6

    page.locator("#reset_view").click()
    drawn(page, "grid", "sharp", after=count)
    assert (number(page, "grid_z1"), number(page, "grid_z2"), number(page, "grid_span")) == (0.0, 0.0, 6.0)
    np.testing.assert_array_equal(canvas(page, "grid"), np.asarray(api.grid(0.0, 0.0, 6.0, 20, "linear")))
    open_tab(page, "Explorer")
    assert (number(page, "z1"), number(page, "z2")) == (0.0, 0.0)
    assert caption_z(page) == (0.0, 0.0)


def pad_stroke(page, x: float) -> None:
    """A vertical stroke down the drawing pad at x (a fraction of its width)."""
    page.locator("#pad canvas").scroll_into_view_if_needed()
    pad = page.locator("#pad canvas").bounding_box()
    page.mouse.move(pad["x"] + x * pad["width"], pad["y"] + 0.2 * pad["height"])
    page.mouse.down()
    page.mouse.move(pad["x"] + x * pad["width"], pad["y"] + 0.8 * pad["height"], steps=10)
    page.mouse.up()


def pad_ink(page) -> int:
    """How many pixels of the drawing pad carry ink."""
    return page.evaluate("""() => { const c = document.querySelector('#pad canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) n += d[i] > 0; return n; }""")


def test_the_drawing_pad_reconstructs_what_it_shows_and_clears(page):
    open_tab(page, "Reconstruct")
    requests = []
    page.on("request", lambda r: requests.append(r.url) if r.method == "POST" else None)
    page.locator("#pad canvas").scroll_into_view_if_needed()
    pad = page.locator("#pad canvas").bounding_box()
    page.mouse.move(pad["x"] + 0.5 * pad["width"], pad["y"] + 0.2 * pad["height"])
    page.mouse.down()
    page.mouse.move(pad["x"] + 0.5 * pad["width"], pad["y"] + 0.8 * pad["height"], steps=10)
    page.wait_for_timeout(300)
    assert pad_ink(page) > 0 and not requests, "the stroke shows at once, and nothing is sent until the pen lifts"
    page.mouse.up()
    shown = wait_for_new_image(page, "prepared", None)
    # The server reconstructed exactly what the pad shows.
    drawing = page.evaluate("() => document.querySelector('#pad canvas').toDataURL('image/png')")
    np.testing.assert_array_equal(fetch(page, shown), events.reconstruct_drawing(drawing)[0])
    medium = pad_ink(page)

    page.locator("#pad button[data-act=undo]").click()
    page.wait_for_function("() => !document.querySelector('#prepared img')")
    assert pad_ink(page) == 0
    page.locator("#pad button[data-width=wide]").click()
    assert page.locator("#pad button[data-width=wide]").get_attribute("aria-pressed") == "true"
    pad_stroke(page, 0.5)
    wait_for_new_image(page, "prepared", None)
    assert pad_ink(page) > 1.5 * medium, "the wide pen draws a wider stroke"

    page.locator("#pad button[data-act=clear]").click()
    page.wait_for_function("() => !document.querySelector('#prepared img') && !document.querySelector('#reconstruction img')")
    assert pad_ink(page) == 0
    pad_stroke(page, 0.3)
    wait_for_new_image(page, "prepared", None)


# Text the page cuts: a label running under its picture's buttons or out of its block, and text
# ended with an ellipsis (the upload box's prompt).
CUT_TEXT = """() => {
  const visible = (e) => e.offsetParent !== null && e.getBoundingClientRect().width > 0;
  const overlap = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  const cut = [];
  for (const label of document.querySelectorAll('label[data-testid="block-label"]')) {
    if (!visible(label)) continue;
    const block = label.closest('.block'), box = label.getBoundingClientRect();
    const buttons = [...block.querySelectorAll('.icon-button-wrapper')].filter(visible).map((b) => b.getBoundingClientRect());
    if (box.right > block.getBoundingClientRect().right + 1 || buttons.some((b) => overlap(box, b))) cut.push(label.innerText);
  }
  for (const e of document.querySelectorAll('body *'))
    if (visible(e) && getComputedStyle(e).textOverflow === 'ellipsis' && e.scrollWidth > e.clientWidth + 1) cut.push(e.innerText);
  return cut;
}"""


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_no_label_or_prompt_is_cut(request, device):
    page = request.getfixturevalue("page" if device == "desktop" else "phone")
    for tab in ["Explorer", "Reconstruct", "Manifold", "Sample & interpolate", "ELBO anatomy", "Training"]:
        open_tab(page, tab)
        page.wait_for_timeout(300)
        if tab == "Reconstruct":
            pad_stroke(page, 0.5)
            wait_for_new_image(page, "reconstruction", None)
        if tab == "ELBO anatomy":  # the map loads lazily: once scrolled to, as a user does
            page.locator("#elbo_map").scroll_into_view_if_needed()
            wait_for_new_image(page, "elbo_map", None)
        assert page.evaluate(CUT_TEXT) == [], tab


def test_the_api_page_hides_the_mcp_tab_and_shows_our_words(page):
    failed = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.get_by_text("Use via API").click()
    page.get_by_text("API name: /reconstruct").first.wait_for()
    languages = page.locator(".snippets li")
    languages.first.wait_for()
    shown = [li.inner_text().strip() for li in languages.all() if li.is_visible()]
    assert "MCP" not in shown and "Python" in shown, shown
    text = page.locator("body").inner_text()
    assert "sample_file.pdf" not in text and "FileData class" not in text
    assert "a picture of one handwritten digit" in text.lower() and "a value beyond ±6 counts as ±6" in text
    # The only failed request is Gradio's own probe for an MCP server, which this app does not run.
    assert all(url.endswith("/gradio_api/mcp/schema") for url in failed), failed


def click_thumbnail(page, elem_id: str, index: int) -> None:
    x, y = point_at(page, elem_id, (index % 20 + 0.5) * 30, (index // 20 + 0.5) * 30)
    page.mouse.click(x, y)


def test_the_pickers_have_thumbnails_that_pick(page):
    open_tab(page, "Sample & interpolate")
    drawn(page, "interp_digits")
    page.locator("#interp_digits canvas").scroll_into_view_if_needed()
    sheet = canvas(page, "interp_digits")
    np.testing.assert_array_equal(sheet[30 * 2 + 1:30 * 2 + 29, 30 * 5 + 1:30 * 5 + 29], models.test_images[45])  # thumbnail #45
    click_thumbnail(page, "interp_digits", 25)  # "clicking the map sets" A
    page.wait_for_function("() => document.querySelector('#interp_pick_a input').value.startsWith('test digit #25 ')")
    drawn(page, "interp_digits", "mark")
    wait_for_number(page, "interp_a1", events.test_digit_mu(25)[0])
    assert (number(page, "interp_a1"), number(page, "interp_a2")) == tuple(events.test_digit_mu(25))
    assert picker_text(page, "interp_pick_b").startswith("test digit #1 ")
    marked = page.evaluate("""() => { const d = document.querySelector('#interp_digits canvas').getContext('2d')
        .getImageData(25 % 20 * 30 + 1, Math.floor(25 / 20) * 30 + 15, 1, 1).data; return [d[0], d[1], d[2]]; }""")
    assert marked[0] > 200 and marked[2] < 100, "the picked thumbnail is outlined"
    # Another model: the ends that are test digits move to where it encodes them, with no request.
    requests = []
    page.on("request", lambda r: requests.append(r.url) if r.method == "POST" and "/interpolate" in r.url else None)
    pick_model(page, "beta5")
    beta5 = models.MODELS["beta5"]
    wait_for_number(page, "interp_b1", events.test_digit_mu(1, beta5)[0])
    assert [number(page, e) for e in ("interp_a1", "interp_a2", "interp_b1", "interp_b2")] == \
        [*events.test_digit_mu(25, beta5), *events.test_digit_mu(1, beta5)]
    assert requests == []
    pick_model(page, "beta1")

    open_tab(page, "ELBO anatomy")
    numbers = page.locator("#elbo_numbers")
    page.wait_for_function("() => document.querySelector('#elbo_numbers').innerText.includes('ELBO')")
    before, shown = numbers.inner_text(), wait_for_new_image(page, "elbo_input", None)
    click_thumbnail(page, "elbo_digits", 43)
    page.wait_for_function("() => document.querySelector('#elbo_digit input').value.startsWith('test digit #43 ')")
    np.testing.assert_array_equal(fetch(page, wait_for_new_image(page, "elbo_input", shown)), api.digit_image(models.test_images[43]))
    assert numbers.inner_text() != before


def test_the_thinnest_and_the_widest_pen_give_the_same_reconstruction(page):
    """A two drawn with the pad's thin pen and again with its wide one: both are redrawn with
    MNIST's pen before the model sees them, so the reconstructions are alike and show one digit.
    (As drawn, the two reconstructions differ by 0.087 a pixel.)"""
    from vae.classifier import load_classifier

    open_tab(page, "Reconstruct")
    pad = page.locator("#pad canvas")
    pad.scroll_into_view_if_needed()
    shown = {}
    for pen in ("thin", "wide"):
        page.locator(f"#pad button[data-width={pen}]").click()
        box = pad.bounding_box()
        page.mouse.move(box["x"] + 0.25 * box["width"], box["y"] + 0.3 * box["height"])
        page.mouse.down()
        for x, y in [(0.4, 0.18), (0.65, 0.2), (0.7, 0.38), (0.25, 0.82), (0.78, 0.82)]:
            page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=12)
        page.mouse.up()
        shown[pen] = fetch(page, wait_for_new_image(page, "reconstruction", shown.get("thin_src")))
        shown[f"{pen}_src"] = src(page, "reconstruction")
        page.locator("#pad button[data-act=clear]").click()
        page.wait_for_function("() => !document.querySelector('#reconstruction img')")
    thin, wide = (torch.from_numpy(shown[pen][::4, ::4].copy()).float().div(255).view(1, 1, 28, 28) for pen in ("thin", "wide"))
    assert (thin - wide).abs().mean() < 0.05
    classifier = load_classifier()
    assert classifier(thin).argmax() == classifier(wide).argmax() == 2


def test_the_thumbnails_are_picked_from_the_keyboard_too(page):
    open_tab(page, "ELBO anatomy")
    page.wait_for_function("() => document.querySelector('#elbo_numbers').innerText.includes('ELBO')")
    sheet = page.locator("#elbo_digits canvas")
    sheet.focus()  # the cursor starts on the picked digit, #0
    for key in ("ArrowRight", "ArrowRight", "ArrowDown"):
        page.keyboard.press(key)
    assert sheet.get_attribute("aria-label") == f"test digit #22 (a {models.test_labels[22]}): Enter picks it"
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('#elbo_digit input').value.startsWith('test digit #22 ')")


def pick_model(page, name: str) -> int:
    """Pick a model at the top of the page; returns the paint count before."""
    before = paints(page)
    page.locator("#model label", has_text=text.MODEL_LABELS[name]).click()
    return before


def test_every_view_follows_the_model_picked_and_the_training_tab_replays_it(page):
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    digits, maps = {}, {}
    page.get_by_text("About this model, and the three side by side").click()  # folded away: the first screen is the Explorer's
    for name in ("beta0", "beta5", "beta1"):
        before = pick_model(page, name)
        drawn(page, "explorer_digit", "model", before)
        drawn(page, "explorer_map", "model", before)
        # the server draws the digit while the model's decoder loads; then the page decodes it itself
        page.wait_for_function("() => document.querySelector('#explorer_digit canvas').width === 28")
        page.wait_for_function("(words) => document.querySelector('#model_words').innerText.includes(words)",
                               arg=f"{models.MODELS[name].facts['prior_mass_confident']:.0%} of the prior's mass")
        digits[name], maps[name] = canvas(page, "explorer_digit"), canvas(page, "explorer_map")
        # the page decodes with the picked model's own weights
        assert np.abs(digits[name].astype(int) - latent.decode_images(models.MODELS[name].model, [[0.0, 0.0]])[0]).max() <= 1, name
    for a, b in (("beta0", "beta1"), ("beta0", "beta5"), ("beta1", "beta5")):
        assert np.abs(maps[a].astype(int) - maps[b]).mean() > 2 and not np.array_equal(digits[a], digits[b]), (a, b)

    open_tab(page, "Manifold")
    drawn(page, "grid", "sharp")
    before = pick_model(page, "beta0")
    drawn(page, "grid", "sharp", after=before)
    np.testing.assert_array_equal(canvas(page, "grid"), np.asarray(api.grid(0.0, 0.0, 6.0, 20, "linear", "beta0")))

    open_tab(page, "Training")
    drawn(page, "training")
    replay = torch.load(models.MODEL_FOLDERS["beta0"] / "vae.replay.pt", weights_only=True)
    first = canvas_at(page, "#training canvas.vae-manifold")
    np.testing.assert_array_equal(first[:56:2, :56:2], replay["manifolds"][0][0].numpy())  # epoch 1's top-left digit, 2x
    assert "Epoch 1 of 40" in page.locator("#training .vae-caption").inner_text()
    map_first = canvas_at(page, "#training canvas.vae-map")
    before = paints(page)
    page.locator("#train_play").click()
    page.wait_for_function("() => parseFloat(document.querySelector('#train_epoch input[type=number]').value) >= 4")
    drawn(page, "training", "play", before)
    page.locator("#train_play").click()  # pause
    page.wait_for_timeout(600)
    epoch = int(number(page, "train_epoch"))
    assert epoch >= 4 and f"Epoch {epoch} of 40" in page.locator("#training .vae-caption").inner_text()
    assert np.abs(canvas_at(page, "#training canvas.vae-map").astype(int) - map_first).mean() > 1, "the map forms"
    assert not np.array_equal(canvas_at(page, "#training canvas.vae-manifold"), first), "the manifold sharpens"
    assert page.locator("#elbo_curve").bounding_box()["height"] > 100 and page.locator("#kl_curve").is_visible()
    before = pick_model(page, "beta1")  # the tab follows the picker: the VAE's replay, 60 epochs
    drawn(page, "training", "model", before)
    page.wait_for_function("() => document.querySelector('#training .vae-caption').innerText.includes(' of 60')")
    assert page.locator(".toast-body").count() == 0 and errors == []


QUADRATURE = 0.015  # nats: the quadrature's tolerance (vae.likelihood.TOL) and the page's rounding to 0.01


def text_changed(page, elem_id: str, old: str, word: str = "nats") -> str:
    """Wait until #elem_id's words differ from `old` and hold `word` (not a progress timer's); return them."""
    words = ("([id]) => { const e = document.querySelector(`#${id}`); if (!e) return '';"
             " return (e.querySelector('.prose') || e).innerText.trim(); }")  # a markdown's words, not its progress timer
    page.wait_for_function(f"([id, old, word]) => {{ const t = ({words})([id]); return t && t !== old && t.includes(word); }}",
                           arg=[elem_id, old, word])
    return page.evaluate(words, [elem_id])


def figures_in(words: str) -> list[float]:
    """The numbers written in some words, in order (a minus sign as the page writes it, or as the formula's)."""
    return [float(n.replace("−", "-")) for n in re.findall(r"[-−]?\d+\.\d+", words)]


def set_number(page, elem_id: str, value: float) -> None:
    box = page.locator(f"#{elem_id} input[type=number]")
    box.scroll_into_view_if_needed()
    box.fill(str(value))
    box.press("Enter")


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_story_walks_nine_steps_each_figure_following_its_control_with_the_librarys_numbers(browser, app_url, device):
    from vae.anatomy import elbo_anatomy
    from vae.likelihood import log_marginal_quadrature

    options = (dict(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True) if device == "phone"
               else dict(viewport={"width": 1280, "height": 720}))
    context = browser.new_context(**options)
    page = context.new_page()
    page.set_default_timeout(60_000)  # the first digit's exact terms take seconds on a busy machine
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(app_url + "?tab=story")
    vae_model = models.DEFAULT.model

    def library(index: int) -> dict:  # what the library says of test digit #index, as the ELBO tab computes it
        x = latent.from_uint8(models.test_images[index])
        log_px = log_marginal_quadrature(vae_model, x)[0].item()
        return elbo_anatomy(vae_model, x, L=10, K=1000, seed=0, log_px=log_px)

    def next_step(step: int) -> None:
        page.locator("#story_next").click()
        page.wait_for_selector(f"#story_{step}", state="visible")
        assert page.locator(f"#story_{step - 1}").is_hidden()  # one step at a time
        page.wait_for_function("(step) => location.search.includes(`story_step=${step}`)", arg=step)  # the address holds the step

    # 1. Drawing again moves the points on the map, and their digits.
    page.wait_for_selector("#story_1", state="visible")
    drawn_map, digits = wait_for_new_image(page, "story_map", None), wait_for_new_image(page, "story_draws", None)
    page.locator("#story_again").click()
    wait_for_new_image(page, "story_map", drawn_map)
    wait_for_new_image(page, "story_draws", digits)
    assert number(page, "story_seed") == 1

    # 2. The likelihood of test digit #0, then of #7, each the quadrature's.
    next_step(2)
    words = text_changed(page, "story_px", "")
    truth = library(0)
    assert figures_in(words)[0] == pytest.approx(truth["log_px"], abs=QUADRATURE)
    integrand = wait_for_new_image(page, "story_integrand", None)
    page.locator("#story_digit input").click()
    page.get_by_role("option", name="test digit #7 (").first.click()
    words = text_changed(page, "story_px", words)
    wait_for_new_image(page, "story_integrand", integrand)
    truth = library(7)
    assert figures_in(words)[0] == pytest.approx(truth["log_px"], abs=QUADRATURE)

    # 3. Jensen: more samples, other estimates; the exact value the same.
    next_step(3)
    words = text_changed(page, "story_jensen", "")
    set_number(page, "story_K", 400)
    words = text_changed(page, "story_jensen", words)
    mean_log, log_mean, gap, log_px = figures_in(words)[:4]
    assert mean_log <= log_mean and gap == pytest.approx(log_mean - mean_log, abs=0.011)
    assert log_px == pytest.approx(truth["log_px"], abs=QUADRATURE)

    # 4. The encoder's oval: the ELBO and the gap are the library's; the best oval shows the gap's parts.
    next_step(4)
    words = text_changed(page, "story_gap", "")
    elbo, shown_log_px, gap = figures_in(words)[:3]
    assert (elbo, shown_log_px, gap) == (pytest.approx(truth["elbo"], abs=0.006), pytest.approx(truth["log_px"], abs=QUADRATURE),
                                         pytest.approx(truth["gap"], abs=QUADRATURE))
    oval = wait_for_new_image(page, "story_ellipse", None)
    page.locator("#story_q").get_by_text("the best oval").click()
    words = text_changed(page, "story_gap", words)
    wait_for_new_image(page, "story_ellipse", oval)
    assert figures_in(words)[0] == pytest.approx(truth["approximation_gap"], abs=QUADRATURE)

    # 5. The trick: z = mu + sigma * eps as eps moves, and the score function's variance far above the trick's.
    next_step(5)
    graph = text_changed(page, "story_graph", "")
    set_number(page, "story_eps1", 1.5)
    graph = text_changed(page, "story_graph", graph)
    (mu1, mu2), s1 = truth["mu"], truth["sigma"][0]
    values = figures_in(graph)
    assert values[:2] == [pytest.approx(mu1, abs=0.0006), pytest.approx(mu2, abs=0.0006)]
    assert values[6:8] == [pytest.approx(mu1 + 1.5 * s1, abs=0.002), pytest.approx(mu2, abs=0.0006)]  # z
    table = page.locator("#story_variances").inner_text()
    ratios = [float(r.replace(",", "")) for r in re.findall(r"([\d,]+)×", table)]
    assert len(ratios) == 2 and min(ratios) > 100

    # 6. Monte Carlo: the spread at L follows sigma_1 / sqrt(L).
    next_step(6)
    words = text_changed(page, "story_mc", "")
    set_number(page, "story_L", 16)
    words = text_changed(page, "story_mc", words)
    sigma1, at_l = figures_in(words)[:2]
    assert at_l == pytest.approx(sigma1 / 4, abs=0.007)

    # 7. Training: play moves the replay on.
    next_step(7)
    caption = text_changed(page, "story_training .vae-caption", "", "Epoch")
    page.locator("#story_play").click()
    text_changed(page, "story_training .vae-caption", caption, "Epoch")
    page.locator("#story_play").click()

    # 8. The KL term: beta = 0 shows another map and its own figures.
    next_step(8)
    words = text_changed(page, "story_beta_words", "")
    beta_map = wait_for_new_image(page, "story_beta_map", None)
    page.locator("#story_beta").get_by_text("β = 0").click()
    words = text_changed(page, "story_beta_words", words)
    wait_for_new_image(page, "story_beta_map", beta_map)
    assert words.startswith("β = 0")

    # 9. Two dimensions against twenty: other digits, other pictures.
    next_step(9)
    wide = wait_for_new_image(page, "story_wide", None)
    text_changed(page, "story_wide_words", "", "20-D")
    set_number(page, "story_batch", 3)
    wait_for_new_image(page, "story_wide", wide)
    assert page.locator("#story_next").is_visible()
    assert not errors and not page.locator(".toast-body").count()
    context.close()


def test_a_link_to_a_story_step_opens_that_step_with_its_digit_and_control(browser, app_url):
    """A teacher's link: the step, the digit of step 2 and the step's control come back in a fresh browser."""
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.set_default_timeout(60_000)
    page.goto(app_url + "?tab=story&story_step=5&story_digit=7&story_eps1=1.5")
    page.wait_for_selector("#story_5", state="visible")
    assert page.locator("#story_1").is_hidden()
    graph = text_changed(page, "story_graph", "")
    mu, _ = latent.posterior(models.DEFAULT.model, latent.from_uint8(models.test_images[7]))
    assert figures_in(graph)[:2] == [pytest.approx(mu[0], abs=0.0006), pytest.approx(mu[1], abs=0.0006)]
    assert figures_in(graph)[4] == 1.5  # eps1
    page.close()
