"""Checkpoints uploaded in the sidebar are hostile until checked: what a visitor sees."""

import json

from PIL import Image
from streamlit.testing.v1 import AppTest

from tests.conftest import PROJECT_DIR, make_tiny_checkpoint, upload_checkpoint
from vae_core.data import folder

EXPLORE = "app_pages/explore.py"


def _upload(directory, edit) -> AppTest:
    document = json.loads((directory / "config.json").read_text())
    edit(document)
    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=60).run()
    return upload_checkpoint(at, [
        ("model.safetensors", (directory / "model.safetensors").read_bytes(),
         "application/octet-stream"),
        ("config.json", json.dumps(document).encode(), "application/json")])


def test_an_uploaded_data_path_is_not_read_on_any_page(app_env, tmp_path, monkeypatch):
    server_images = tmp_path / "server-images"
    server_images.mkdir()
    for i in range(12):
        Image.new("L", (8, 8), 20 * i).save(server_images / f"{i}.png")
    opened = []
    monkeypatch.setattr(folder, "open_image_source", lambda *args: opened.append(args))
    make_tiny_checkpoint(tmp_path / "mine", "mnist32")

    def point_at_server(document):
        document["data"] = {"name": "images", "path": str(server_images)}

    at = _upload(tmp_path / "mine", point_at_server)
    assert at.sidebar.selectbox(key="model_picker").value.startswith("upload:")
    at.switch_page(EXPLORE).run()
    assert not at.exception
    assert opened == []
    assert any("never read on this server" in info.value for info in at.info)


def test_a_non_numeric_metadata_figure_is_refused_not_a_crash(app_env, tmp_path):
    make_tiny_checkpoint(tmp_path / "mine", "mnist32")

    def text_figure(document):
        document["metadata"]["test"]["neg_elbo"] = "very good"

    at = _upload(tmp_path / "mine", text_figure)
    at.switch_page(EXPLORE).run()
    assert not at.exception
    assert "metadata.test.neg_elbo must be a finite number" in at.sidebar.error[0].value
    assert at.sidebar.selectbox(key="model_picker").value == "asset:mnist32"
