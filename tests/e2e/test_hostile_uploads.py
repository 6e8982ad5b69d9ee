"""Every uploader on every page, in a real browser, takes a hostile corpus without a traceback:
each file is used, or refused with a message that names it.

The uploaders: Explore's "Your image", Reconstruct's six (reconstruction, interpolation's From
and To, arithmetic's A, B and C), Train's zip of images and the sidebar's checkpoint upload.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from dataclasses import dataclass

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.conftest import import_foreign, make_tiny_checkpoint
from tests.extreme_images import EXTREME_SIZES, strip_name, strip_png
from tools.browser import open_page, rerun_and_wait, wait_for_idle
from ui.page_guard import MESSAGE

pytestmark = pytest.mark.e2e

RECONSTRUCT_UPLOADERS = ["recon", "interp_a", "interp_b", "arith_a", "arith_b", "arith_c"]
OCTET = "application/octet-stream"
UNEXPECTED = MESSAGE.split(";")[0]  # what the page guard shows for an error nobody expected


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes
    refused: bool  # True: a message must name it; False: the page uses it


def _encoded(image: Image.Image, image_format: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format)
    return buffer.getvalue()


def _digit(white: int = 255) -> Image.Image:
    """A bar on black: "1" as an 8-bit image, or at 16 bits with white = 65535."""
    pixels = np.zeros((28, 28), np.uint8 if white == 255 else np.uint16)
    pixels[6:22, 12:16] = white
    return Image.fromarray(pixels)


def image_corpus() -> list[Upload]:
    png = _encoded(_digit(), "PNG")
    garbage = np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    return [
        Upload("empty.png", b"", refused=True),
        Upload("garbage.png", garbage, refused=True),
        Upload("truncated.png", png[: len(png) // 2], refused=True),
        Upload("zahlen-ü-数字.png", garbage, refused=True),  # a name that is not ASCII
        *(Upload(strip_name(w, h), strip_png(w, h), refused=False) for w, h in EXTREME_SIZES),
        Upload("photo.png", _encoded(_digit().convert("RGB"), "JPEG"), refused=False),
        Upload("one-bit.bmp", _encoded(_digit().convert("1"), "BMP"), refused=False),
        Upload("sixteen-bit.png", _encoded(_digit(65535), "PNG"), refused=False),
    ]


def zip_corpus() -> list[Upload]:
    escaping = io.BytesIO()
    with zipfile.ZipFile(escaping, "w") as archive:
        for i in range(20):
            archive.writestr(f"../../outside/{i}.png", _encoded(_digit(), "PNG"))
    return [Upload("escape.zip", escaping.getvalue(), refused=True),
            Upload("empty.zip", b"", refused=True),
            Upload("garbage.zip", b"PK\x03\x04" + bytes(200), refused=True)]


def _drop(page, uploader, upload: Upload) -> None:
    """Give `uploader` (its key's container) the file and wait for the rerun it causes.

    First wait out any rerun still going (after a used image, Explore's sliders report back and
    rerun their fragment): a file given to an input that the rerun then replaces was lost, and
    the wait for its rerun timed out (once in eight full browser runs)."""
    wait_for_idle(page)
    field = uploader.get_by_test_id("stFileUploaderDropzoneInput")
    rerun_and_wait(page, lambda: field.set_input_files(
        files=[{"name": upload.name, "mimeType": OCTET, "buffer": upload.data}]))


def _check(page, scope, upload: Upload, used=None) -> None:
    """No traceback anywhere; a refusal names the file in `scope`, a used file is not refused
    there (and shows `used`, a locator, where the page says it used it)."""
    alert = scope.get_by_test_id("stAlert").filter(has_text=upload.name)
    exception = page.get_by_test_id("stException").or_(page.get_by_text(UNEXPECTED))
    if upload.refused:
        expect(alert.or_(exception).first).to_be_visible()
    elif used is not None:
        expect(used.or_(exception).first).to_be_visible()
    assert exception.count() == 0, f"{upload.name}: {exception.first.inner_text()}"
    assert alert.count() == (1 if upload.refused else 0), upload.name


def test_explore_takes_the_corpus_in_your_image(served_app, page):
    """Among them the 10000x3 and 3x10000 strips."""
    open_page(page, served_app, "Explore")
    main = page.get_by_test_id("stMain")
    for upload in image_corpus():
        if not page.locator(".st-key-explore_upload").is_visible():
            main.get_by_role("button", name="Your image").click()
        _drop(page, page.locator(".st-key-explore_upload"), upload)
        _check(page, main, upload, main.get_by_text(f"posterior mean of your image {upload.name}"))


def test_every_reconstruct_uploader_takes_the_corpus(served_app, page):
    open_page(page, served_app, "Reconstruct")
    main = page.get_by_test_id("stMain")
    for prefix in RECONSTRUCT_UPLOADERS:
        page.locator(f".st-key-{prefix}_source").get_by_role("tab", name="Upload").click()
        for upload in image_corpus():
            _drop(page, page.locator(f".st-key-{prefix}_upload"), upload)
            used = main.get_by_text(f"{upload.name}, as uploaded") if prefix == "recon" else None
            _check(page, page.locator(f".st-key-{prefix}_source"), upload, used)


def test_the_train_zip_uploader_refuses_hostile_zips_by_name(served_app, page):
    open_page(page, served_app, "Train")
    page.locator("[data-testid=stSelectbox]", has_text="Dataset").first.click()
    page.get_by_role("option", name="my images (zip upload)").click()
    main = page.get_by_test_id("stMain")
    for upload in zip_corpus():
        _drop(page, page.locator(".st-key-train_upload"), upload)
        rerun_and_wait(page, page.get_by_role("button", name="Start training").click)
        _check(page, main, upload)
        expect(main.get_by_text("Nothing was started")).to_be_visible()


@pytest.fixture(scope="module")
def imported_model(tmp_path_factory):
    return import_foreign("residual", tmp_path_factory.mktemp("hostile-import"), dataset=False)


def _sidebar_sets(checkpoint, imported) -> list[tuple[list[Upload], str]]:
    """(files dropped together, the name the refusal must give)."""
    config = Upload("config.json", (checkpoint / "config.json").read_bytes(), refused=True)
    pickled = Upload("model.safetensors", pickle.dumps({"weights": [0.0] * 64}), refused=True)
    card, encoder, decoder = ((imported / name).read_bytes()
                              for name in ("model.json", "encoder.onnx", "decoder.onnx"))
    return [([pickled, config], "model.safetensors"),
            ([Upload("model.json", card, True), Upload("encoder.onnx", encoder, True),
              Upload("decoder.onnx", decoder[: len(decoder) // 2], True)], "decoder.onnx")]


def test_the_sidebar_refuses_a_pickle_and_a_cut_graph_by_name(served_app, page, tmp_path,
                                                              imported_model):
    checkpoint = make_tiny_checkpoint(tmp_path / "mine", "mnist32")
    sidebar = page.get_by_test_id("stSidebar")
    for files, named in _sidebar_sets(checkpoint, imported_model):
        open_page(page, served_app, "Explore")  # a new session: the uploader keeps what it got
        sidebar.get_by_text("Upload a checkpoint").click()
        field = sidebar.get_by_test_id("stFileUploaderDropzoneInput")
        dropped = [{"name": f.name, "mimeType": OCTET, "buffer": f.data} for f in files]
        rerun_and_wait(page, lambda: field.set_input_files(files=dropped))  # noqa: B023
        _check(page, sidebar, Upload(named, b"", refused=True))
        expect(sidebar.get_by_text("That model cannot be used")).to_be_visible()
