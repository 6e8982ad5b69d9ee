"""Small PNG data URIs of dataset images, the one way to put bitmaps inside a Plotly figure.

Plotly's hover labels cannot show images, so the latent map places thumbnails as layout images
at their points instead; each is a few hundred bytes for a 28x28 digit.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from .render import png_data_uri, to_image


def thumbnail_uri(image: np.ndarray, scale: int = 1) -> str:
    """One (C, H, W) image in [0, 1] -> 'data:image/png;base64,...' (nearest upscale)."""
    return png_data_uri(to_image(image, scale))


@st.cache_data(max_entries=8, show_spinner=False)
def thumbnail_uris(version: str, indices: tuple[int, ...], _images: np.ndarray) -> list[str]:
    """Data URIs of _images[indices], cached by the model version (it fixes the dataset)."""
    return [thumbnail_uri(_images[i]) for i in indices]
