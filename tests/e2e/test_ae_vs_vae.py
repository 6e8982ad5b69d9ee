"""The AE vs VAE page in a real browser: both latent maps drawn and every image loaded."""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import expect

from tests.conftest import (
    AE_TEST_FIGURES,
    TINY_AE,
    TINY_VAE,
    VAE_TEST_FIGURES,
    save_untrained,
)
from tools.browser import open_page, serve_app

pytestmark = pytest.mark.e2e

LOADED_IMAGES_JS = """
() => [...document.querySelectorAll('[data-testid=stMain] [data-testid=stImage] img')]
        .filter(i => i.complete && i.naturalWidth > 0).length
"""


@pytest.fixture(scope="module")
def served_pair(tiny_assets, tmp_path_factory):
    """The app on the tiny models plus an untrained AE and VAE with the same networks."""
    root = tmp_path_factory.mktemp("pair") / "assets"
    shutil.copytree(tiny_assets, root)
    save_untrained(root / "mnist-ae", TINY_AE, AE_TEST_FIGURES)
    save_untrained(root / "mnist-vae", TINY_VAE, VAE_TEST_FIGURES)
    with serve_app(tmp_path_factory.mktemp("pair-runs"), assets=root) as app:
        yield app


def test_the_page_draws_both_maps_and_loads_every_image(served_pair, page):
    open_page(page, served_pair, "AE vs VAE")
    main = page.locator("[data-testid=stMain]")
    expect(main.locator("h1", has_text="AE vs VAE")).to_be_visible()
    maps = main.locator("[data-testid=stPlotlyChart]")
    expect(maps).to_have_count(2)
    for index in range(2):
        expect(maps.nth(index).locator(".main-svg").first).to_be_visible()
    # Prior draws and interpolations, one grid per model; each must have decoded to a bitmap.
    page.wait_for_function(f"({LOADED_IMAGES_JS})() === 4", timeout=30_000)
    assert page.locator("[data-testid=stException]").count() == 0
    page.locator("button", has_text="New draws").click()
    expect(main.get_by_text("(seed 1)")).to_be_visible()
    page.wait_for_function(f"({LOADED_IMAGES_JS})() === 4", timeout=30_000)
