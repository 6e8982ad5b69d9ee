"""Helpers for the library's tests: a run that trains in well under a second, MNIST-format files."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from vae_core.config import DataConfig, ModelConfig, RunConfig, TrainConfig


def tiny_config(epochs: int = 3, log_every: int = 2, **train: object) -> RunConfig:
    """200 digits (160 train = 5 batches of 32) and an MLP with 16 hidden units: an epoch takes
    under ~0.1 s."""
    return RunConfig(
        data=DataConfig(name="digits", n_samples=200),
        model=ModelConfig(arch="mlp", hidden=(16,), latent_dim=2, likelihood="bernoulli"),
        train=TrainConfig(epochs=epochs, batch_size=32, iw_samples=5, log_every=log_every,
                          **train),
    )


def idx_bytes(magic: int, values: np.ndarray) -> bytes:
    header = struct.pack(f">I{values.ndim}I", magic, *values.shape)
    return header + values.astype(np.uint8).tobytes()


def _write_file(path: Path, data: bytes, gz: bool) -> None:
    if gz:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data)
    path.write_bytes(data)


def make_idx_files(folder: Path, n_train: int = 30, n_test: int = 10, gz: bool = False) -> None:
    """MNIST-format train and t10k files in `folder`: random pixels, labels 0-9 in turn."""
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28))
        labels = np.arange(n) % 10
        _write_file(folder / f"{prefix}-images-idx3-ubyte", idx_bytes(2051, images), gz)
        _write_file(folder / f"{prefix}-labels-idx1-ubyte", idx_bytes(2049, labels), gz)
