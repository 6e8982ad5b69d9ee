"""Explore in a real browser: arrow keys on a latent slider redraw the image; z = 0 resets it."""

from urllib.parse import urljoin

import pytest
from playwright.sync_api import expect

from tests.e2e.harness import open_page

pytestmark = pytest.mark.e2e

SLIDERS = "[data-testid=stMain] [data-testid=stSlider]"
DECODER_MEAN = "[data-testid=stMain] [data-testid=stImage] img"


def press(page, slider, key: str, times: int) -> None:
    slider.locator("input[type=range]").focus()
    for _ in range(times):
        page.keyboard.press(key)


def image_bytes(page, image) -> bytes:
    """The PNG the browser shows (fetched now: Streamlit drops media of earlier reruns)."""
    src = image.get_attribute("src")
    return page.context.request.get(urljoin(page.url, src)).body()


def test_slider_steps_redraw_the_image_and_z0_resets_it(served_app, page):
    open_page(page, served_app, "Explore")
    image = page.locator(DECODER_MEAN).first
    expect(image).to_be_visible()
    start = image.get_attribute("src")
    start_png = image_bytes(page, image)
    slider = page.locator(SLIDERS).first
    expect(slider.get_by_test_id("stSliderThumbValue")).to_have_text("0.00")

    press(page, slider, "ArrowRight", 6)
    expect(slider.get_by_test_id("stSliderThumbValue")).to_have_text("0.30")
    expect(image).not_to_have_attribute("src", start)

    moved = image.get_attribute("src")
    page.get_by_role("button", name="z = 0").click()
    expect(slider.get_by_test_id("stSliderThumbValue")).to_have_text("0.00")
    expect(image).not_to_have_attribute("src", moved)
    assert image_bytes(page, image) == start_png  # z = 0 decodes to the first image again
