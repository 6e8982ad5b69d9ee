"""Tensors <-> PIL images for display: nearest-neighbour upscaling keeps pixels sharp."""

from __future__ import annotations

import math

import numpy as np
import torch
from PIL import Image


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(..., C, H, W) floats in [0, 1] -> (..., H, W, C) uint8."""
    array = images.detach().float().clamp(0.0, 1.0).mul(255.0).round().to(torch.uint8).cpu()
    return array.movedim(-3, -1).numpy()


def to_pil(image: torch.Tensor, scale: int = 1) -> Image.Image:
    """One (C, H, W) image -> PIL ('L' or 'RGB'), upscaled `scale` times without blur."""
    array = to_uint8(image)
    pil = Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array)
    if scale > 1:
        pil = pil.resize((pil.width * scale, pil.height * scale), Image.Resampling.NEAREST)
    return pil


def make_grid(
    images: torch.Tensor, ncols: int | None = None, padding: int = 1, scale: int = 1,
    pad_value: float = 0.5,
) -> Image.Image:
    """(N, C, H, W) -> one PIL image of the N tiles in rows of `ncols`, separated by grey."""
    n, channels, height, width = images.shape
    ncols = ncols or math.ceil(math.sqrt(n))
    nrows = math.ceil(n / ncols)
    canvas = torch.full(
        (channels, nrows * (height + padding) + padding, ncols * (width + padding) + padding),
        pad_value,
    )
    for index, image in enumerate(images.detach().float().cpu()):
        row, col = divmod(index, ncols)
        top, left = padding + row * (height + padding), padding + col * (width + padding)
        canvas[:, top : top + height, left : left + width] = image
    return to_pil(canvas, scale)
