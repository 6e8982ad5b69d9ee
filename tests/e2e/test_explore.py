"""Explore in a real browser: the latent sliders redraw the image on arrow keys and WHILE a mouse
drags them (before the button is released); z = 0 moves them back and restores the image."""

from urllib.parse import urljoin

import pytest
from playwright.sync_api import expect

from tests.e2e.harness import open_page

pytestmark = pytest.mark.e2e

# The sliders live in the component's open shadow root, which Playwright's CSS selectors pierce.
RANGES = "[data-testid=stMain] .latent-sliders input[type=range]"
VALUES = "[data-testid=stMain] .latent-sliders output"
DECODER_MEAN = "[data-testid=stMain] [data-testid=stImage] img"


def image_bytes(page, image) -> bytes:
    """The PNG the browser shows (fetched now: Streamlit drops media of earlier reruns)."""
    src = image.get_attribute("src")
    return page.context.request.get(urljoin(page.url, src)).body()


def _explore(page, served_app):
    open_page(page, served_app, "Explore")
    image = page.locator(DECODER_MEAN).first
    expect(image).to_be_visible()
    expect(page.locator(VALUES).first).to_have_text("0.00")
    return image


def test_arrow_keys_step_a_slider_and_z0_moves_it_back(served_app, page):
    image = _explore(page, served_app)
    start, start_png = image.get_attribute("src"), image_bytes(page, image)
    page.locator(RANGES).first.focus()
    for _ in range(6):
        page.keyboard.press("ArrowRight")
    expect(page.locator(VALUES).first).to_have_text("0.30")
    expect(image).not_to_have_attribute("src", start)

    moved = image.get_attribute("src")
    page.get_by_role("button", name="z = 0").click()
    expect(page.locator(VALUES).first).to_have_text("0.00")
    expect(page.locator(RANGES).first).to_have_value("0")
    expect(image).not_to_have_attribute("src", moved)
    assert image_bytes(page, image) == start_png  # z = 0 decodes to the first image again


def test_dragging_a_slider_redraws_the_image_before_the_mouse_is_released(served_app, page):
    image = _explore(page, served_app)
    start = image.get_attribute("src")
    box = page.locator(RANGES).first.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2  # the thumb at z = 0
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + box["width"] * 0.15, y, steps=8)
    expect(page.locator(VALUES).first).not_to_have_text("0.00")
    expect(image).not_to_have_attribute("src", start)  # still dragging: the image followed
    first = image.get_attribute("src")
    page.mouse.move(x + box["width"] * 0.35, y, steps=8)
    expect(image).not_to_have_attribute("src", first)  # and keeps following
    shown = float(page.locator(VALUES).first.text_content())
    page.mouse.up()
    assert 0.5 < shown <= 3.0  # the thumb moved right along with the mouse
