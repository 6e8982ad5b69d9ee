"""A local tool makes no request outside the machine: every page, in a real browser."""

from urllib.parse import urlsplit

import pytest

from tools.browser import PAGE_PATHS, open_page

pytestmark = pytest.mark.e2e

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
LOCAL_SCHEMES = {"data", "blob", "about"}


def _is_outside(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme not in LOCAL_SCHEMES and parts.hostname not in LOCAL_HOSTS


def test_no_page_requests_anything_outside_the_machine(served_app, page):
    outside: list[str] = []
    page.on("request", lambda request: _is_outside(request.url) and outside.append(request.url))
    for title in PAGE_PATHS:
        open_page(page, served_app, title)
    # The favicon is requested after the page settles; let it be asked for before judging.
    page.wait_for_timeout(1500)
    assert outside == []
