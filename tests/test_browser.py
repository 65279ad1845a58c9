"""The app in a real browser: Debian's chromium, driven by Playwright, against the app
served on loopback (the `app_url` fixture of conftest.py).

A user drags a slider and the decoded digit changes, uploads a photo of a digit and
gets its reconstruction, clicks the manifold grid and it recentres, and moves L and
K in the ELBO anatomy tab and the numbers change. The command that regenerates the
README's screenshot photographs every tab with output (into a temporary folder here).
Skips when /usr/bin/chromium is absent (CI installs it).
"""
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from explorer import handlers as h
from pictures import photo_of

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
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
    page.goto(app_url)
    page.wait_for_selector("#decoded img")
    yield page
    page.close()


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


def test_dragging_a_slider_changes_the_decoded_digit(page):
    before_src, before_map = src(page, "decoded"), src(page, "latent_map")
    before = fetch(page, before_src)
    drag(page, "z1", 120)
    assert number(page, "z1") > 0.5
    after = fetch(page, wait_for_new_image(page, "decoded", before_src))
    assert after.shape == before.shape and np.abs(after.astype(int) - before).mean() > 2
    wait_for_new_image(page, "latent_map", before_map)  # the marker follows

    page.keyboard.press("ArrowRight")  # the slider keeps focus after the drag; the keyboard moves it too
    wait_for_new_image(page, "decoded", src(page, "decoded"))



def test_uploading_a_photo_shows_its_reconstruction(page, tmp_path):
    photo = tmp_path / "digit.jpg"
    photo.write_bytes(photo_of(h.test_images[3]))
    open_tab(page, "Reconstruct")
    open_tab(page, "Upload / paste / webcam")
    page.locator("#upload input[type=file]").set_input_files(str(photo))

    prepared = fetch(page, wait_for_new_image(page, "prepared", None))
    reconstruction = fetch(page, wait_for_new_image(page, "reconstruction", None))
    assert prepared.mean() < 100 and prepared.max() > 200, "the encoder sees bright ink on black, as in MNIST"
    # The photo's reconstruction looks like the clean digit's.
    clean = h.reconstruction_of(h.test_images[3])[1]
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
    old = src(page, "grid")
    page.wait_for_selector("#grid img")
    box = page.locator("#grid img").bounding_box()
    page.mouse.click(box["x"] + 0.15 * box["width"], box["y"] + 0.15 * box["height"])  # a cell up and to the left
    wait_for_new_image(page, "grid", old)
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
    shows output, or the command fails naming the blank ones."""
    out = tmp_path / "screenshot.png"
    run = subprocess.run([sys.executable, str(ROOT / "docs" / "screenshot.py"), "--url", app_url, "--out", str(out)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    sheet = np.asarray(Image.open(out))
    assert sheet.shape == (3 * 500, 2 * 700, 3)  # five 1400x1000 tabs at half size, two to a row
    for row, col in ((0, 0), (0, 1), (1, 0), (1, 1), (2, 0)):
        assert sheet[row * 500:(row + 1) * 500, col * 700:(col + 1) * 700].std() > 20, (row, col)


def click_map_at(page, elem_id: str, x: float, y: float) -> None:
    """Click a latent map where pixel (x, y) of its picture is shown (the picture is scaled to fit)."""
    box = page.locator(f"#{elem_id} img").bounding_box()
    width, height = h.MAP.size
    page.mouse.click(box["x"] + x * box["width"] / width, box["y"] + y * box["height"] / height)


def picker_text(page, elem_id: str) -> str:
    return page.locator(f"#{elem_id} input").input_value()


def test_a_click_on_the_legend_moves_nothing_and_a_click_on_the_plot_does(page):
    left, top, right, bottom = h.MAP.box
    click_map_at(page, "latent_map", right + 30, top + 40)  # the legend's "1"
    page.wait_for_timeout(1500)
    assert (number(page, "z1"), number(page, "z2")) == (0.0, 0.0)
    x, y = h.MAP.z_to_px(np.array([2.0, -1.0]))
    click_map_at(page, "latent_map", x, y)
    page.wait_for_function("() => parseFloat(document.querySelector('#z1 input[type=number]').value) > 1.5")
    assert number(page, "z1") == pytest.approx(2.0, abs=0.1) and number(page, "z2") == pytest.approx(-1.0, abs=0.1)


def test_pickers_do_not_name_a_test_digit_that_is_no_longer_shown(page, tmp_path):
    open_tab(page, "Sample & interpolate")
    assert picker_text(page, "interp_pick_b").startswith("test digit #1")
    page.locator("#interp_click_sets").get_by_text("B", exact=True).click()
    x, y = h.MAP.z_to_px(np.array([-2.0, 2.0]))
    click_map_at(page, "interp_map", x, y)
    page.wait_for_function("() => document.querySelector('#interp_pick_b input').value === ''")
    assert number(page, "interp_b1") == pytest.approx(-2.0, abs=0.1)
    assert picker_text(page, "interp_pick_a").startswith("test digit #0"), "A did not move"

    drag(page, "interp_a1", 40)  # moving A by hand: A no longer is test digit #0
    page.wait_for_function("() => document.querySelector('#interp_pick_a input').value === ''")

    open_tab(page, "ELBO anatomy")
    page.wait_for_function("() => document.querySelector('#elbo_digit input').value.startsWith('test digit #0')")
    photo = tmp_path / "digit.jpg"
    photo.write_bytes(photo_of(h.test_images[5]))
    page.locator("#elbo_upload input[type=file]").set_input_files(str(photo))
    page.wait_for_function("() => document.querySelector('#elbo_digit input').value === ''")


def test_zooming_the_manifold_out_says_where_digits_end(page):
    open_tab(page, "Manifold")
    assert page.locator("#grid_note").inner_text().strip() == ""
    old = src(page, "grid")
    page.locator("#zoom_out").click()
    wait_for_new_image(page, "grid", old)
    page.wait_for_function("() => document.querySelector('#grid_note').innerText.includes('beyond |z| = 4')")


def test_the_elbo_tab_calls_iwae_an_estimate_with_its_spread(page):
    open_tab(page, "ELBO anatomy")
    page.wait_for_function("() => { const t = document.querySelector('#elbo_numbers').innerText;"
                           " return t.includes('a bound on average') && !t.includes('Computing'); }")
    row = page.locator("#elbo_numbers tr", has_text="IWAE").inner_text()
    assert "±" in row, row
    body = page.locator("body").inner_text()
    assert f"{h.METRICS['iwae_gap']:.2f} nats below it on average" in body and "seed text" not in body


def image_buttons(page, elem_id: str) -> list[str]:
    page.hover(f"#{elem_id} img")
    return page.eval_on_selector_all(f"#{elem_id} button", "els => els.map(e => e.getAttribute('aria-label') || '')")


def test_pictures_have_no_share_button_and_the_footer_no_dangling_dot(page):
    assert page.locator("footer").inner_text().strip() == "Use via API"
    assert "Download" in image_buttons(page, "decoded") and "Share" not in image_buttons(page, "decoded")
    open_tab(page, "Sample & interpolate")
    for elem_id in ("samples", "interpolation"):
        assert "Share" not in image_buttons(page, elem_id), elem_id
    open_tab(page, "Manifold")
    assert "Share" not in image_buttons(page, "grid")


def reset(page, elem_id: str) -> None:
    page.locator(f"#{elem_id} button[aria-label='Reset to default value']").click()


def test_resetting_a_slider_moves_what_it_drives(page):
    x, y = h.MAP.z_to_px(np.array([0.19, -3.67]))
    click_map_at(page, "latent_map", x, y)
    page.wait_for_function("() => parseFloat(document.querySelector('#z2 input[type=number]').value) < -3")
    z1 = number(page, "z1")
    digit, marker = src(page, "decoded"), src(page, "latent_map")
    wait_for_new_image(page, "decoded", None)
    reset(page, "z2")
    assert number(page, "z2") == 0.0
    shown = fetch(page, wait_for_new_image(page, "decoded", digit))
    np.testing.assert_array_equal(shown, h.decode(z1, 0.0))
    wait_for_new_image(page, "latent_map", marker)  # the marker follows

    open_tab(page, "Manifold")
    grid = src(page, "grid")
    page.locator("#zoom_in").click()
    grid = wait_for_new_image(page, "grid", grid)
    assert number(page, "grid_span") < 6
    reset(page, "grid_span")
    wait_for_new_image(page, "grid", grid)
    assert number(page, "grid_span") == 6.0

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
