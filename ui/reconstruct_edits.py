"""Reconstruct's edits: the attribute sliders on an image's posterior mean, and z(A) - z(B) + z(C).

Both decode on the server: a slider change reruns the page, and the decodes are cached by model
version and the z they decode.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae_core.data import ImageDataset
from vae_core.latent import decode_mean, encode_images

from .active_model import ActiveModel
from .directions import direction_controls, fitted_directions, no_directions_note
from .neighbours import show_neighbours
from .render import display_scale, png_bytes, to_image

PREFIX = "recon_directions"
IMAGE_PX = 168  # each image of the edit and the arithmetic


@st.cache_data(max_entries=64, show_spinner=False)
def _decoded_png(version: str, z: tuple[float, ...], _active: ActiveModel) -> bytes:
    image = decode_mean(_active.model, np.asarray(z, dtype=np.float32)[None])[0]
    return png_bytes(to_image(image, display_scale(image.shape[-2], IMAGE_PX)))


def decoded_png(active: ActiveModel, z) -> bytes:
    """The decoder's mean at z as PNG bytes, cached per model version and z."""
    return _decoded_png(active.version, tuple(float(v) for v in z), active)


def input_png(active: ActiveModel, x: np.ndarray) -> bytes:
    return png_bytes(to_image(x, display_scale(active.image_shape[1], IMAGE_PX)))


def edit_section(active: ActiveModel, data: ImageDataset | None, x: np.ndarray, mu: np.ndarray,
                 caption: str) -> None:
    """Attribute sliders applied to μ, the posterior mean of x; the edit beside the input."""
    st.header("Change this image")
    fit = fitted_directions(active, data)
    if fit is None:
        st.caption(no_directions_note(data))
        return
    st.caption("Moves the posterior mean μ of this image along directions fitted to the data's "
               "labels or known factors, then decodes. Each slider says how well its direction "
               "works on held-out data.")
    controls, images = st.columns([1.2, 1], gap="medium")
    with controls:
        move = direction_controls(PREFIX, active.version, fit, mu)
    edited = move.z
    left, right = images.columns(2)
    left.image(input_png(active, x), output_format="PNG", caption=f"model input ({caption})")
    right.image(decoded_png(active, edited), output_format="PNG",
                caption=f"decoded μ + move ({move.words})" if move.moves
                else "decoded μ (no move yet)")
    show_neighbours(active, data, edited, "the changed μ")


def posterior_mean(active: ActiveModel, x: np.ndarray) -> np.ndarray:
    return encode_images(active.model, x[None]).mean[0]


def arithmetic_result(active: ActiveModel, images: list[np.ndarray]) -> tuple[np.ndarray, bytes]:
    """z(A) - z(B) + z(C) for three model inputs, and its decoded mean as PNG."""
    z_a, z_b, z_c = (posterior_mean(active, x) for x in images)
    z = z_a - z_b + z_c
    return z, decoded_png(active, z)
