"""The active model's decoder packed for the page (once per model version, cached)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae_core.decoder_export import pack
from vae_core.latent import encode_images
from vae_core.principal import page_spec

from .active_model import ActiveModel
from .decoder_handoff import PageDecoder
from .render import display_scale

SCATTER_POINTS = 1000  # test images whose posterior means the 2-D pad shows


@st.cache_resource(max_entries=8, show_spinner=False)  # immutable bytes: no copy per rerun
def _decoder_blob(version: str, _model) -> bytes | str:
    """The packed decoder, or why the page cannot run it (a message naming the layer, or for
    an imported graph the shape it gives that the card does not expect)."""
    try:
        return pack(page_spec(_model))
    except ValueError as error:  # UnsupportedLayerError is one
        return str(error)


@st.cache_resource(max_entries=8, show_spinner=False)  # immutable bytes: no copy per rerun
def _scatter_blob(version: str, _model, _test_x) -> bytes:
    means = encode_images(_model, _test_x[:SCATTER_POINTS]).mean
    return np.ascontiguousarray(means, dtype="<f4").tobytes()


def page_decoder(active: ActiveModel, test_x, mean_caption: str) -> PageDecoder | str:
    """What the page needs to decode the active model, or the reason it cannot."""
    blob = _decoder_blob(active.version, active.model)
    if isinstance(blob, str):
        return blob
    scatter = b"" if test_x is None else _scatter_blob(active.version, active.model, test_x)
    scale = display_scale(active.image_shape[1])
    return PageDecoder(active.version, blob, scatter, scale, mean_caption)
