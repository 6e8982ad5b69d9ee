"""Attribute directions in a real browser, on the shipped mnist32: an uploaded image changes when
a direction slider moves (its decoded pixels differ), and Explore's latent sliders follow a
direction slider, the class-mean difference's and the pull's from where z is. Saves screenshots
at 1280x800 (ATTRIBUTE_SHOTS, else a tmp dir)."""

import os
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import drawn_seven_png, upload_to_reconstruct
from tools.browser import VIEWPORT, open_page, rerun_and_wait, wait_for_idle
from tools.explorer import RANGES, wait_in_page, wait_sent
from ui.directions import PULL

pytestmark = pytest.mark.e2e

EDITED = "[data-testid=stMain] [data-testid=stImage]:has-text('decoded μ')"
INPUT = "[data-testid=stMain] [data-testid=stImage]"
CLASS_SLIDER = "[class*='st-key-{prefix}_class_'] [data-testid=stSlider] input[type=range]"
PULL_SLIDER = "[class*='st-key-{prefix}_class_pull_'] [data-testid=stSlider] input[type=range]"
WAY = "[class*='st-key-{prefix}_class_way_']"


@pytest.fixture
def shots(tmp_path) -> Path:
    out = Path(os.environ.get("ATTRIBUTE_SHOTS", tmp_path))
    out.mkdir(parents=True, exist_ok=True)
    return out


def _pixels(image) -> np.ndarray:
    """The decoded image's pixels as the browser shows them: read from the loaded <img>, not
    fetched again (a rerun may have retired its media URL meanwhile)."""
    img = image.locator("img").first
    expect(img).to_have_js_property("complete", True)
    expect(img).not_to_have_js_property("naturalWidth", 0)  # loaded, not broken
    width, rgba = img.evaluate(
        """img => {
          const canvas = document.createElement('canvas');
          canvas.width = img.naturalWidth;
          canvas.height = img.naturalHeight;
          const context = canvas.getContext('2d');
          context.drawImage(img, 0, 0);
          return [canvas.width,
                  Array.from(context.getImageData(0, 0, canvas.width, canvas.height).data)];
        }""")
    return np.asarray(rgba, dtype=np.int16).reshape(-1, width, 4)[..., 0]


def _move_slider(page, selector: str, presses: int) -> None:
    slider = page.locator(selector).first
    slider.scroll_into_view_if_needed()
    slider.focus()
    for _ in range(presses):
        page.keyboard.press("ArrowRight")
    wait_for_idle(page)


def test_an_attribute_slider_changes_an_uploaded_image(served_real_app, page, shots):
    page.set_viewport_size(VIEWPORT)
    open_page(page, served_real_app, "Reconstruct")
    upload_to_reconstruct(page, "seven.png", drawn_seven_png(), "image/png")
    # Test image #0's edit also says "no move yet": wait for the upload's own run first.
    expect(page.locator(INPUT, has_text="model input (seven.png)").last).to_be_visible(
        timeout=60_000)
    wait_for_idle(page)
    edited = page.locator(EDITED)
    expect(edited.filter(has_text="no move yet")).to_be_visible()
    before = _pixels(edited)
    # Streamlit's sliders step by keyboard; the class slider starts at 0, step 0.1.
    _move_slider(page, CLASS_SLIDER.format(prefix="recon_directions"), 15)
    expect(edited.filter(has_text="decoded μ + move (towards 0 +1.5)")).to_be_visible()
    after = _pixels(edited.filter(has_text="decoded μ + move"))
    assert after.shape == before.shape
    assert np.abs(after - before).mean() > 2.0  # grey levels: a visible change, not noise
    edited.first.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "reconstruct-attributes.png"))


def test_explore_latent_sliders_follow_an_attribute_slider(served_real_app, page, shots):
    page.set_viewport_size(VIEWPORT)
    open_page(page, served_real_app, "Explore")
    wait_in_page(page)
    before = page.locator(RANGES).evaluate_all("inputs => inputs.map(i => Number(i.value))")
    _move_slider(page, CLASS_SLIDER.format(prefix="explore_directions"), 10)
    expect(page.get_by_text("the attribute sliders (towards 0 +1.0)")).to_be_visible()
    after = page.locator(RANGES).evaluate_all("inputs => inputs.map(i => Number(i.value))")
    assert after != before and before == [0.0] * len(before)  # started from z = 0
    page.locator("[data-testid=stMain] [data-testid=stHeading]",
                 has_text="Attribute directions").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "explore-attributes.png"))


def test_explore_latent_sliders_follow_a_pull_towards_a_class(served_real_app, page, shots):
    page.set_viewport_size(VIEWPORT)
    open_page(page, served_real_app, "Explore")
    wait_in_page(page)
    before = page.locator(RANGES).evaluate_all("inputs => inputs.map(i => Number(i.value))")
    pull = page.locator(WAY.format(prefix="explore_directions")).get_by_text(PULL)
    rerun_and_wait(page, pull.click)
    _move_slider(page, PULL_SLIDER.format(prefix="explore_directions"), 10)  # step 0.05
    expect(page.get_by_text("the attribute sliders (towards 0 from here 0.50)")).to_be_visible()
    after = page.locator(RANGES).evaluate_all("inputs => inputs.map(i => Number(i.value))")
    assert after != before
    page.locator("[data-testid=stMain] [data-testid=stHeading]",
                 has_text="Attribute directions").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "explore-pull.png"))


def test_a_latent_key_step_puts_the_attribute_slider_back_to_zero(served_real_app, page):
    """The latent sliders' own rerun cannot set the attribute slider (another fragment's widget):
    it reruns the page once, which draws it at 0 from the new z, and no error shows."""
    open_page(page, served_real_app, "Explore")
    wait_in_page(page)
    attribute = page.locator(CLASS_SLIDER.format(prefix="explore_directions")).first
    _move_slider(page, CLASS_SLIDER.format(prefix="explore_directions"), 10)
    expect(page.get_by_text("the attribute sliders (towards 0 +1.0)")).to_be_visible()
    moved = page.locator(RANGES).evaluate_all("inputs => inputs.map(i => Number(i.value))")
    page.locator(RANGES).first.focus()
    page.keyboard.press("ArrowRight")
    expect(attribute).to_have_value("0")
    wait_sent(page)
    expect(page.get_by_text("z: set with the sliders")).to_be_visible()
    after = page.locator(RANGES).evaluate_all("inputs => inputs.map(i => Number(i.value))")
    assert after[0] == pytest.approx(moved[0] + 0.05) and after[1:] == moved[1:]  # z kept
    expect(page.get_by_test_id("stAlert")).to_have_count(0)
