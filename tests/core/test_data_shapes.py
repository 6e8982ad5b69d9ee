"""The synthetic dSprites-like dataset: deterministic, with correct known factors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from vae_core.config import DataConfig
from vae_core.data import SHAPE_NAMES, ImageDataset, load_dataset, render_shapes
from vae_core.data.shapes import MAX_ROTATION, SCALES, position_range


@pytest.fixture(scope="module")
def shapes() -> ImageDataset:
    return load_dataset(DataConfig(name="shapes", n_samples=600))


def test_shapes_layout(shapes: ImageDataset) -> None:
    assert shapes.image_shape == (1, 32, 32)
    assert (len(shapes.train_x), len(shapes.test_x)) == (480, 120)
    assert shapes.label_names == SHAPE_NAMES == ("square", "ellipse", "heart")
    assert shapes.train_x.min() >= 0.0 and shapes.train_x.max() <= 1.0


def test_default_size_is_6000() -> None:
    data = load_dataset(DataConfig(name="shapes"))
    assert len(data.train_x) + len(data.test_x) == 6000


def test_shapes_are_deterministic_per_seed(shapes: ImageDataset) -> None:
    again = load_dataset(DataConfig(name="shapes", n_samples=600))
    assert torch.equal(again.train_x, shapes.train_x)
    assert torch.equal(again.test_factors["rotation"], shapes.test_factors["rotation"])
    other = load_dataset(DataConfig(name="shapes", n_samples=600, split_seed=1))
    assert not torch.equal(other.train_x, shapes.train_x)


def test_factors_shapes_and_ranges(shapes: ImageDataset) -> None:
    f = shapes.test_factors
    assert set(f) == {"shape", "scale", "rotation", "x", "y"}
    assert all(v.shape == (120,) and v.dtype == torch.float32 for v in f.values())
    assert torch.equal(f["shape"].long(), shapes.test_y)
    assert set(f["scale"].tolist()) <= {float(np.float32(s)) for s in SCALES}
    assert len(SCALES) == 6
    assert f["rotation"].min() >= 0 and f["rotation"].max() < MAX_ROTATION < math.pi / 2
    for key in ("x", "y"):
        assert f[key].min() >= 0 and f[key].max() <= 1


def test_every_shape_present(shapes: ImageDataset) -> None:
    assert set(shapes.train_y.tolist()) == {0, 1, 2}
    assert set(shapes.test_y.tolist()) == {0, 1, 2}


def _grid(**fixed: float) -> dict[str, np.ndarray]:
    """One row per SCALES value for each shape, the other factors fixed."""
    n = 3 * len(SCALES)
    rows = {
        "shape": np.repeat(np.arange(3), len(SCALES)),
        "scale": np.tile(np.asarray(SCALES), 3),
        "rotation": np.full(n, 0.3),
        "x": np.full(n, 0.5),
        "y": np.full(n, 0.5),
    }
    rows.update({k: np.full(n, v) for k, v in fixed.items()})
    return rows


def test_larger_scale_lights_more_pixels() -> None:
    lit = render_shapes(_grid()).sum(dim=(1, 2, 3)).reshape(3, len(SCALES))
    assert (lit[:, 1:] > lit[:, :-1]).all()


@pytest.mark.parametrize("corner", [(0.0, 0.0), (1.0, 1.0), (0.0, 1.0)])
def test_shapes_stay_inside_the_image(corner: tuple[float, float]) -> None:
    for rotation in (0.0, 0.8, 2.0):
        images = render_shapes(_grid(x=corner[0], y=corner[1], rotation=rotation))[:, 0]
        border = torch.cat([images[:, 0], images[:, -1], images[:, :, 0], images[:, :, -1]], 1)
        assert border.max() == 0


def test_x_and_y_move_the_shape() -> None:
    def centre(x: float, y: float) -> tuple[float, float]:
        image = render_shapes(_grid(x=x, y=y))[-1, 0]
        idx = torch.arange(32, dtype=torch.float32)
        return float((image.sum(1) * idx).sum() / image.sum()), float(
            (image.sum(0) * idx).sum() / image.sum()
        )

    lo, hi = position_range()
    (r0, c0), (r1, c1) = centre(0.0, 0.0), centre(1.0, 1.0)
    assert c1 - c0 == pytest.approx(hi - lo, abs=0.5)
    assert r1 - r0 == pytest.approx(hi - lo, abs=0.5)
