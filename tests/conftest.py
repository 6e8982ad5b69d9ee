"""Fixtures shared by every layer: tiny checkpoints made on the fly, and isolated app folders."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from tools.tiny_models import TINY_MODELS, make_tiny_checkpoint

PROJECT_DIR = Path(__file__).resolve().parent.parent


def open_app_page(page: str, model_key: str, timeout: float = 120, **state) -> AppTest:
    """The app on app_pages/<page>.py, with `model_key` (e.g. "asset:mnist32") and `state` set."""
    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=timeout)
    at.session_state["model_key"] = model_key
    for key, value in state.items():
        at.session_state[key] = value
    return at.switch_page(f"app_pages/{page}.py").run()


def checkpoint_uploader(at: AppTest):
    """The sidebar's checkpoint uploader (its key changes each time a load clears it)."""
    (uploader,) = at.sidebar.get("file_uploader")
    return uploader


def checkpoint_files(directory: Path) -> list[tuple[str, bytes, str]]:
    """A checkpoint folder's two files as an upload gives them: (name, bytes, mime)."""
    return [("model.safetensors", (directory / "model.safetensors").read_bytes(),
             "application/octet-stream"),
            ("config.json", (directory / "config.json").read_bytes(), "application/json")]


def upload_checkpoint(at: AppTest, files: list[tuple[str, bytes, str]]) -> AppTest:
    """Drop (name, bytes, mime) files on the sidebar's checkpoint uploader and rerun."""
    uploader = checkpoint_uploader(at)
    for name, data, mime in files:
        uploader.upload(name, data, mime)
    return at.run()


@pytest.fixture(scope="session")
def tiny_assets(tmp_path_factory) -> Path:
    """An assets/ folder of tiny models named like the shipped ones."""
    root = tmp_path_factory.mktemp("assets")
    for name in TINY_MODELS:
        make_tiny_checkpoint(root / name, name)
    return root


@pytest.fixture
def app_env(tiny_assets, tmp_path, monkeypatch) -> Path:
    """Point the app at the tiny assets and an empty runs folder; returns the runs folder."""
    runs = tmp_path / "runs"
    runs.mkdir()
    monkeypatch.setenv("LATENT_LAB_ASSETS", str(tiny_assets))
    monkeypatch.setenv("LATENT_LAB_RUNS", str(runs))
    return runs


# How each VAE of examples/foreign_vaes.py is imported: its options, and the data its maps show.
FOREIGN_IMPORTS = {
    "pytorch_vae": {"input_range": "-1,1", "decoder_output": "tanh", "dataset": "rgb_folder"},
    "pythae": {"input_range": "0,1", "decoder_output": "probs", "dataset": "mnist5k"},
    "residual": {"input_range": "0,1", "decoder_output": "logits", "dataset": "mnist5k"},
    "plain_ae": {"input_range": "0,1", "decoder_output": "mean", "dataset": "mnist5k"},
    "spatial": {"input_range": "0,1", "decoder_output": "probs", "dataset": "mnist5k"},
}


def rgb_image_folder(directory: Path, n: int = 60, side: int = 64) -> Path:
    """Small colour PNGs (a coloured square on a coloured ground) for the 64x64 RGB model."""
    from PIL import Image

    generator = torch.Generator().manual_seed(0)
    directory.mkdir(parents=True, exist_ok=True)
    for index in range(n):
        ground, square = (torch.rand(2, 3, generator=generator) * 255).int().tolist()
        image = Image.new("RGB", (side, side), tuple(ground))
        corner = int(torch.randint(0, side // 2, (1,), generator=generator))
        image.paste(tuple(square), (corner, corner, corner + side // 3, corner + side // 3))
        image.save(directory / f"image_{index:03d}.png")
    return directory


def import_foreign(name: str, root: Path, dataset: bool = True) -> Path:
    """examples/foreign_vaes.py's `name` exported to ONNX and imported into root/name."""
    from examples.foreign_vaes import build, export_onnx
    from vae_core.model_import import import_onnx

    options = dict(FOREIGN_IMPORTS[name])
    data = options.pop("dataset")
    if data == "rgb_folder":
        data = str(rgb_image_folder(root / "rgb-images"))
    encoder, decoder = export_onnx(build(name), root / f"{name}-onnx")
    return import_onnx(encoder, decoder, root / name, dataset=data if dataset else None,
                       figure_images=50, **options)


@pytest.fixture(scope="session")
def imported_assets(tmp_path_factory) -> Path:
    """An assets/ folder with the tiny mnist32 (the default) and every foreign VAE imported."""
    root = tmp_path_factory.mktemp("imported_assets")
    make_tiny_checkpoint(root / "mnist32", "mnist32")
    sources = tmp_path_factory.mktemp("imported_sources")
    for name in FOREIGN_IMPORTS:
        folder = import_foreign(name, sources)
        folder.rename(root / name)
    return root


@pytest.fixture
def imported_env(imported_assets, tmp_path, monkeypatch) -> Path:
    runs = tmp_path / "runs"
    runs.mkdir()
    monkeypatch.setenv("LATENT_LAB_ASSETS", str(imported_assets))
    monkeypatch.setenv("LATENT_LAB_RUNS", str(runs))
    return runs
