"""Generated sets are kept on disk by their config: drawn once, read back whole, redrawn when
the entry is damaged or the pictures' version changes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vae_core.config import DataConfig
from vae_core.data import load_dataset
from vae_core.data.download import CACHE_ENV
from vae_core.data.generated_cache import cache_dir, cache_path, cached_images

KEY = {"name": "shapes3d", "version": 1, "n": 3, "seed": 0}
SHAPE = (3, 1, 2, 2)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    return tmp_path / "generated"


class Drawer:
    def __init__(self, value: int = 7) -> None:
        self.calls, self.value = 0, value

    def __call__(self) -> np.ndarray:
        self.calls += 1
        return np.full(SHAPE, self.value, dtype=np.uint8)


def test_the_cache_lives_under_the_data_cache_folder(cache) -> None:
    assert cache_dir() == cache
    assert cache_path(KEY).parent == cache and cache_path(KEY).suffix == ".npy"


def test_a_set_is_drawn_once_then_read(cache) -> None:
    draw = Drawer()
    first = cached_images(KEY, SHAPE, draw)
    second = cached_images(KEY, SHAPE, draw)
    assert draw.calls == 1
    assert np.array_equal(first, second) and second.dtype == np.uint8
    assert [p.name for p in cache.iterdir()] == [cache_path(KEY).name]  # no temporary left


def test_a_new_version_or_seed_is_another_entry(cache) -> None:
    draw = Drawer()
    for key in (KEY, {**KEY, "version": 2}, {**KEY, "seed": 1}, {**KEY, "name": "shapes"}):
        cached_images(key, SHAPE, draw)
    assert draw.calls == 4
    assert len(list(cache.iterdir())) == 4


@pytest.mark.parametrize("damage", ["cut short", "wrong shape", "not an array"])
def test_a_damaged_entry_is_drawn_again(cache, damage: str) -> None:
    cached_images(KEY, SHAPE, Drawer(7))
    path = cache_path(KEY)
    if damage == "cut short":
        path.write_bytes(path.read_bytes()[:-5])
    elif damage == "wrong shape":
        np.save(path, np.zeros((2, 1, 2, 2), dtype=np.uint8))
    else:
        path.write_bytes(b"\x80\x04 not numpy")
    again = Drawer(9)
    assert (cached_images(KEY, SHAPE, again) == 9).all()
    assert again.calls == 1
    assert (np.load(path) == 9).all()  # and the entry is whole again


def test_a_folder_that_cannot_be_written_only_costs_the_redraw(tmp_path, monkeypatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(CACHE_ENV, str(blocker))  # a file where the folder would go
    draw = Drawer()
    assert cached_images(KEY, SHAPE, draw).shape == SHAPE
    assert cached_images(KEY, SHAPE, draw).shape == SHAPE
    assert draw.calls == 2


@pytest.mark.parametrize("name", ["shapes", "shapes3d"])
def test_a_generated_set_loads_the_same_from_the_cache(cache, name: str) -> None:
    config = DataConfig(name=name, n_samples=60)
    drawn = load_dataset(config)
    assert len(list(cache.glob(f"{name}-*.npy"))) == 1
    read = load_dataset(config)
    assert torch.equal(drawn.train_x, read.train_x) and torch.equal(drawn.test_x, read.test_x)
    assert torch.equal(drawn.test_y, read.test_y)
