"""Reconstruct in a real browser: an uploaded PNG is reconstructed; a bad file gives an error and
the app keeps serving."""

import io

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from tests.extreme_images import EXTREME_SIZES, strip_name, strip_png
from tools.browser import navigate, open_page

pytestmark = pytest.mark.e2e


def digit_png() -> bytes:
    """A white '7' drawn on black, bigger than the model's input (it gets resized)."""
    image = Image.new("L", (56, 56), 0)
    ImageDraw.Draw(image).line([(12, 12), (44, 12), (24, 48)], fill=255, width=6)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def upload(page, name: str, data: bytes, mime: str) -> None:
    """Open the Image's "Upload" tab and drop a file on its uploader.

    Both are found by their widget keys: the page's elements can be drawn seconds after the
    script run ends, and a bare "Upload" text then matched whichever radio existed first. The
    uploader is mounted from the first paint (product fix), so there is no rerun to wait out.
    """
    page.locator(".st-key-recon_source").get_by_role("tab", name="Upload").click()
    uploader = page.locator(".st-key-recon_upload").get_by_test_id("stFileUploaderDropzoneInput")
    uploader.set_input_files(files=[{"name": name, "mimeType": mime, "buffer": data}])


def test_an_uploaded_png_is_reconstructed(served_app, page):
    open_page(page, served_app, "Reconstruct")
    upload(page, "seven.png", digit_png(), "image/png")
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("seven.png, as uploaded")).to_be_visible()
    recon = main.get_by_test_id("stImage").filter(has_text="reconstruction: decoder mean")
    expect(recon.locator("img")).to_be_visible()
    assert recon.locator("img").evaluate("img => img.complete && img.naturalWidth > 0")
    expect(main.get_by_test_id("stMetric").filter(has_text="-ELBO")).to_be_visible()


def test_a_text_file_gives_an_error_and_the_app_keeps_serving(served_app, page):
    open_page(page, served_app, "Reconstruct")
    upload(page, "notes.png", b"these are notes, not an image\n", "image/png")
    error = page.get_by_test_id("stMain").get_by_test_id("stAlert").filter(has_text="notes.png")
    expect(error).to_be_visible()
    assert page.get_by_test_id("stException").count() == 0
    navigate(page, "Explore")
    expect(page.get_by_test_id("stMain").get_by_test_id("stImage").first).to_be_visible()


def test_extreme_aspect_ratios_are_reconstructed_without_a_traceback(served_app, page):
    open_page(page, served_app, "Reconstruct")
    main = page.get_by_test_id("stMain")
    for width, height in EXTREME_SIZES:
        name = strip_name(width, height)
        upload(page, name, strip_png(width, height), "image/png")
        shown = main.get_by_text(f"{name}, as uploaded")
        expect(shown.or_(page.get_by_test_id("stException")).first).to_be_visible()
        assert page.get_by_test_id("stException").count() == 0, name
        assert shown.count() == 1
