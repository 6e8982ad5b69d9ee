"""Dataset images as one PNG, a thumbnail atlas: the picture map (ui/picture_map.py) gets it once
per model and cuts each point's image out of it in the page.

Image k is the tile at column k % columns, row k // columns; every tile has the same size, the
images' own, shrunk (area average) only when the atlas would pass MAX_SIDE pixels a side: 2,000
28 x 28 digits fit unshrunk, 10,000 become 28 x 28 in a 2,800 px atlas, 10,000 64 x 64 shapes
become 40 x 40.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch
import torch.nn.functional as F

from vae_core.images import make_grid

# Browsers draw images up to 16,384 px a side; 4,096 keeps a decoded RGBA atlas under 64 MB.
MAX_SIDE = 4096


@dataclass(frozen=True)
class Atlas:
    """The PNG of `count` tiles, `columns` to a row, each tile_height x tile_width pixels."""

    png: bytes
    count: int
    columns: int
    tile_height: int
    tile_width: int


def atlas_layout(count: int, height: int, width: int, max_side: int = MAX_SIDE):
    """(columns, tile height, tile width) for `count` images of height x width: a near-square
    grid, its tiles shrunk by one factor until both sides fit in max_side."""
    if count < 1:
        raise ValueError("an atlas needs at least one image")
    columns = math.ceil(math.sqrt(count * height / width))  # about as tall as wide
    rows = math.ceil(count / columns)
    shrink = min(1.0, max_side / (columns * width), max_side / (rows * height))
    return columns, max(1, int(height * shrink)), max(1, int(width * shrink))


def thumbnail_atlas(images: np.ndarray, max_side: int = MAX_SIDE) -> Atlas:
    """(N, C, H, W) floats in [0, 1] -> their atlas, a grey (C = 1) or RGB PNG."""
    tensor = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))
    count, _, height, width = tensor.shape
    columns, tile_height, tile_width = atlas_layout(count, height, width, max_side)
    if (tile_height, tile_width) != (height, width):
        tensor = F.interpolate(tensor, size=(tile_height, tile_width), mode="area")
    buffer = io.BytesIO()
    make_grid(tensor, ncols=columns, padding=0).save(buffer, format="PNG")
    return Atlas(buffer.getvalue(), count, columns, tile_height, tile_width)


@st.cache_data(max_entries=4, show_spinner="Drawing the thumbnails...")
def cached_atlas(version: str, count: int, _images: np.ndarray) -> Atlas:
    """The atlas of _images[:count], cached by the model version (it fixes the dataset)."""
    return thumbnail_atlas(_images[:count])
