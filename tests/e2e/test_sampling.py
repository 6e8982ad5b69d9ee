"""Sampling in a real browser: the Plotly animation plays, and the GIF downloads."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tools.browser import VIEWPORT, open_page

pytestmark = pytest.mark.e2e

ACTIVE_FRAME_JS = "el => el._fullLayout.sliders[0].active"


def test_the_animation_plays_and_the_gif_downloads(served_app, page):
    open_page(page, served_app, "Sampling")
    chart = page.locator("[data-testid=stPlotlyChart] .js-plotly-plot").first
    expect(chart).to_be_visible()
    play = chart.locator(".updatemenu-button", has_text="Play")
    expect(play).to_be_visible()
    box, plot = play.bounding_box(), chart.bounding_box()
    assert box["y"] + box["height"] <= VIEWPORT["height"], "Play is below the fold at 1280x800"
    assert box["y"] < plot["y"] + plot["height"] / 4, "Play is not above the planes"
    assert chart.evaluate(ACTIVE_FRAME_JS) == 0
    play.click()
    page.wait_for_function(f"el => ({ACTIVE_FRAME_JS})(el) >= 2", arg=chart.element_handle())

    button = page.get_by_test_id("stDownloadButton").filter(has_text="Download GIF")
    with page.expect_download() as download:
        button.click()
    gif = download.value
    assert gif.suggested_filename.endswith(".gif")
    assert Path(gif.path()).read_bytes()[:6] == b"GIF89a"


def test_pausing_and_scrubbing_while_playing_raise_no_error(served_app, page):
    """Plotly rejects the promise of an animation its own controls interrupt; the page must not
    let that escape as an uncaught error (the `page` fixture fails on any page error)."""
    open_page(page, served_app, "Sampling")
    chart = page.locator("[data-testid=stPlotlyChart] .js-plotly-plot").first
    chart.locator(".updatemenu-button", has_text="Play").click()
    page.wait_for_function(f"el => ({ACTIVE_FRAME_JS})(el) >= 1", arg=chart.element_handle())
    chart.locator(".updatemenu-button", has_text="Pause").click()
    chart.locator(".updatemenu-button", has_text="Play").click()
    rail = chart.locator("rect.slider-rail-rect").first.bounding_box()
    for fraction in (0.3, 0.7, 0.5):
        page.mouse.click(rail["x"] + rail["width"] * fraction, rail["y"] + rail["height"] / 2)
    page.wait_for_function(f"el => ({ACTIVE_FRAME_JS})(el) > 0", arg=chart.element_handle())
    page.wait_for_timeout(1000)  # an unhandled rejection is reported after the microtasks
