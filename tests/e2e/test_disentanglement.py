"""Disentanglement in a real browser: the factor x dimension heat map draws for a shapes model."""

import pytest
from playwright.sync_api import expect

from tools.browser import open_page, wait_for_idle

pytestmark = pytest.mark.e2e


def test_the_heat_map_draws_for_a_shapes_model(served_app, page):
    open_page(page, served_app, "Disentanglement")
    expect(page.get_by_text("has no known generative factors")).to_be_visible()
    page.locator("[data-testid=stSidebar] [data-testid=stSelectbox]").first.click()
    page.get_by_role("option", name="shapes (shipped)", exact=True).click()
    wait_for_idle(page, timeout=180_000)  # loads the data set and fits DCI's predictors
    chart = page.locator("[data-testid=stPlotlyChart] .js-plotly-plot").first
    expect(chart).to_be_visible(timeout=120_000)
    # Plotly draws a heat map as one bitmap in its heat-map layer, labelled by factor.
    expect(chart.locator(".hm image")).to_have_count(1)
    for factor in ("shape", "scale", "rotation"):
        expect(chart.locator(".ytick text", has_text=factor)).to_have_count(1)
    expect(page.get_by_test_id("stMetric").filter(has_text="MIG")).to_be_visible()
