"""Every page with imported models (tests/foreign_vaes.py through import-onnx): what applies
works, what does not says so, and no page raises."""

from __future__ import annotations

import pytest

from tests.conftest import FOREIGN_IMPORTS, open_app_page

PAGES = ["explore", "latent_map", "disentanglement", "sampling", "reconstruct", "ae_vs_vae"]


@pytest.mark.parametrize("name", list(FOREIGN_IMPORTS))
@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_with_an_imported_model(imported_env, name, page):
    at = open_app_page(page, f"asset:{name}")
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
