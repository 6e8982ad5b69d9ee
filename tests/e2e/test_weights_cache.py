"""The decoder's weights reach the page as a file named by its SHA-256, fetched once per browser:
a reload or a second tab downloads none; a file whose bytes do not match the hash is refused
with a visible message, and the server draws the images instead."""

import random

import pytest
from playwright.sync_api import expect

from tools.browser import open_page, serve_app
from tools.explorer import EXPLORER, MEAN_CANVAS, hook, pick_model, wait_in_page
from tools.tiny_models import make_tiny_checkpoint

pytestmark = pytest.mark.e2e

WEIGHTS_URLS = "**/app/static/weights/*"
Z = [0.5, -1.0, 1.5, 0.25]  # the tiny mnist32's 4 dimensions


@pytest.fixture(scope="module")
def fresh_models(tmp_path_factory):
    """The app on two tiny models with random weights (mnist32, the default, and fresh): no
    browser has their files cached, and no other test shares them."""
    root = tmp_path_factory.mktemp("weights-cache")
    seeds = random.SystemRandom()
    for name in ("mnist32", "fresh"):
        make_tiny_checkpoint(root / "assets" / name, "mnist32", seed=seeds.randrange(2**31))
    (root / "runs").mkdir()
    with serve_app(root / "runs", assets=root / "assets") as app:
        yield app


def _open(page, app, model: str) -> None:
    open_page(page, app, "Explore")
    pick_model(page, f"{model} (shipped)")


def _weights_requests(page) -> list[str]:
    urls = []
    page.on("request", lambda request: urls.append(request.url)
            if "/app/static/weights/" in request.url else None)
    return urls


def test_a_reload_and_a_second_tab_download_no_weights(fresh_models, browser_context, page):
    fetched = _weights_requests(page)
    _open(page, fresh_models, "mnist32")
    wait_in_page(page, "asset:mnist32")
    first = hook(page, "status()")["entry"]
    assert len(fetched) == 1 and first["bytes"] > 1000 and first["error"] is None
    drawn = hook(page, "decode(arg)", Z)["mean"]

    page.reload()
    _open(page, fresh_models, "mnist32")
    wait_in_page(page, "asset:mnist32")
    assert len(fetched) == 1 and hook(page, "status()")["entry"]["bytes"] == 0
    assert hook(page, "decode(arg)", Z)["mean"] == drawn

    second = browser_context.new_page()
    try:
        fetched_there = _weights_requests(second)
        _open(second, fresh_models, "mnist32")
        wait_in_page(second, "asset:mnist32")
        assert fetched_there == [] and hook(second, "status()")["entry"]["bytes"] == 0
    finally:
        second.close()


def test_a_tampered_file_is_refused_visibly_and_not_kept(fresh_models, browser_context, page):
    def tamper(route):
        response = route.fetch()
        body = bytearray(response.body())
        body[len(body) // 2] ^= 0xFF  # one bit pattern changed, the length kept
        route.fulfill(response=response, body=bytes(body))

    page.route(WEIGHTS_URLS, tamper)
    _open(page, fresh_models, "fresh")
    expect(page.get_by_text("arrived damaged")).to_be_visible()
    status = hook(page, "status()")
    assert not status["inPage"] and "SHA-256" in status["entry"]["error"]
    assert page.locator(MEAN_CANVAS).count() == 0  # no image drawn from those bytes
    expect(page.get_by_text("Decoder mean E[x|z]")).to_be_visible()  # the server's image

    clean = browser_context.new_page()
    try:
        fetched = _weights_requests(clean)
        _open(clean, fresh_models, "fresh")
        wait_in_page(clean, "asset:fresh")  # the damaged bytes were not kept
        assert len(fetched) == 1 and clean.locator(EXPLORER).count() == 1
    finally:
        clean.close()
