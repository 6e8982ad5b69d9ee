"""Fixtures shared by every layer: tiny checkpoints made on the fly, and isolated app folders."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from tools.tiny_models import TINY_MODELS, make_tiny_checkpoint
from vae_core.checkpoint import save_checkpoint
from vae_core.config import DataConfig, ModelConfig, TrainConfig
from vae_core.models import build_model
from vae_core.runs import LAUNCH_FILE, list_runs, run_info

PROJECT_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def generated_data_cache(tmp_path_factory) -> Path:
    """Generated data sets (shapes, shapes3d) are cached on disk: in the session's own folder,
    not the home's (the app servers the tests start inherit it)."""
    folder = tmp_path_factory.mktemp("data-cache")
    os.environ["LATENT_LAB_DATA_CACHE"] = str(folder)
    return folder


# A plain autoencoder and a VAE with the same networks (AE vs VAE), and the test figures their
# checkpoints carry (an autoencoder has no ELBO).
TINY_AE = ModelConfig(image_shape=(1, 28, 28), arch="mlp", hidden=(16,), latent_dim=3,
                      likelihood="bernoulli", kind="ae")
TINY_VAE = ModelConfig(**{**TINY_AE.__dict__, "kind": "vae"})
AE_TEST_FIGURES = {"recon": 210.5, "neg_elbo": None, "kl": None, "log_px": None,
                   "n_images": 1000}
VAE_TEST_FIGURES = {"recon": 220.0, "neg_elbo": 230.0, "kl": 10.0, "log_px": -228.0,
                    "n_images": 1000}


def save_untrained(directory: Path, config: ModelConfig, test: dict, seed: int = 0) -> Path:
    """An untrained `config` saved as a checkpoint whose metadata carries the figures `test`."""
    torch.manual_seed(seed)
    return save_checkpoint(directory, build_model(config), DataConfig(name="mnist5k"),
                           TrainConfig(epochs=1), metadata={"epoch": 1, "test": test})


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


NO_DATA = "no-data"  # imported_assets' model imported without --dataset


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


def import_foreign(name: str, root: Path, dataset: bool = True,
                   out_name: str | None = None) -> Path:
    """examples/foreign_vaes.py's `name` exported to ONNX and imported into root/out_name
    (default: root/name)."""
    from examples.foreign_vaes import build, export_onnx
    from vae_core.model_import import import_onnx

    options = dict(FOREIGN_IMPORTS[name])
    data = options.pop("dataset")
    if data == "rgb_folder":
        data = str(rgb_image_folder(root / "rgb-images"))
    encoder, decoder = export_onnx(build(name), root / f"{name}-onnx")
    return import_onnx(encoder, decoder, root / (out_name or name),
                       dataset=data if dataset else None, figure_images=50, **options)


@pytest.fixture(scope="session")
def imported_assets(tmp_path_factory) -> Path:
    """An assets/ folder with the tiny mnist32 (the default), every foreign VAE imported, and
    one imported without a data set (NO_DATA)."""
    root = tmp_path_factory.mktemp("imported_assets")
    make_tiny_checkpoint(root / "mnist32", "mnist32")
    sources = tmp_path_factory.mktemp("imported_sources")
    for name in FOREIGN_IMPORTS:
        folder = import_foreign(name, sources)
        folder.rename(root / name)
    import_foreign("residual", sources, dataset=False, out_name=NO_DATA).rename(root / NO_DATA)
    return root


@pytest.fixture
def imported_env(imported_assets, tmp_path, monkeypatch) -> Path:
    runs = tmp_path / "runs"
    runs.mkdir()
    monkeypatch.setenv("LATENT_LAB_ASSETS", str(imported_assets))
    monkeypatch.setenv("LATENT_LAB_RUNS", str(runs))
    return runs


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.05):
    """Poll until predicate() is truthy; returns its value, fails the test on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout} s waiting for {predicate}")


def kill_live_runs(runs_root: Path) -> None:
    """Teardown: SIGKILL every trainer still running under runs_root."""
    for info in list_runs(runs_root):
        launch = info.path / LAUNCH_FILE
        if info.live and launch.is_file():
            pid = json.loads(launch.read_text())["pid"]
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
            wait_until(lambda p=info.path: not run_info(p).live, timeout=10)
