"""Explore in a real browser: arrow keys on a latent slider redraw the image; z = 0 resets it."""

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


def test_slider_steps_redraw_the_image_and_z0_resets_it(served_app, page):
    open_page(page, served_app, "Explore")
    image = page.locator(DECODER_MEAN).first
    expect(image).to_be_visible()
    start = image.get_attribute("src")
    slider = page.locator(SLIDERS).first
    expect(slider.get_by_test_id("stSliderThumbValue")).to_have_text("0.00")

    press(page, slider, "ArrowRight", 6)
    expect(slider.get_by_test_id("stSliderThumbValue")).to_have_text("0.30")
    expect(image).not_to_have_attribute("src", start)

    page.get_by_role("button", name="z = 0").click()
    expect(slider.get_by_test_id("stSliderThumbValue")).to_have_text("0.00")
    expect(image).to_have_attribute("src", start)  # same bytes, same media URL
