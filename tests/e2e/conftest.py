"""Real-browser fixtures (the app served by `streamlit run`, Chromium driven by Playwright) and
helpers the browser tests share."""

from __future__ import annotations

import io
import os
import warnings

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from tools.browser import CHROMIUM, PROJECT_DIR, launch_browser, serve_app

REAL_ASSETS = PROJECT_DIR / "assets" / "mnist32"
# Two cores shared with other work: a rerun can take a few seconds.
expect.set_options(timeout=15_000)


def in_ci() -> bool:
    """CI sets CI (GitHub Actions, GitLab and most others do; .ci/run sets it too)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def pytest_collection_modifyitems(config, items):
    """Without Chromium the browser tests cannot run: in CI that fails them (a green run that
    tested nothing in a browser would be a lie); on a workstation they skip, loudly."""
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing: apt-get install -y chromium (scripts/setup.sh --dev does it)"
    browser_tests = [item for item in items if "e2e" in item.keywords]
    if not browser_tests:
        return
    if in_ci():
        raise pytest.UsageError(f"CI is set and {len(browser_tests)} browser tests cannot run: "
                                f"{reason}")
    warnings.warn(pytest.PytestWarning(f"SKIPPING {len(browser_tests)} browser tests: {reason}"),
                  stacklevel=1)
    for item in browser_tests:
        item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def served_app(tiny_assets, tmp_path_factory):
    """The app on tiny models made on the fly, with an empty runs folder of its own."""
    runs = tmp_path_factory.mktemp("e2e-runs")
    with serve_app(runs, assets=tiny_assets) as app:
        yield app


@pytest.fixture(scope="session")
def served_real_app(tmp_path_factory):
    """The app on the shipped models in assets/ (for screenshots and latency)."""
    if not REAL_ASSETS.is_dir():
        pytest.skip("assets/mnist32 is not there: the shipped model is needed")
    with serve_app(tmp_path_factory.mktemp("e2e-real-runs")) as app:
        yield app


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = launch_browser(playwright, tmp_path_factory.mktemp("chromium-profile"))
        context.set_default_timeout(30_000)
        yield context
        context.close()


@pytest.fixture
def page(browser_context):
    """A fresh tab, so a fresh Streamlit session; fails the test on any browser-side page error."""
    tab = browser_context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    tab.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


# Reconstruct's upload --------------------------------------------------------------------

def drawn_seven_png() -> bytes:
    """A white '7' drawn on black, bigger than the model's input (it gets resized)."""
    image = Image.new("L", (56, 56), 0)
    ImageDraw.Draw(image).line([(12, 12), (44, 12), (24, 48)], fill=255, width=6)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def upload_to_reconstruct(page, name: str, data: bytes, mime: str) -> None:
    """Open the Image's "Upload" tab and drop a file on its uploader.

    Both are found by their widget keys: the page's elements can be drawn seconds after the
    script run ends, and a bare "Upload" text then matched whichever radio existed first. The
    uploader is mounted from the first paint (product fix), so there is no rerun to wait out.
    """
    page.locator(".st-key-recon_source").get_by_role("tab", name="Upload").click()
    uploader = page.locator(".st-key-recon_upload").get_by_test_id("stFileUploaderDropzoneInput")
    uploader.set_input_files(files=[{"name": name, "mimeType": mime, "buffer": data}])
