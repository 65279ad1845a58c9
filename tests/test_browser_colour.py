"""The page's colours in a real browser (Debian's chromium, as tests/test_browser.py), in the light
theme and the dark one (?__theme=dark): the latent map's classes are told apart under simulated
colour-vision deficiencies, by colour or by the digit written on each cluster, and what is drawn over
them (the hover marker, the ELBO map's wash, rings and samples) is a grey that no class is near.
One page load per theme."""
import base64
import io

import numpy as np
import pytest
from PIL import Image

from explorer import elbo_tab, models
from explorer.browser import ARGS, CHROMIUM, RECORD_PAINTS
from test_colour import only_greys_added
from vae import colour, draw

TIMEOUT = 30_000  # ms; the machine is shared

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (apt-get install chromium; .ci/run does)")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


def open_page(browser, url: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(TIMEOUT)
    page.add_init_script(RECORD_PAINTS)
    page.goto(url)
    page.wait_for_function("() => window.__paints.some(p => p.view === 'explorer_map')")
    return page


def canvas_rgb(page, selector: str) -> np.ndarray:
    """The RGB pixels of the canvas `selector` as drawn (height x width x 3)."""
    width, height, data = page.evaluate("""(sel) => {
        const c = document.querySelector(sel), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let s = ''; for (let i = 0; i < d.length; i++) if (i % 4 !== 3) s += String.fromCharCode(d[i]);
        return [c.width, c.height, btoa(s)]; }""", selector)
    return np.frombuffer(base64.b64decode(data), dtype=np.uint8).reshape(height, width, 3)


def check_the_explorer_map(page) -> None:
    """The legend's colours apart under every vision and none near a grey; each class's digit on its
    cluster, ink in a white halo; the hover marker a grey."""
    f = models.MAP
    shown = canvas_rgb(page, "#explorer_map canvas").astype(int)
    x0, y0, x1, _ = f.box
    legend = np.array([shown[y0 + 14 + d * 22, x1 + 20] for d in range(10)])
    np.testing.assert_array_equal(legend, draw.DIGIT_COLOURS)  # the page takes them from Python's one list
    for vision in colour.VISIONS:
        assert colour.worst_pair(legend, vision)[0] >= 13.5, vision
        assert colour.from_greys(legend, vision).min() >= colour.FROM_GREY, vision
    centres = draw.class_centres(models.DEFAULT.mu, models.test_labels)
    for d, (x, y) in enumerate(np.round(f.z_to_px(centres)).astype(int)):
        near = shown[y - 8:y + 9, x - 8:x + 9]
        assert (np.abs(near - draw.INK).max(axis=-1) < 40).sum() > 10, f"digit {d} written on its cluster"
        assert (near.min(axis=-1) >= 250).sum() > 10, f"digit {d} in a white halo"
    x, y = f.z_to_px(np.array([3.5, 3.5]))  # an empty corner of the map
    box = page.locator("#explorer_map canvas").bounding_box()
    count = page.evaluate("() => window.__paints.length")
    page.mouse.move(box["x"] + x * box["width"] / f.size[0], box["y"] + y * box["height"] / f.size[1])
    page.wait_for_function("(n) => window.__paints.slice(n).some(p => p.view === 'explorer_map')", arg=count)
    ring = canvas_rgb(page, "#explorer_map canvas")[round(y), round(x) + 5 - 1:round(x) + 5 + 2].astype(int)
    assert (np.abs(ring - draw.HOVER).max(axis=-1) <= 2).any(), ring
    assert len(set(draw.HOVER)) == 1, "the hover marker is a grey"


def test_the_map_reads_without_colour_in_the_light_theme(browser, app_url):
    page = open_page(browser, app_url)
    assert not page.evaluate("() => !!document.querySelector('.dark')")
    check_the_explorer_map(page)
    page.close()


def test_the_map_and_the_elbo_overlays_read_without_colour_in_the_dark_theme(browser, app_url):
    page = open_page(browser, app_url + "?__theme=dark")
    assert page.evaluate("() => !!document.querySelector('.dark')"), "the dark theme is on"
    check_the_explorer_map(page)

    page.get_by_role("tab", name="ELBO anatomy", exact=True).click()
    page.locator("#elbo_map").scroll_into_view_if_needed()
    page.wait_for_function("() => { const img = document.querySelector('#elbo_map img');"
                           " return img && img.complete && img.naturalWidth > 0; }")
    response = page.request.get(page.locator("#elbo_map img").first.get_attribute("src"))
    shown = np.asarray(Image.open(io.BytesIO(response.body())).convert("RGB"))
    # The tab's first view is test digit #0 under the default model: its map without overlays.
    frame, _ = elbo_tab.posterior_picture(models.test_images[elbo_tab.FIRST_ELBO["index"]].tobytes())
    base = np.asarray(draw.render_map(frame, models.DEFAULT.mu, models.test_labels))
    assert (shown != base).any(axis=-1).sum() > 500, "the wash, the rings and the samples are drawn"
    assert only_greys_added(base, shown), "the ELBO map's overlays are greys"
    page.close()
