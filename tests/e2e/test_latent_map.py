"""Latent map in a real browser: the Plotly scatter draws, and clicking a point decodes it."""

import re

import pytest
from playwright.sync_api import expect

from tools.browser import open_page

pytestmark = pytest.mark.e2e


def test_clicking_a_point_shows_its_example_and_reconstruction(served_app, page):
    open_page(page, served_app, "Latent map")
    chart = page.locator("[data-testid=stPlotlyChart] .js-plotly-plot").first
    expect(chart).to_be_visible()
    points = chart.locator(".scatterlayer .points path.point")
    assert points.count() > 100  # the test set's posterior means
    expect(page.get_by_text("Click a point to see its image")).to_be_visible()

    box = points.first.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.get_by_text(re.compile(r"^Example #\d+$"))).to_be_visible()
    main = page.get_by_test_id("stMain")
    expect(main.get_by_test_id("stImageCaption").filter(has_text="reconstruction")).to_be_visible()
    expect(main.get_by_test_id("stImage").filter(has_text="original").locator("img")).to_be_visible()
