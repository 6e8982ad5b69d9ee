"""Explore's sliders component takes its JavaScript (~100 KB) from a file named by its hash
(ui/inline_js.py served_modules): the server sends it as JavaScript, the page fetches it once,
a rerun's messages do not carry it, and a page that cannot fetch it says so where it would be."""

import pytest
from playwright.sync_api import expect

from tools.browser import open_page
from tools.explorer import RANGES, wait_in_page, wait_sent
from ui import latent_sliders
from ui.inline_js import inline_modules

pytestmark = pytest.mark.e2e

SERVED = "/app/static/js/"
MARK = b"function latentSliders("  # in the joined modules, not in the loader


def _record(page) -> tuple[list[str], list[bytes]]:
    """The URLs of served-module requests, and the websocket messages the page receives."""
    requests, messages = [], []
    page.on("request", lambda request: requests.append(request.url)
            if SERVED in request.url else None)
    page.on("websocket", lambda socket: socket.on(
        "framereceived", lambda frame: messages.append(
            frame if isinstance(frame, bytes) else frame.encode())))
    return requests, messages


def test_the_page_fetches_the_modules_once_as_javascript(served_app, page):
    requests, messages = _record(page)
    open_page(page, served_app, "Explore")
    wait_in_page(page)
    assert len(requests) == 1, requests

    response = page.request.get(requests[0])
    assert response.status == 200
    assert response.headers["content-type"].split(";")[0] == "text/javascript"
    assert response.text() == inline_modules(latent_sliders.MODULES)

    messages.clear()
    page.locator(RANGES).first.focus()
    page.keyboard.press("ArrowRight")
    wait_sent(page)
    assert messages, "the key step caused no rerun"
    assert not any(MARK in message for message in messages)
    assert len(requests) == 1, requests


def test_a_page_that_cannot_fetch_the_modules_says_so(served_app, page):
    page.route(f"**{SERVED}*", lambda route: route.abort())
    open_page(page, served_app, "Explore")
    expect(page.get_by_role("alert").filter(has_text="could not load its script")).to_be_visible()
