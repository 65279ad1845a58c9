"""What a reader meets, in a real browser: on a 390x844 phone the ELBO table reads, no button covers a
map's legend, both loss plots show every legend entry and the epoch in one colour; the words explain
nats, the KL term and why a clean digit can come back as another, and name no document the project
was made from; a browser without JavaScript is told what the page needs; the API page's example and
the README's upload a digit the repository ships.

One phone page serves the tests about the phone and the words (a page load costs ~10 s), in file order;
the API page is opened on a desktop, whose footer shows its link, and the page without JavaScript is a
plain load.
"""
import re

import pytest

from explorer import events, models
from explorer.browser import CHROMIUM, launch
from vae import draw

TIMEOUT = 30_000  # ms; generous, the machine is shared
PHONE = dict(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2)

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (apt-get install chromium; .ci/run does)")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def phone(browser, app_url):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(app_url)
    page.locator("#explorer_digit canvas").wait_for()
    yield page
    context.close()


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()


def loaded_image(page, elem_id: str) -> None:
    page.locator(f"#{elem_id}").scroll_into_view_if_needed()  # pictures load once scrolled to
    page.wait_for_function("(id) => { const img = document.querySelector(`#${id} img`);"
                           " return img && img.complete && img.naturalWidth > 0; }", arg=elem_id)


def buttons_on_the_legend(page, elem_id: str) -> list[str]:
    """The picture's buttons (download, fullscreen) that lie on its legend, the column right of the plot
    (vae/draw.py), by their labels; and AssertionError if the picture has no button left."""
    frame = draw.MapFrame()
    legend = [frame.left + frame.plot, frame.top, frame.size[0], frame.top + frame.plot]  # in the picture's pixels
    over = page.evaluate("""([id, [x0, y0, x1, y1]]) => {
        const img = document.querySelector(`#${id} img`), box = img.getBoundingClientRect(), k = box.width / img.naturalWidth;
        const buttons = [...document.querySelectorAll(`#${id} .icon-button-wrapper button`)];
        if (!buttons.length) return null;
        return buttons.filter((b) => { const r = b.getBoundingClientRect();
            return r.left < box.left + x1 * k && r.right > box.left + x0 * k && r.top < box.top + y1 * k && r.bottom > box.top + y0 * k; })
          .map((b) => b.getAttribute("aria-label")); }""", [elem_id, legend])
    assert over is not None, f"#{elem_id} lost its buttons"
    return over


BROKEN_WORDS = """(cells) => cells.flatMap((cell) => {
    const broken = [], walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node; (node = walker.nextNode());)
        for (const word of node.data.matchAll(/\\S+/g)) {
            const range = document.createRange();
            range.setStart(node, word.index);
            range.setEnd(node, word.index + word[0].length);
            if (new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size > 1) broken.push(word[0]);
        }
    return broken; })"""


def test_on_a_phone_the_elbo_table_reads_and_no_button_covers_a_legend(phone):
    open_tab(phone, "ELBO anatomy")
    phone.wait_for_function("() => { const t = document.querySelector('#elbo_numbers').innerText;"
                            " return t.includes('ELBO') && !t.includes('Computing'); }")
    terms = phone.locator("#elbo_numbers tbody td:first-child")
    assert terms.count() == 8
    assert phone.eval_on_selector_all("#elbo_numbers tbody td:first-child", BROKEN_WORDS) == [], "a term's word breaks across lines"
    table = phone.locator("#elbo_numbers table").bounding_box()
    assert table["x"] >= 0 and table["x"] + table["width"] <= 390, "the table fits the phone's width"
    loaded_image(phone, "elbo_map")
    assert buttons_on_the_legend(phone, "elbo_map") == []

    open_tab(phone, "Reconstruct")
    loaded_image(phone, "rec_map")
    assert buttons_on_the_legend(phone, "rec_map") == []


def test_on_a_phone_every_loss_legend_entry_shows_and_the_epoch_has_one_colour(phone):
    open_tab(phone, "Training")
    for elem_id, legend in zip(("elbo_curve", "kl_curve"), events.LEGENDS):
        phone.locator(f"#{elem_id}").scroll_into_view_if_needed()
        phone.locator(f"#{elem_id} .mark-line path").first.wait_for()
        shown = phone.evaluate("""(id) => { const box = document.querySelector(`#${id}`).getBoundingClientRect();
            return [...document.querySelectorAll(`#${id} .role-legend-label text`)].filter((t) => {
                const r = t.getBoundingClientRect();
                return r.width > 0 && r.left >= box.left && r.right <= box.right && r.top >= box.top && r.bottom <= box.bottom;
            }).map((t) => t.textContent); }""", elem_id)
        assert shown == legend, elem_id
        # The epoch's line is the one vertical line: every point of its path at the same x.
        strokes = phone.eval_on_selector_all(f"#{elem_id} .mark-line path", "(paths) => paths.map((p) => [p.getAttribute('d'),"
                                             " p.getAttribute('stroke')])")
        vertical = [stroke for d, stroke in strokes if len({x for x, _ in re.findall(r"(-?[\d.]+),(-?[\d.]+)", d)}) == 1]
        assert vertical == [events.CURVE_COLOURS[events.EPOCH_MARK]], elem_id


DOCUMENTS_WE_STARTED_FROM = ["the issue", "the seed text", "the seed's", "the paper we started from", "the brief", "the task's"]


def test_the_words_explain_nats_the_kl_term_and_a_digit_that_comes_back_as_another(phone):
    phone.get_by_text("About this model, and the three side by side").click()  # folded away under the model picker
    # The KL term, in our words (the accordion draws its contents once opened: wait for them).
    phone.wait_for_function("() => document.querySelector('#model_words')?.innerText.includes('regularizer: a penalty')")
    open_tab(phone, "ELBO anatomy")
    assert phone.evaluate("""() => { const numbers = document.querySelector('#elbo_numbers');
        const tab = numbers.closest('[role=tabpanel]'), nats = [...tab.querySelectorAll('.prose')]
            .find((e) => e.textContent.includes('The figures are in nats'));
        return Boolean(nats && nats.compareDocumentPosition(numbers) & Node.DOCUMENT_POSITION_FOLLOWING); }"""), \
        "the ELBO tab explains nats before its figures"
    open_tab(phone, "Reconstruct")
    words = phone.evaluate("() => document.querySelector('#rec_map').closest('[role=tabpanel]').innerText")
    assert "Why a clean digit can come back as another" in words and "clean 8 can come back as a 5" in words
    page_words = phone.locator("body").text_content().lower()
    documents = [path for path in (models.ROOT / "docs").glob("*.md")] + [models.ROOT / "README.md"]
    for phrase in DOCUMENTS_WE_STARTED_FROM:
        assert phrase not in page_words, phrase
        for path in documents:
            assert phrase not in path.read_text().lower(), (phrase, path.name)


def test_the_api_page_and_the_readme_upload_the_digit_the_repository_ships(browser, app_url):
    shipped = models.ROOT / models.EXAMPLE_DIGIT
    assert shipped.is_file() and f'handle_file("{models.EXAMPLE_DIGIT}")' in (models.ROOT / "README.md").read_text()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})  # a phone's footer hides "Use via API"
    page.set_default_timeout(TIMEOUT)
    page.goto(app_url)
    page.get_by_text("Use via API").click()
    page.get_by_text("API name: /reconstruct").first.wait_for()
    words = page.locator("body").inner_text()
    page.close()
    assert f"handle_file('{models.EXAMPLE_DIGIT}')" in words


def test_without_javascript_the_page_says_what_it_needs_and_where_the_api_is(browser, app_url):
    context = browser.new_context(java_script_enabled=False, **PHONE)
    page = context.new_page()
    page.goto(app_url)
    words = page.locator("body").inner_text()
    context.close()
    assert "needs JavaScript" in words and f"{app_url}gradio_api/info" in words
