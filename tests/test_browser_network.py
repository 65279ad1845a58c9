"""A page on a slow network, in a real browser: while the model's decoder file is on its way the
status line says how far it has come, the Explorer's digit comes from the server instead of staying
black, and once the file is here the page decodes by itself; a model switch dims the views until
they show the new model. Skips when /usr/bin/chromium is absent (CI installs it).
"""
import re

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


def test_while_the_decoder_loads_the_server_draws_and_the_page_says_so(browser, app_url):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.add_init_script(RECORD_PAINTS)
    held = []  # the decoder files' requests, answered only when the test says so: a link that slow
    page.route(re.compile(r"/decoder-[0-9a-f]+\.bin"), lambda route: held.append(route))
    page.goto(app_url)
    status = page.locator("#page .vae-mode")
    page.wait_for_function("() => window.__paints.some(p => p.view === 'explorer_digit')")
    assert held, "the decoder was asked for"
    assert re.fullmatch(r"Loading the decoder of β = 1: 0\.0 MB\. Until it is here, the server draws the digits\.", status.inner_text()), \
        status.inner_text()
    digit = page.locator("#explorer_digit canvas")
    inked = "(c) => c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((v, i) => i % 4 === 0 && v > 128)"
    assert digit.evaluate(inked), "the server's digit is drawn, not a black box"
    assert page.evaluate("() => window.VAEPage.state().model") == "beta1"

    for route in held:
        route.continue_()
    page.wait_for_function("() => window.VAEPage.engine().then(e => e.mode === 'page')")
    page.wait_for_function("() => document.querySelector('#page .vae-mode').textContent === ''")
    before = page.evaluate("() => window.__paints.length")
    page.locator("#z1 input[type=range]").focus()
    page.keyboard.press("Shift+ArrowRight")
    page.wait_for_function(f"() => window.__paints.slice({before}).some(p => p.view === 'explorer_digit')")

    # Another model: its decoder held too, the views show the old model dimmed until the new one is drawn.
    held.clear()
    page.evaluate("""() => { window.__stale = new Set();  // every view dimmed, however briefly
        new MutationObserver((changes) => changes.forEach((c) => { if (c.target.classList.contains('vae-stale')) window.__stale.add(c.target.id); }))
          .observe(document.body, { subtree: true, attributes: true, attributeFilter: ['class'] }); }""")
    page.get_by_role("radio", name="β = 5: KL weighed 5×").check()
    page.wait_for_function("() => document.querySelector('#page .vae-mode').textContent.startsWith('Loading the decoder of β = 5')")
    page.wait_for_function("() => window.__stale.has('explorer_map') && window.__stale.has('explorer_digit')")
    while not held:  # the route's handler runs in its own time
        page.wait_for_timeout(50)
    for route in held:
        route.continue_()
    page.wait_for_function("() => !document.querySelector('#explorer_digit.vae-stale') && !document.querySelector('#explorer_map.vae-stale')")
    assert status.inner_text() == ""
    context.close()
