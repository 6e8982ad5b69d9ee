"""Data sets drawn from known generative factors (shapes, shapes3d), loaded one way.

Known factors let the app score disentanglement and fit a direction per factor, which real data
cannot do. A generator draws its factors from a seed and its images from the factors, so a
config repeats exactly; the drawn images are cached on disk by that config (generated_cache).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from vae_core.config import DataConfig
from vae_core.data import shapes, shapes3d
from vae_core.data.dataset import ImageDataset, split
from vae_core.data.generated_cache import cached_images

Factors = dict[str, np.ndarray]


@dataclass(frozen=True)
class Generator:
    """name: the data set's name; version: the pictures' version (a cache key);
    label_names: the 'shape' factor's classes, which are also the labels; value_factors: the
    factors read as numbers (an attribute direction each); draw: factors -> uint8 (N, C, H, W)."""

    name: str
    version: int
    image_shape: tuple[int, int, int]
    default_n: int
    label_names: tuple[str, ...]
    value_factors: tuple[str, ...]
    sample_factors: Callable[[int, int], Factors]
    draw: Callable[[Factors], np.ndarray]

    def factors_and_images(self, n: int, seed: int) -> tuple[Factors, np.ndarray]:
        """n draws from `seed`: the factors and their uint8 images (from the cache if there)."""
        factors = self.sample_factors(n, seed)
        key = {"name": self.name, "version": self.version, "n": n, "seed": seed}
        return factors, cached_images(key, (n, *self.image_shape), lambda: self.draw(factors))


GENERATORS = {
    "shapes": Generator("shapes", shapes.VERSION, (1, shapes.SIZE, shapes.SIZE), shapes.DEFAULT_N,
                        shapes.SHAPE_NAMES, ("scale", "rotation", "x", "y"),
                        shapes.sample_factors, shapes.draw_shapes),
    "shapes3d": Generator("shapes3d", shapes3d.VERSION, (3, shapes3d.SIZE, shapes3d.SIZE),
                          shapes3d.DEFAULT_N, shapes3d.SHAPE_NAMES,
                          ("floor hue", "wall hue", "object hue", "scale", "orientation"),
                          shapes3d.sample_factors, shapes3d.render_shapes3d),
}


def as_float(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 images -> float32 in [0, 1], as every data set hands its images on."""
    return torch.as_tensor(images).float().div_(255.0)


def load_generated(config: DataConfig) -> ImageDataset:
    """config.n_samples (else the generator's default) images from config.split_seed, split
    by test_fraction; labels are the object's shape, the test split keeps every factor."""
    generator = GENERATORS[config.name]
    factors, images = generator.factors_and_images(config.n_samples or generator.default_n,
                                                   config.split_seed)
    y = torch.from_numpy(factors["shape"].astype(np.int64))
    as_tensors = {k: torch.from_numpy(v.astype(np.float32)) for k, v in factors.items()}
    # Split the uint8 images and convert the parts: one float copy of the set, not two.
    parts = split(torch.from_numpy(images), y, as_tensors, config.test_fraction,
                  config.split_seed)
    return ImageDataset(config.name, as_float(parts.train_x), parts.train_y,
                        as_float(parts.test_x), parts.test_y, label_names=generator.label_names,
                        test_factors=parts.test_factors)
