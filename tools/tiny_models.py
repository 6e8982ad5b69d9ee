"""Untrained models made in milliseconds, shaped like the shipped ones (tests and benchmarks)."""

from __future__ import annotations

from pathlib import Path

import torch

from vae_core.checkpoint import save_checkpoint
from vae_core.config import DataConfig, ModelConfig, TrainConfig
from vae_core.models import VAE

# Small enough to build in milliseconds, shaped like the shipped models.
TINY_MODELS = {
    "mnist32": (ModelConfig(image_shape=(1, 28, 28), arch="conv", hidden=(4, 8), dense=16,
                            latent_dim=4, likelihood="gaussian"), DataConfig(name="mnist5k")),
    "mnist2d": (ModelConfig(image_shape=(1, 28, 28), arch="mlp", hidden=(16,), latent_dim=2,
                            likelihood="bernoulli"), DataConfig(name="mnist5k")),
    "shapes": (ModelConfig(image_shape=(1, 32, 32), arch="mlp", hidden=(16,), latent_dim=3,
                           likelihood="bernoulli"), DataConfig(name="shapes", n_samples=300)),
}


def make_tiny_checkpoint(directory: Path, name: str = "mnist32", seed: int = 0) -> Path:
    """An untrained but complete checkpoint with plausible metadata."""
    model_config, data_config = TINY_MODELS[name]
    torch.manual_seed(seed)
    metadata = {"epoch": 1, "step": 10, "train_seconds": 0.5, "device": "cpu",
                "test": {"neg_elbo": 543.2, "kl": 1.5, "recon": 541.7, "log_px": -540.1,
                         "log_px_stderr": 0.5, "iw_samples": 10, "n_images": 100}}
    return save_checkpoint(directory, VAE(model_config), data_config, TrainConfig(epochs=1),
                           metadata=metadata)
