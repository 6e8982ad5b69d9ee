"""The test images whose posterior means are closest to a z: what the model finds similar."""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae_core.data import ImageDataset
from vae_core.latent import encode_images, nearest_codes

from .active_model import ActiveModel
from .render import display_scale, grid_image, png_bytes

N_NEIGHBOURS = 8
STRIP_PX = 96  # about each neighbour's side on the page (an integer upscale)


# Read on every slider move: cache_resource hands out the one array (cache_data would unpickle a
# copy each time, ~2 ms), made read-only since every session shares it.
@st.cache_resource(max_entries=8, show_spinner="Encoding the test images...")
def _test_codes(version: str, _active: ActiveModel, _data: ImageDataset) -> np.ndarray:
    codes = encode_images(_active.model, _data.test_x).mean
    codes.flags.writeable = False
    return codes


def test_codes(active: ActiveModel, data: ImageDataset) -> np.ndarray:
    """Posterior means of every test image, (M, D), cached per model version."""
    return _test_codes(active.version, active, data)


def _label(data: ImageDataset, index: int) -> str:
    label = int(data.test_y[index])
    named = 0 <= label < len(data.label_names)
    return f"#{index} ({data.label_names[label]})" if named else f"#{index}"


def neighbour_strip(active: ActiveModel, data: ImageDataset, z, k: int = N_NEIGHBOURS):
    """(PNG bytes of the k nearest test images in a row, its width, their names nearest first)."""
    nearest = nearest_codes(test_codes(active, data), np.asarray(z, dtype=np.float32), k)
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
    st.image(png, output_format="PNG", width=width, caption=(
        f"The {len(names)} test images whose posterior means are closest to {what} "
        f"(Euclidean, nearest first): {', '.join(names)}"))
