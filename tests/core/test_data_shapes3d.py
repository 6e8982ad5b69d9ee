"""The colour set in the spirit of 3D Shapes: deterministic, factors over their whole grids,
each factor visible in the picture where it should be."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from vae_core.config import ConfigError, DataConfig, ModelConfig
from vae_core.data import ImageDataset, load_dataset
from vae_core.data.generated import GENERATORS
from vae_core.data.loading import planned_image_shape
from vae_core.data.shapes3d import (
    FACTOR_NAMES,
    HUES,
    ORIENTATIONS,
    SCALES,
    SHAPE_NAMES,
    render_shapes3d,
    sample_factors,
)
from vae_core.directions import fit_directions
from vae_core.disentanglement_report import disentanglement_report
from vae_core.models import build_model


@pytest.fixture(scope="module")
def scenes() -> ImageDataset:
    return load_dataset(DataConfig(name="shapes3d", n_samples=500))


def test_layout(scenes: ImageDataset) -> None:
    assert scenes.image_shape == (3, 64, 64) == planned_image_shape(DataConfig(name="shapes3d"))
    assert (len(scenes.train_x), len(scenes.test_x)) == (400, 100)
    assert scenes.label_names == SHAPE_NAMES == ("cube", "cylinder", "sphere", "capsule")
    assert scenes.train_x.dtype == torch.float32
    assert scenes.train_x.min() >= 0.0 and scenes.train_x.max() <= 1.0
    assert set(scenes.test_factors) == set(FACTOR_NAMES)
    assert torch.equal(scenes.test_factors["shape"].long(), scenes.test_y)


def test_the_default_is_10000_images_and_20000_at_most() -> None:
    assert GENERATORS["shapes3d"].default_n == 10_000
    with pytest.raises(ConfigError, match="'shapes3d' n_samples must be at most 20000"):
        DataConfig(name="shapes3d", n_samples=20_001)


def test_factors_cover_their_grids() -> None:
    factors = sample_factors(3000, seed=0)
    grids = {"floor hue": HUES, "wall hue": HUES, "object hue": HUES, "scale": SCALES,
             "orientation": ORIENTATIONS, "shape": tuple(range(len(SHAPE_NAMES)))}
    assert set(factors) == set(grids) == set(FACTOR_NAMES)
    for name, grid in grids.items():
        assert set(factors[name].tolist()) == set(grid), name
    assert (HUES[0], HUES[-1], len(HUES)) == (0.0, 0.9, 10)
    assert (SCALES[0], SCALES[-1], len(SCALES)) == (0.75, 1.25, 8)
    assert (ORIENTATIONS[0], ORIENTATIONS[-1], len(ORIENTATIONS)) == (-30.0, 30.0, 15)


def test_the_same_seed_draws_the_same_images(scenes: ImageDataset) -> None:
    again = load_dataset(DataConfig(name="shapes3d", n_samples=500))
    assert torch.equal(again.train_x, scenes.train_x)
    assert torch.equal(again.test_factors["object hue"], scenes.test_factors["object hue"])
    assert np.array_equal(render_shapes3d(sample_factors(50, 7)),
                          render_shapes3d(sample_factors(50, 7)))
    other = load_dataset(DataConfig(name="shapes3d", n_samples=500, split_seed=1))
    assert not torch.equal(other.train_x, scenes.train_x)


def test_an_image_does_not_depend_on_its_neighbours() -> None:
    """Geometry is shared between images with the same shape, scale and orientation; each
    image must still come out as it would alone."""
    factors = sample_factors(40, seed=3)
    together = render_shapes3d(factors)
    alone = [render_shapes3d({k: v[i:i + 1] for k, v in factors.items()}) for i in (0, 17, 39)]
    assert np.array_equal(np.concatenate(alone), together[[0, 17, 39]])


def _scene(**changes) -> dict[str, np.ndarray]:
    base = {"floor hue": 0.0, "wall hue": 0.3, "object hue": 0.6, "scale": 1.0, "shape": 0,
            "orientation": 10.0}
    base.update(changes)
    return {k: np.array([v]) for k, v in base.items()}


def _image(**changes) -> np.ndarray:
    return render_shapes3d(_scene(**changes))[0].astype(int)  # (3, 64, 64)


def _changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(64, 64) mask of the pixels that differ."""
    return (a != b).any(axis=0)


def _object_mask(**scene) -> np.ndarray:
    """Where the object is: the pixels that change with its hue (red against cyan)."""
    return _changed(_image(**{**scene, "object hue": 0.0}), _image(**{**scene, "object hue": 0.5}))


def test_the_floor_hue_colours_the_bottom_and_the_wall_hue_the_top() -> None:
    floor = _changed(_image(), _image(**{"floor hue": 0.5}))
    wall = _changed(_image(), _image(**{"wall hue": 0.8}))
    assert floor[-1].all() and not floor[0].any()
    assert wall[0].all() and not wall[-1].any()
    assert not (floor & wall).any()


@pytest.mark.parametrize("shape", range(4), ids=SHAPE_NAMES)
def test_the_object_hue_colours_the_object_only(shape: int) -> None:
    mask = _object_mask(shape=shape)
    rows, cols = np.nonzero(mask)
    assert mask.sum() > 150  # pixels
    assert rows.min() > 8 and cols.min() > 8 and cols.max() < 56  # inside the picture
    assert 25 < cols.mean() < 39  # centred


@pytest.mark.parametrize("shape", range(4), ids=SHAPE_NAMES)
def test_a_larger_scale_covers_more_pixels(shape: int) -> None:
    areas = [_object_mask(shape=shape, scale=s).sum() for s in SCALES]
    assert all(b > a for a, b in itertools.pairwise(areas))
    assert areas[-1] > 2 * areas[0]  # (1.25 / 0.75)^2 = 2.8 for a solid seen from one side


def test_each_shape_has_its_own_outline() -> None:
    masks = [_object_mask(shape=shape) for shape in range(4)]
    for i in range(4):
        for j in range(i + 1, 4):
            assert (masks[i] != masks[j]).sum() > 20, (SHAPE_NAMES[i], SHAPE_NAMES[j])


def test_orientation_turns_the_room_and_the_cube() -> None:
    left, right = _image(orientation=-30.0), _image(orientation=30.0)
    assert _changed(left, right)[0].sum() > 10  # the room's corner moves along the top row
    cube = [_object_mask(shape=0, orientation=a) for a in (-30.0, 0.0)]
    assert (cube[0] != cube[1]).sum() > 20


def test_directions_and_scores_read_its_factors(scenes: ImageDataset) -> None:
    """The colour set is one more generated set: its factors reach the attribute directions
    (fitted on fresh images from its generator) and the disentanglement scores."""
    torch.manual_seed(0)
    model = build_model(ModelConfig(image_shape=(3, 64, 64), hidden=(4, 8), dense=16,
                                    latent_dim=3, likelihood="gaussian_fixed")).eval()
    fitted = fit_directions(model, scenes, limit=60, check_codes=10)
    assert fitted.fit_source == "60 fresh shapes from the generator"
    assert [probe.target for probe in fitted.probes] == [
        "shape", "floor hue", "wall hue", "object hue", "scale", "orientation"]
    names = {direction.name for direction in fitted.directions}
    assert {"towards cube", "towards capsule", "object hue", "scale"} <= names
    report = disentanglement_report(model, scenes)
    assert report.factor_names == list(FACTOR_NAMES)
    assert set(report.probe_accuracy) == {"shape"}
