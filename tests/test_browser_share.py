"""A teacher's page in a real browser: the address follows the view and a link opened in a fresh
browser restores it; the projector's first screen (1280x720) holds the Explorer's map, its digit
and both sliders, and at 1920x1080 the views grow; every view the page draws goes full screen;
and the keyboard alone drives it: focus shows, a slider's arrow keys move 0.1 (1 with Shift),
and every view takes the focus and answers the arrow keys.
Skips when /usr/bin/chromium is absent (CI installs it).
"""
from urllib.parse import parse_qs, urlparse

import pytest

from explorer.browser import ARGS, CHROMIUM, RECORD_PAINTS

TIMEOUT = 30_000  # ms; generous, the machine is shared

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (apt-get install chromium; .ci/run does)")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


def open_page(browser, url: str, width: int = 1400, height: int = 1000, **options):
    """A page in a fresh browser context (no storage shared with any other), once its digit is drawn."""
    context = browser.new_context(viewport={"width": width, "height": height}, **options)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.add_init_script(RECORD_PAINTS)
    page.goto(url)
    page.wait_for_function("() => window.__paints.some(p => p.view === 'explorer_digit')")
    return page


def state(page) -> dict:
    return page.evaluate("() => window.VAEPage.state()")


def shown_tab(page) -> str:
    return page.locator("[role=tab][aria-selected=true]").get_attribute("data-tab-id")


def slider_value(page, elem_id: str) -> float:
    return float(page.locator(f"#{elem_id} input[type=range]").input_value())


def box(page, selector: str) -> dict:
    return page.locator(selector).first.bounding_box()


def test_a_link_restores_the_view_in_a_fresh_browser(browser, app_url):
    page = open_page(browser, app_url)
    assert page.url.rstrip("/") == app_url.rstrip("/"), "the first view's address carries no state"
    page.get_by_role("radio", name="β = 0: reconstruction alone").check()
    page.locator("#explorer_map canvas").focus()
    page.keyboard.press("Shift+ArrowRight")  # z1 0 -> 1
    page.keyboard.press("ArrowDown")  # z2 0 -> -0.1
    page.get_by_role("tab", name="Manifold", exact=True).click()
    page.wait_for_function("() => window.VAEPage.state().tab === 'manifold'")
    page.locator("#grid_n input[type=number]").fill("12")
    page.locator("#grid_n input[type=number]").press("Enter")
    page.wait_for_function("() => window.VAEPage.state().grid_n === 12")
    page.wait_for_function("() => new URLSearchParams(location.search).get('grid_n') === '12'")
    query = parse_qs(urlparse(page.url).query)
    assert query == {"model": ["beta0"], "z1": ["1"], "z2": ["-0.1"], "tab": ["manifold"], "grid_n": ["12"]}

    page.get_by_role("button", name="Copy a link to this view").click()
    said = page.locator("#page .vae-said")
    page.wait_for_function("() => document.querySelector('#page .vae-said').textContent !== ''")
    # Headless Chromium refuses the clipboard to a page not granted it: the link is then shown, selected, to copy by hand.
    link = page.locator("#page .vae-link").input_value() if said.inner_text() == "Copy this link:" else page.url
    assert link == page.url
    page.context.close()

    fresh = open_page(browser, link)
    fresh.wait_for_function("() => document.querySelector('[role=tab][aria-selected=true]')?.dataset.tabId === 'manifold'")
    assert fresh.locator("#model input[value=beta0]").is_checked()
    assert {k: state(fresh)[k] for k in ("model", "z1", "z2", "grid_n", "tab")} == \
        {"model": "beta0", "z1": 1, "z2": -0.1, "grid_n": 12, "tab": "manifold"}
    fresh.wait_for_function("() => window.__paints.some(p => p.view === 'grid' && p.key === 'sharp')")
    assert float(fresh.locator("#grid_n input[type=number]").input_value()) == 12
    fresh.get_by_role("tab", name="Explorer", exact=True).click()
    fresh.wait_for_function("() => parseFloat(document.querySelector('#z1 input[type=range]').value) === 1")
    assert (slider_value(fresh, "z1"), slider_value(fresh, "z2")) == (1, -0.1)
    assert fresh.locator("#explorer_digit .vae-caption").inner_text().startswith("z = (1.00, -0.10)")
    fresh.context.close()

    # A hand-written address and a fragment naming a tab.
    typed = open_page(browser, app_url.rstrip("/") + "/?z1=1.5&z2=-2&model=beta5")
    typed.wait_for_function("() => parseFloat(document.querySelector('#z2 input[type=range]').value) === -2")
    assert (state(typed)["model"], slider_value(typed, "z1"), slider_value(typed, "z2")) == ("beta5", 1.5, -2)
    assert typed.locator("#model input[value=beta5]").is_checked()
    typed.context.close()
    named = open_page(browser, app_url.rstrip("/") + "/#elbo")
    named.wait_for_function("() => document.querySelector('[role=tab][aria-selected=true]')?.dataset.tabId === 'elbo'")
    named.wait_for_function("() => location.search === '?tab=elbo' && location.hash === ''")
    named.context.close()


def test_the_projector_sees_the_map_the_digit_and_the_sliders(browser, app_url):
    page = open_page(browser, app_url, 1280, 720)
    page.wait_for_timeout(300)  # the views fit themselves once the page above them is laid out
    for selector in ("#explorer_map canvas", "#explorer_digit canvas", "#z1", "#z2"):
        b = box(page, selector)
        assert b["y"] >= 0 and b["y"] + b["height"] <= 720 and b["x"] + b["width"] <= 1280, (selector, b)
    assert box(page, "#explorer_map canvas")["width"] >= 400
    page.context.close()

    page = open_page(browser, app_url, 1920, 1080)
    page.wait_for_timeout(300)
    assert box(page, "#explorer_map canvas")["width"] >= 700
    assert box(page, "#explorer_map canvas")["y"] + box(page, "#explorer_map canvas")["height"] <= 1080
    page.get_by_role("tab", name="Manifold", exact=True).click()
    page.wait_for_function("() => window.__paints.some(p => p.view === 'grid' && p.key === 'sharp')")
    page.wait_for_timeout(300)
    grid, window_map = box(page, "#grid canvas"), box(page, "#grid_map canvas")
    assert grid["width"] >= 700 and grid["width"] > window_map["width"], (grid, window_map)
    assert grid["y"] + grid["height"] <= 1080
    page.context.close()


def test_every_view_goes_full_screen(browser, app_url):
    page = open_page(browser, app_url)
    for tab, views in (("Explorer", ["explorer_map"]), ("Manifold", ["grid", "grid_map"]),
                       ("Sample & interpolate", ["samples", "samples_map", "interp", "interp_map"]), ("Training", ["training"])):
        page.get_by_role("tab", name=tab, exact=True).click()
        for view in views:
            button = page.locator(f"#{view} .vae-full")
            button.click()
            page.wait_for_function("(id) => document.fullscreenElement?.closest(`#${id}`)", arg=view)
            # The view's pictures span the 1400x1000 screen (the Training tab's two side by side), not a column of it.
            width, height = page.evaluate("""(id) => { const boxes = [...document.querySelectorAll(`#${id} canvas`)].map(c => c.getBoundingClientRect());
                return [Math.max(...boxes.map(b => b.right)) - Math.min(...boxes.map(b => b.left)),
                        Math.max(...boxes.map(b => b.bottom)) - Math.min(...boxes.map(b => b.top))]; }""", view)
            assert width >= 0.9 * 1400 or height >= 0.9 * 1000, (view, width, height)
            page.locator(f"#{view} .vae-full").click()
            page.wait_for_function("() => document.fullscreenElement === null")
    page.context.close()


def test_the_keyboard_alone(browser, app_url):
    page = open_page(browser, app_url)
    slider = page.locator("#z1 input[type=range]")
    slider.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => window.VAEPage.state().z1 === 0.1")
    page.keyboard.press("Shift+ArrowRight")
    page.wait_for_function("() => window.VAEPage.state().z1 === 1.1")
    page.wait_for_function("() => parseFloat(document.querySelector('#z1 input[type=range]').value) === 1.1")
    assert slider.evaluate("(e) => getComputedStyle(e).outlineStyle") != "none", "the focused slider shows its focus"
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("() => window.VAEPage.state().z1 === 1")

    def press(view: str, key: str, expect: str) -> None:
        canvas = page.locator(f"#{view} canvas").first
        assert canvas.evaluate("(e) => e.tabIndex") == 0, f"{view} takes the focus"
        canvas.focus()
        page.keyboard.press(key)
        page.wait_for_function(f"() => {expect}")
        assert canvas.evaluate("(e) => getComputedStyle(e).outlineStyle") != "none", f"{view} shows its focus"

    press("explorer_digit", "ArrowUp", "window.VAEPage.state().z2 === 0.1")
    press("explorer_map", "ArrowLeft", "window.VAEPage.state().z1 === 0.9")
    page.get_by_role("tab", name="Manifold", exact=True).click()
    press("grid", "ArrowRight", "window.VAEPage.state().grid_z1 === 1.5")
    press("grid", "-", "window.VAEPage.state().grid_span === 9")
    press("grid_map", "ArrowDown", "window.VAEPage.state().grid_z2 === -0.1")
    page.get_by_role("tab", name="Sample & interpolate", exact=True).click()
    press("samples", "ArrowRight", "window.VAEPage.state().samples_seed === 1")
    press("samples_map", "ArrowRight", "window.VAEPage.state().samples_seed === 2")
    press("interp", "ArrowRight", "window.VAEPage.state().interp_steps === 11")
    press("interp_map", "ArrowRight", "window.VAEPage.state().interp_pick_a === null")
    press("interp_digits", "ArrowRight", "true")  # the thumbnails: arrows move a cursor, Enter picks
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.VAEPage.state().interp_pick_a !== null")
    page.get_by_role("tab", name="Training", exact=True).click()
    press("training", "ArrowRight", "window.VAEPage.state().train_epoch === 2")
    page.context.close()
