"""Imported models (examples/foreign_vaes.py through import-onnx) in a real browser: the page runs
their decoders, equal to onnxruntime's within 1e-3 at 20 z (one reached by dragging), for
latents with a slider each and for those seen through their principal directions; and the three
files of an imported model upload through the sidebar."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch
from playwright.sync_api import expect

from tests.conftest import FOREIGN_IMPORTS
from tools.browser import open_page, serve_app
from tools.explorer import EXPLORER, drag_first_slider, hook, pick_model, wait_in_page
from vae_core.data import load_dataset
from vae_core.imported import load_imported
from vae_core.principal import needs_view, principal_view

pytestmark = pytest.mark.e2e

TOLERANCE = 1e-3  # max abs difference on the 0-1 pixel scale


@pytest.fixture(scope="module")
def served_imports(imported_assets, tmp_path_factory):
    runs = tmp_path_factory.mktemp("imported-runs")
    with serve_app(runs, assets=imported_assets) as app:
        yield app


def _explored(folder):
    """The model Explore's sliders move: the imported one, or its principal view (as the app
    makes it, from the same test images)."""
    files = load_imported(folder)
    if not needs_view(files.model.latent_dim):
        return files.model
    return principal_view(files.model, load_dataset(files.data_config).train_x)


@pytest.mark.parametrize("name", list(FOREIGN_IMPORTS))
def test_in_page_decode_equals_onnxruntime_at_20_z(served_imports, imported_assets, page, name):
    open_page(page, served_imports, "Explore")
    pick_model(page, f"{name} (imported)")
    wait_in_page(page, f"asset:{name}")
    drag_first_slider(page)
    dragged = hook(page, "lastFrame()")
    assert any(v != 0 for v in dragged["z"])  # the mouse really moved a slider
    model = _explored(imported_assets / name)
    assert len(dragged["z"]) == model.latent_dim
    zs = [dragged["z"], *np.random.default_rng(0).uniform(-3, 3, (19, model.latent_dim))
          .round(2).tolist()]
    means = [dragged["mean"], *[hook(page, "decode(arg)", z)["mean"] for z in zs[1:]]]
    with torch.no_grad():
        expected = model.decode(torch.tensor(zs, dtype=torch.float32)).mean.flatten(1).numpy()
    assert np.abs(np.array(means) - expected).max() < TOLERANCE


def test_an_imported_model_uploads_through_the_sidebar(served_imports, imported_assets, page):
    open_page(page, served_imports, "Explore")
    page.get_by_text("Upload a checkpoint").click()
    files = [imported_assets / "residual" / name
             for name in ("model.json", "encoder.onnx", "decoder.onnx")]
    page.locator("[data-testid=stSidebar] input[type=file]").set_input_files(list(map(str, files)))
    # In the sidebar: the same words show as a toast for a while, and two matches fail.
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("Checkpoint loaded and active: uploaded: residual")).to_be_visible()
    digest = hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()[:16]
    wait_in_page(page, f"upload:{digest}")
    expect(page.locator(EXPLORER).locator("input[type=range]")).to_have_count(8)
