"""The Reconstruct tab's uploads and its switch in a real browser (Debian's chromium, as in
test_browser.py), all on one page load: the newest of two quick uploads wins, a refused upload
clears the last digit's results and shows its message alone, and the switch shows the reading,
decode(μ) or a sample from q, each the picture /reconstruct returns for that picture.
Skips when /usr/bin/chromium is absent (CI installs it).
"""
import io

import numpy as np
import pytest
from PIL import Image

from explorer import api, models, text
from explorer.browser import CHROMIUM, launch
from pictures import photo_of

TIMEOUT = 30_000  # ms; generous, the machine is shared

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (apt-get install chromium; .ci/run does)")


@pytest.fixture(scope="module")
def page(app_url):
    """One page, on the Reconstruct tab's upload, for every test here: each uploads what it needs."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(TIMEOUT)
        page.goto(app_url)
        page.get_by_role("tab", name="Reconstruct", exact=True).click()
        page.get_by_role("tab", name="Upload / paste / webcam", exact=True).click()
        yield page
        browser.close()


def photo(folder, index: int):
    """A photo of test digit #index, as a file (tests/pictures.py's photo_of)."""
    path = folder / f"test digit {index}.jpg"
    path.write_bytes(photo_of(models.test_images[index]))
    return path


def upload(page, path) -> None:
    page.locator("#upload input[type=file]").set_input_files(str(path))


def mu_words(post: dict) -> str:
    """How the page writes q(z|x)'s mean (explorer/text.py's posterior_text)."""
    return f"({post['mu'][0]:.3f}, {post['mu'][1]:.3f})"


def wait_for_words(page, words: str) -> None:
    page.wait_for_function("(words) => document.querySelector('#posterior').innerText.includes(words)", arg=words)


def shown(page, elem_id: str) -> np.ndarray | None:
    """The picture in #elem_id as the page shows it, fetched as the browser does; None if there is none."""
    img = page.locator(f"#{elem_id} img")
    if img.count() == 0:
        return None
    response = page.request.get(img.first.get_attribute("src"))
    assert response.ok
    return np.asarray(Image.open(io.BytesIO(response.body())).convert("L"))


def test_the_newest_of_two_quick_uploads_wins(page, tmp_path):
    """Two pictures 50 ms apart: the second's results, the very pictures /reconstruct returns for it,
    and never the first's while the second is in the box (before, the second was dropped)."""
    first, second = photo(tmp_path, 1), photo(tmp_path, 3)
    expected = api.reconstruct(str(second))
    # Each time the words change, what they say and which picture the box shows.
    page.evaluate("""() => { window.__shown = []; const words = document.querySelector('#posterior');
        new MutationObserver(() => window.__shown.push([document.querySelector('#upload img')?.src, words.innerText]))
            .observe(words, {subtree: true, childList: true, characterData: true}); }""")
    upload(page, first)
    page.wait_for_timeout(50)
    upload(page, second)
    wait_for_words(page, mu_words(expected.posterior))
    np.testing.assert_array_equal(shown(page, "prepared"), expected.prepared)
    np.testing.assert_array_equal(shown(page, "reconstruction"), expected.reading)
    box = page.locator("#upload img").first.get_attribute("src")
    first_words = mu_words(api.reconstruct(str(first)).posterior)
    assert not [words for src, words in page.evaluate("() => window.__shown") if src == box and first_words in words]


def test_a_refused_upload_clears_the_results_and_shows_its_message_alone(page, tmp_path):
    good, bad = photo(tmp_path, 0), tmp_path / "notes.png"
    bad.write_bytes(b"Hello, this is a text file pretending to be a PNG.\n" * 10)
    upload(page, good)
    wait_for_words(page, mu_words(api.reconstruct(str(good)).posterior))
    upload(page, bad)
    message = "This file is not an image we can read"
    wait_for_words(page, message)
    assert shown(page, "prepared") is None and shown(page, "reconstruction") is None
    np.testing.assert_array_equal(shown(page, "rec_map"), np.asarray(models.DEFAULT.base_map.convert("L")))  # no marker
    assert page.locator("#posterior").inner_text().strip().startswith(message)  # alone: no q(z|x) of the last digit
    assert "Error" not in page.locator("#rec_results").inner_text() and page.locator(".toast-body").count() == 0


def test_the_switch_shows_the_reading_decode_mu_or_a_sample_from_q(page, tmp_path):
    """Each choice shows the picture /reconstruct returns for it; the words say where the map's
    marker is (the posterior's peak), how far from q's mean, and what each picture is."""
    digit = photo(tmp_path, 7)
    expected = api.reconstruct(str(digit))
    assert not np.array_equal(expected.reading, expected.mean) and not np.array_equal(expected.mean, expected.sample)
    upload(page, digit)
    wait_for_words(page, mu_words(expected.posterior))
    for which in (*api.RECONSTRUCTIONS[1:], api.RECONSTRUCTIONS[0]):  # away from the reading and back
        before = page.locator("#reconstruction img").get_attribute("src")
        page.locator("#rec_which").get_by_text(text.RECONSTRUCTION_LABELS[which], exact=True).click()
        page.wait_for_function("(old) => { const img = document.querySelector('#reconstruction img');"
                               " return img && img.src !== old && img.complete && img.naturalWidth > 0; }", arg=before)
        np.testing.assert_array_equal(shown(page, "reconstruction"), getattr(expected, which), err_msg=which)
    post = expected.posterior
    apart = np.hypot(*((np.array(post["mode"]) - post["mu"]) / np.array(post["sigma"])))
    assert f"the posterior's peak (the marker) lies {apart:.1f}σ from" in page.locator("#posterior").inner_text()
    words = page.locator("body").inner_text()
    assert "inside the marker" not in words and "The ring with a crosshair is the posterior's peak" in words
