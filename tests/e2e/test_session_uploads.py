"""In a real server, a checkpoint uploaded in a tab is deleted once that tab's session has ended
(the closed session's reconnect window, then the sweep), and stays while the tab is open."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.conftest import make_tiny_checkpoint
from tools.browser import open_page, serve_app

pytestmark = pytest.mark.e2e


def _session_folders(tmp_root, pid: int) -> list:
    server = tmp_root / "latent-lab-uploads" / str(pid)
    return sorted(server.iterdir()) if server.is_dir() else []


def test_an_uploaded_checkpoint_is_deleted_when_its_session_ends(
    tiny_assets, tmp_path, monkeypatch, browser_context
):
    tmp_root = tmp_path / "tmp"
    tmp_root.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp_root))  # where the served app keeps uploads
    monkeypatch.setenv("LATENT_LAB_SWEEP_SECONDS", "1")
    monkeypatch.setenv("STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL", "2")
    checkpoint = make_tiny_checkpoint(tmp_path / "mine", "shapes", seed=3)
    (tmp_path / "runs").mkdir()
    with serve_app(tmp_path / "runs", assets=tiny_assets) as app:
        page = browser_context.new_page()
        open_page(page, app)
        page.get_by_text("Upload a checkpoint").click()
        page.locator("[data-testid=stSidebar] input[type=file]").set_input_files(
            [str(checkpoint / "model.safetensors"), str(checkpoint / "config.json")])
        # In the sidebar: the same words show as a toast for a while, and two matches fail.
        sidebar = page.get_by_test_id("stSidebar")
        expect(sidebar.get_by_text("Checkpoint loaded and active")).to_be_visible()
        # Cleared for the next upload: the loaded pair is not left listed.
        chips = page.locator("[data-testid=stSidebar] [data-testid=stFileChipName]")
        expect(chips).to_have_count(0)
        (session,) = _session_folders(tmp_root, app.process.pid)
        assert (next(session.iterdir()) / "model.safetensors").is_file()
        time.sleep(4)  # a few sweeps: an open tab keeps its upload
        assert session.is_dir()
        page.close()
        deadline = time.monotonic() + 30
        while session.exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not session.exists()
