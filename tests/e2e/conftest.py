"""Real-browser fixtures: the app served by `streamlit run`, Chromium driven by Playwright."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.harness import CHROMIUM, PROJECT_DIR, launch_browser, serve_app

REAL_ASSETS = PROJECT_DIR / "assets" / "mnist16"
# Two cores shared with other work: a rerun can take a few seconds.
expect.set_options(timeout=15_000)


def pytest_collection_modifyitems(items):
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing: apt-get install -y chromium "
                                   "(scripts/setup.sh --dev does it)")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def served_app(tiny_assets, tmp_path_factory):
    """The app on tiny models made on the fly, with an empty runs folder of its own."""
    runs = tmp_path_factory.mktemp("e2e-runs")
    with serve_app(runs, assets=tiny_assets) as app:
        yield app


@pytest.fixture(scope="session")
def served_real_app(tmp_path_factory):
    """The app on the shipped models in assets/ (for screenshots and latency)."""
    if not REAL_ASSETS.is_dir():
        pytest.skip("assets/mnist16 is not there: the shipped model is needed")
    with serve_app(tmp_path_factory.mktemp("e2e-real-runs")) as app:
        yield app


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = launch_browser(playwright, tmp_path_factory.mktemp("chromium-profile"))
        context.set_default_timeout(30_000)
        yield context
        context.close()


@pytest.fixture
def page(browser_context):
    """A fresh tab, so a fresh Streamlit session; fails the test on any browser-side page error."""
    tab = browser_context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    tab.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
