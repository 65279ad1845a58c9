"""Shared fixtures: the app served on a free loopback port for the whole test session, and a client
for it; and the rule that marks slow tests.

`python -m pytest -m "not slow"` runs the fast part (library, handlers, inputs, assets): ~240 tests
in about a minute on 2 cores. Slow are: every test that uses the served app or a browser (the
`app_url`, `client` or `browser` fixtures, directly or through another fixture, and every test of a
module where one does), marked here; and, marked in their files, the tests that start servers of
their own, train, or compute for more than ~3 s (the real model on MNIST, a committed model's exact
log p(x)).
"""
import pytest

from explorer.browser import serve_app

# Fixtures that serve the app or start Chromium: a test using one, directly or through another
# fixture, is slow.
SERVED = {"app_url", "client", "browser"}


def pytest_collection_modifyitems(config, items):
    # A module where any test starts Chromium is slow as a whole: its tests may reach a page
    # through request.getfixturevalue, which item.fixturenames does not show.
    browser_modules = {item.path for item in items if "browser" in item.fixturenames}
    for item in items:
        if SERVED & set(item.fixturenames) or item.path in browser_modules:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def app_url():
    """Serve app.demo the way another script would, `import app; app.demo.launch()`, and yield its URL."""
    import app

    yield serve_app()
    app.demo.close()


@pytest.fixture(scope="session")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)
