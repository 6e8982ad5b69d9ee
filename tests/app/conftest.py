"""Fixtures for app tests: an assets/ folder whose tiny mnist32 is briefly trained, so its codes
carry the labels (an untrained encoder's class means are too close to show on the sliders)."""

from __future__ import annotations

import pytest
import torch

from tests.conftest import TINY_MODELS, make_tiny_checkpoint
from vae_core.checkpoint import save_checkpoint
from vae_core.config import TrainConfig
from vae_core.data import load_dataset
from vae_core.models import VAE
from vae_core.objectives import elbo_terms

STEPS = 150
METADATA = {"epoch": 1, "step": STEPS, "train_seconds": 5.0, "device": "cpu",
            "test": {"neg_elbo": 400.0, "kl": 5.0, "recon": 395.0, "log_px": -398.0,
                     "log_px_stderr": 0.5, "iw_samples": 10, "n_images": 100}}


def _trained_mnist32() -> VAE:
    model_config, data_config = TINY_MODELS["mnist32"]
    torch.manual_seed(0)
    model, data = VAE(model_config), load_dataset(data_config)
    optimizer = torch.optim.Adam(model.parameters(), 3e-3)
    batches = torch.Generator().manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny batches: more threads only contend (10x slower on 2 cores)
    try:
        _train(model, data, optimizer, batches)
    finally:
        torch.set_num_threads(threads)
    return model.eval()


def _train(model, data, optimizer, batches) -> None:
    for _ in range(STEPS):
        batch = data.train_x[torch.randint(0, len(data.train_x), (64,), generator=batches)]
        loss = elbo_terms(model, batch).loss.mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


@pytest.fixture(scope="session")
def trained_assets(tmp_path_factory):
    root = tmp_path_factory.mktemp("trained_assets")
    _, data_config = TINY_MODELS["mnist32"]
    save_checkpoint(root / "mnist32", _trained_mnist32(), data_config, TrainConfig(epochs=1),
                    metadata=METADATA)
    make_tiny_checkpoint(root / "shapes", "shapes")
    return root


@pytest.fixture
def trained_env(trained_assets, tmp_path, monkeypatch):
    """Like app_env, with the trained tiny mnist32 as the default model."""
    runs = tmp_path / "runs"
    runs.mkdir()
    monkeypatch.setenv("LATENT_LAB_ASSETS", str(trained_assets))
    monkeypatch.setenv("LATENT_LAB_RUNS", str(runs))
    return runs
