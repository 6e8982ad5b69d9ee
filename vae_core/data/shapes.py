"""A dSprites-like synthetic set: one white shape on black, with known generative factors.

Known factors let the app check whether a latent dimension tracks one factor (disentanglement),
which real data cannot do. Everything is drawn from one seed, so a config repeats exactly.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from PIL import Image, ImageDraw

from vae_core.config import DataConfig
from vae_core.data.dataset import ImageDataset, split

SHAPE_NAMES = ("square", "ellipse", "heart")
SCALES = tuple(float(s) for s in np.linspace(0.5, 1.0, 6))
SIZE = 32  # image side in pixels
RADIUS = 8.0  # pixels from the centre to the farthest outline point at scale 1
DEFAULT_N = 6000
_SUPERSAMPLE = 4  # draw at 4x and box-downsample: antialiased edges


def _unit_outlines() -> tuple[np.ndarray, ...]:
    """Each shape's outline as (P, 2) points centred at 0, farthest point at distance 1.

    Normalising to the farthest point means a shape of scale s fits in a circle of radius
    s * RADIUS at every rotation, so positions can keep it inside the image.
    """
    square = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64)
    t = np.linspace(0, 2 * math.pi, 48, endpoint=False)
    ellipse = np.stack([np.cos(t), 0.55 * np.sin(t)], axis=1)
    t = np.linspace(0, 2 * math.pi, 64, endpoint=False)
    heart = np.stack(  # the classic heart curve; image y grows downwards, hence the minus
        [
            16 * np.sin(t) ** 3,
            -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)),
        ],
        axis=1,
    )
    outlines = []
    for points in (square, ellipse, heart):
        points = points - (points.max(0) + points.min(0)) / 2  # centre the bounding box
        outlines.append(points / np.linalg.norm(points, axis=1).max())
    return tuple(outlines)


_OUTLINES = _unit_outlines()


def sample_factors(n: int, seed: int) -> dict[str, np.ndarray]:
    """n independent factor draws: shape (int index), scale, rotation (radians), x, y in [0, 1]."""
    rng = np.random.default_rng(seed)
    return {
        "shape": rng.integers(0, len(SHAPE_NAMES), n),
        "scale": np.asarray(SCALES)[rng.integers(0, len(SCALES), n)],
        "rotation": rng.uniform(0.0, 2 * math.pi, n),
        "x": rng.uniform(0.0, 1.0, n),
        "y": rng.uniform(0.0, 1.0, n),
    }


def render_shapes(factors: dict[str, np.ndarray]) -> torch.Tensor:
    """Draw one image per factor row -> (N, 1, 32, 32) float32 in [0, 1].

    x and y in [0, 1] span the centre positions that keep the largest shape inside the image,
    so position is independent of scale (as in dSprites).
    """
    # A 1.5-pixel margin: at least one black pixel row even after PIL rounds the outline.
    lo, hi = RADIUS + 1.5, SIZE - RADIUS - 1.5
    big = SIZE * _SUPERSAMPLE
    out = np.empty((len(factors["shape"]), SIZE, SIZE), dtype=np.uint8)
    for i, (shape, scale, angle, x, y) in enumerate(
        zip(
            factors["shape"],
            factors["scale"],
            factors["rotation"],
            factors["x"],
            factors["y"],
            strict=True,
        )
    ):
        c, s = math.cos(angle), math.sin(angle)
        rotated = _OUTLINES[int(shape)] @ np.array([[c, s], [-s, c]])
        centre = np.array([lo + x * (hi - lo), lo + y * (hi - lo)])
        # PIL puts integer coordinates at pixel centres, hence the half-pixel shift.
        points = (rotated * scale * RADIUS + centre) * _SUPERSAMPLE - 0.5
        canvas = Image.new("L", (big, big), 0)
        ImageDraw.Draw(canvas).polygon([tuple(p) for p in points], fill=255)
        out[i] = np.asarray(canvas.resize((SIZE, SIZE), Image.Resampling.BOX))
    return torch.from_numpy(out).unsqueeze(1).float().div_(255.0)


def load_shapes(config: DataConfig) -> ImageDataset:
    """config.n_samples (default 6000) shapes from config.split_seed, split by test_fraction."""
    n = config.n_samples or DEFAULT_N
    factors = sample_factors(n, config.split_seed)
    x = render_shapes(factors)
    y = torch.from_numpy(factors["shape"].astype(np.int64))
    as_tensors = {k: torch.from_numpy(v.astype(np.float32)) for k, v in factors.items()}
    parts = split(x, y, as_tensors, config.test_fraction, config.split_seed)
    return ImageDataset("shapes", *parts[:4], label_names=SHAPE_NAMES, test_factors=parts[4])
