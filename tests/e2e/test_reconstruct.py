"""Reconstruct in a real browser: an uploaded PNG is reconstructed; a bad file gives an error and
the app keeps serving."""

import io
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.conftest import drawn_seven_png, upload_to_reconstruct
from tests.extreme_images import EXTREME_SIZES, strip_name, strip_png
from tools.browser import navigate, open_page
from tools.explorer import MEAN_CANVAS, wait_in_page

pytestmark = pytest.mark.e2e


def test_an_uploaded_png_is_reconstructed(served_app, page):
    open_page(page, served_app, "Reconstruct")
    upload_to_reconstruct(page, "seven.png", drawn_seven_png(), "image/png")
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("seven.png, as uploaded")).to_be_visible()
    recon = main.get_by_test_id("stImage").filter(has_text="reconstruction: decoder mean")
    expect(recon.locator("img")).to_be_visible()
    assert recon.locator("img").evaluate("img => img.complete && img.naturalWidth > 0")
    expect(main.get_by_test_id("stMetric").filter(has_text="-ELBO")).to_be_visible()


def test_a_text_file_gives_an_error_and_the_app_keeps_serving(served_app, page):
    open_page(page, served_app, "Reconstruct")
    upload_to_reconstruct(page, "notes.png", b"these are notes, not an image\n", "image/png")
    error = page.get_by_test_id("stMain").get_by_test_id("stAlert").filter(has_text="notes.png")
    expect(error).to_be_visible()
    assert page.get_by_test_id("stException").count() == 0
    navigate(page, "Explore")
    # Explore draws its picture in the page once the decoder is there (before that, the server's).
    wait_in_page(page)
    expect(page.locator(MEAN_CANVAS)).to_be_visible()


def test_extreme_aspect_ratios_are_reconstructed_without_a_traceback(served_app, page):
    open_page(page, served_app, "Reconstruct")
    main = page.get_by_test_id("stMain")
    for width, height in EXTREME_SIZES:
        name = strip_name(width, height)
        upload_to_reconstruct(page, name, strip_png(width, height), "image/png")
        shown = main.get_by_text(f"{name}, as uploaded")
        expect(shown.or_(page.get_by_test_id("stException")).first).to_be_visible()
        assert page.get_by_test_id("stException").count() == 0, name
        assert shown.count() == 1


def test_a_refused_format_replaces_the_previous_image_and_its_results(served_app, page):
    """A TIFF after a PNG: the browser used to refuse it beside the PNG, whose results stayed."""
    open_page(page, served_app, "Reconstruct")
    main = page.get_by_test_id("stMain")
    upload_to_reconstruct(page, "seven.png", drawn_seven_png(), "image/png")
    expect(main.get_by_text("seven.png, as uploaded")).to_be_visible()
    buffer = io.BytesIO()
    Image.new("L", (28, 28), 128).save(buffer, format="TIFF")
    upload_to_reconstruct(page, "scan.tiff", buffer.getvalue(), "image/tiff")
    error = main.get_by_test_id("stAlert").filter(has_text="scan.tiff")
    expect(error).to_be_visible()
    expect(error).to_contain_text("PNG, JPEG, BMP, GIF or WebP")
    expect(main.get_by_text("seven.png, as uploaded")).to_have_count(0)
    expect(main.get_by_test_id("stImage").filter(has_text="reconstruction")).to_have_count(0)


def test_the_interpolation_gif_is_encoded_when_its_button_is_clicked(served_app, page):
    # The page no longer encodes both GIFs in every run: the button's callable does, on click.
    open_page(page, served_app, "Reconstruct")
    button = page.get_by_test_id("stMain").get_by_role(
        "button", name="Download the spherical path as a GIF")
    with page.expect_download() as download:
        button.click()
    gif = Image.open(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert gif.format == "GIF"
    assert gif.n_frames > 1  # Pillow keeps one of two equal neighbouring frames: not 2 x 10 - 2
    assert download.value.suggested_filename == "interpolation-spherical.gif"
    assert page.get_by_test_id("stException").count() == 0
