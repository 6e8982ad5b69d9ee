"""A dSprites-like synthetic set: one white shape on black, with known generative factors.

Known factors let the app check whether a latent dimension tracks one factor (disentanglement),
which real data cannot do. Everything is drawn from one seed, so a config repeats exactly.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from PIL import Image, ImageDraw

SHAPE_NAMES = ("square", "ellipse", "heart")
SCALES = tuple(float(s) for s in np.linspace(0.5, 1.0, 6))
SIZE = 32  # image side in pixels
# Pixels from the centre to the farthest outline point at scale 1. Large enough that a shape's
# outline, not only its area, is worth nats next to its place: at 8 pixels every model drew
# blobs. The price is a shorter path for x and y (SIZE - 2 * (RADIUS + margin) pixels).
RADIUS = 11.0
DEFAULT_N = 6000
VERSION = 1  # bump when the pictures change: the disk cache is keyed by it
# Rotation stays below the square's quarter-turn period. Over a full turn (as in dSprites) each
# shape's codes close into a loop around the same centre, and no linear probe can tell the shapes
# apart; an eighth of a turn keeps every shape's rotations an open arc.
MAX_ROTATION = math.pi / 4
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
    """n independent factor draws: shape (int index), scale, rotation (radians in
    [0, MAX_ROTATION)), x, y in [0, 1]."""
    rng = np.random.default_rng(seed)
    return {
        "shape": rng.integers(0, len(SHAPE_NAMES), n),
        "scale": np.asarray(SCALES)[rng.integers(0, len(SCALES), n)],
        "rotation": rng.uniform(0.0, MAX_ROTATION, n),
        "x": rng.uniform(0.0, 1.0, n),
        "y": rng.uniform(0.0, 1.0, n),
    }


def position_range() -> tuple[float, float]:
    """The lowest and highest centre coordinate, in pixels, that keeps every shape inside."""
    margin = 1.5  # at least one black pixel row even after PIL rounds the outline
    return RADIUS + margin, SIZE - RADIUS - margin


def render_shapes(factors: dict[str, np.ndarray]) -> torch.Tensor:
    """Draw one image per factor row -> (N, 1, 32, 32) float32 in [0, 1]."""
    return torch.from_numpy(draw_shapes(factors)).float().div_(255.0)


def draw_shapes(factors: dict[str, np.ndarray]) -> np.ndarray:
    """Draw one image per factor row -> (N, 1, 32, 32) uint8.

    x and y in [0, 1] span the centre positions that keep the largest shape inside the image,
    so position is independent of scale (as in dSprites).
    """
    lo, hi = position_range()
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
    return out[:, None]
