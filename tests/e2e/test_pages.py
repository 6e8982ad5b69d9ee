"""Every page renders in a real browser without a traceback."""

import pytest
from playwright.sync_api import expect

from tools.browser import PAGE_PATHS, open_page

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("title", list(PAGE_PATHS))
def test_page_renders_without_a_traceback(served_app, page, title):
    open_page(page, served_app, title)
    main = page.locator("[data-testid=stMain]")
    # A wait, not a look: the page's elements can be drawn seconds after its script run ends.
    expect(main.locator("h1").first).to_be_visible()
    assert page.locator("[data-testid=stException]").count() == 0
    assert "Traceback" not in main.inner_text()
    nav = page.locator("[data-testid=stSidebarNav] a", has_text=title).first
    assert nav.get_attribute("aria-current") == "page"
