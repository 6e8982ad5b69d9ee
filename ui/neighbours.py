"""The test images whose posterior means are closest to a z: what the model finds similar.

They are searched among the first POOL test images. Where the page decodes, it finds and draws
them itself on every frame (ui/frontend/neighbour_strip.js), from the codes, thumbnails and names
this module puts in the decoder's file (`page_neighbours`); elsewhere the server draws the strip.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae_core.data import ImageDataset
from vae_core.latent import encode_images, nearest_codes

from .active_model import ActiveModel
from .render import display_scale, grid_image, png_bytes
from .thumbnails import thumbnail_atlas

N_NEIGHBOURS = 8
STRIP_PX = 96  # about each neighbour's side on the page (an integer upscale)
POOL = 1000  # the test images searched: the page holds their codes and thumbnails


# Read on every slider move and packed into the page's decoder file: cache_resource hands out the
# one array (cache_data would unpickle a copy each time, ~2 ms), read-only since all share it.
@st.cache_resource(max_entries=8, show_spinner="Encoding the test images...")
def _cached_pool_codes(version: str, _model, _data: ImageDataset) -> np.ndarray:
    codes = pool_codes(_model, _data)
    codes.flags.writeable = False
    return codes


def active_pool_codes(active: ActiveModel, data: ImageDataset) -> np.ndarray:
    """`pool_codes` of the active model, encoded once per model version (read-only)."""
    return _cached_pool_codes(active.version, active.model, data)


def pool_codes(model, data: ImageDataset) -> np.ndarray:
    """Posterior means of the first POOL test images, (M, D)."""
    return encode_images(model, data.test_x[:POOL]).mean


def _label(data: ImageDataset, index: int) -> str:
    label = int(data.test_y[index])
    named = 0 <= label < len(data.label_names)
    return f"#{index} ({data.label_names[label]})" if named else f"#{index}"


def strip_caption(data: ImageDataset, what: str, k: int = N_NEIGHBOURS) -> str:
    """The strip's caption up to the names, which follow it; `what` names the z."""
    searched = f", of the first {POOL:,}" if data.test_x.shape[0] > POOL else ""
    return (f"The {min(k, data.test_x.shape[0])} test images whose posterior means are closest "
            f"to {what} (Euclidean, nearest first{searched}): ")


def page_neighbours(data: ImageDataset) -> tuple[dict, bytes]:
    """What the page needs to draw the neighbours itself: (their names and the thumbnail atlas's
    layout, the atlas PNG), for the first POOL test images."""
    atlas = thumbnail_atlas(data.test_x[:POOL].numpy())
    count = atlas.count
    layout = {"count": count, "columns": atlas.columns, "tile_height": atlas.tile_height,
              "tile_width": atlas.tile_width, "names": [_label(data, i) for i in range(count)]}
    return layout, atlas.png


def page_strip(data: ImageDataset, what: str) -> dict:
    """How the page draws the strip: the caption its names follow, how many, the upscale."""
    return {"caption": strip_caption(data, what), "k": N_NEIGHBOURS,
            "scale": display_scale(data.test_x.shape[-2], STRIP_PX)}


def neighbour_strip(active: ActiveModel, data: ImageDataset, z, k: int = N_NEIGHBOURS):
    """(PNG bytes of the k nearest test images in a row, its width, their names nearest first)."""
    codes = active_pool_codes(active, data)
    nearest = nearest_codes(codes, np.asarray(z, dtype=np.float32), k)
    return _strip(active.version, tuple(int(i) for i in nearest), data)


# A small move of z mostly keeps the same neighbours: their strip is drawn once, for every
# session (the bytes are never changed, so one shared copy is safe).
@st.cache_resource(max_entries=512, show_spinner=False)
def _strip(version: str, nearest: tuple[int, ...], _data: ImageDataset):
    images = _data.test_x[list(nearest)].numpy()
    strip = grid_image(images, len(nearest), display_scale(images.shape[-2], STRIP_PX))
    return png_bytes(strip), strip.width, [_label(_data, i) for i in nearest]


def show_neighbours(active: ActiveModel, data: ImageDataset | None, z, what: str) -> None:
    """The strip with a caption; `what` names the z, e.g. 'the current z'."""
    if data is None:
        return
    png, width, names = neighbour_strip(active, data, z)
    # At its own width: a browser rescale by a non-integer factor would blur the pixels.
    st.image(png, output_format="PNG", width=width,
             caption=strip_caption(data, what) + ", ".join(names))
