"""The active model's decoder for the page, and its hand-off to a page component.

The decoder is a weights file named by its hash (ui/weights_files.py), written once per model
version; the component's data names it (URL, SHA-256, size) and the page fetches it once and keeps
it (ui/frontend/weights_cache.js), so a session holds a few hundred bytes of it, not the weights.
The page reports through its "decoder" state that it decodes this model version, or why it
cannot; until it decodes, the server draws."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import streamlit as st

from vae_core.data import ImageDataset
from vae_core.decoder_export import pack, pack_envelope
from vae_core.principal import page_spec

from . import weights_files
from .active_model import ActiveModel
from .inline_js import component_state
from .neighbours import active_pool_codes, page_neighbours
from .render import display_scale
from .weights_files import WeightsFile, is_present, publish

DECODER = "decoder"  # state: {"version": v, "ok": bool, "error": str | None, "load_ms", "bytes"}


@dataclass(frozen=True)
class PageDecoder:
    """What the page needs to decode a model version."""

    version: str
    weights: WeightsFile  # an envelope: blobs "decoder" (vae_core.decoder_export.pack),
    # "scatter" (float32 (N, D) posterior means of the first test images, for the 2-D pad and the
    # neighbours; empty without data) and "atlas" (their thumbnails; header "neighbours")
    scale: int  # integer upscale of the main image
    mean_caption: str


def decoder_status(key: str, version: str) -> dict | None:
    """What the page last reported about decoding this model version, or None."""
    status = component_state(key, DECODER)
    return status if status is not None and status.get("version") == version else None


def decodes_in_page(key: str, version: str) -> bool:
    status = decoder_status(key, version)
    return bool(status and status.get("ok"))


def page_decoder_error(key: str, version: str) -> str | None:
    """Why the page could not run this model's decoder, as it reported, or None."""
    status = decoder_status(key, version)
    error = status.get("error") if status and not status.get("ok") else None
    return str(error)[:300] if error else None


def decoder_payload(control: dict, key: str, decoder: PageDecoder | None) -> bytes:
    """The component's data: `control` plus the decoder's fields and where its weights are."""
    if decoder is not None:
        control.update(version=decoder.version, in_page=decodes_in_page(key, decoder.version),
                       scale=decoder.scale, mean_caption=decoder.mean_caption,
                       weights={"url": decoder.weights.url(), "sha256": decoder.weights.sha256,
                                "bytes": decoder.weights.size})
    return pack_envelope(control)


NO_STATIC_SERVING = ("the server does not serve its weights file: static file serving is off "
                     "(server.enableStaticServing in .streamlit/config.toml)")
NOT_STORED = "the server could not store its weights file"
_LOGGER = logging.getLogger(__name__)


def _packed(active: ActiveModel, data: ImageDataset | None) -> bytes | str:
    """The decoder (vae_core.decoder_export.pack) as one envelope with, given the data, the
    first test images' posterior means (the 2-D pad's scatter and the neighbours' pool) and their
    thumbnail atlas and names (ui/neighbours.py); or why the page cannot run it (a message naming
    the layer, or for an imported graph the shape it gives that the card does not expect)."""
    try:
        decoder = pack(page_spec(active.model))
    except ValueError as error:  # UnsupportedLayerError is one
        return str(error)
    if data is None:
        return pack_envelope({}, {"decoder": decoder, "scatter": b""})
    scatter = np.ascontiguousarray(active_pool_codes(active, data), dtype="<f4").tobytes()
    layout, atlas = page_neighbours(data)
    return pack_envelope({"neighbours": layout},
                         {"decoder": decoder, "scatter": scatter, "atlas": atlas})


@st.cache_resource(max_entries=8, show_spinner=False)  # the file's name and size, not its bytes
def _weights_file(version: str, with_data: bool, _active, _data) -> WeightsFile | str:
    packed = _packed(_active, _data)
    return packed if isinstance(packed, str) else publish(packed)  # OSError: not cached


def _current_file(active: ActiveModel, data: ImageDataset | None) -> WeightsFile | str:
    args = (active.version, data is not None, active, data)
    file = _weights_file(*args)
    if isinstance(file, WeightsFile) and not is_present(file):  # swept or deleted since
        _weights_file.clear()
        file = _weights_file(*args)
    return file


def page_decoder(active: ActiveModel, data: ImageDataset | None,
                 mean_caption: str) -> PageDecoder | str:
    """What the page needs to decode the active model, or the reason it cannot."""
    if not st.get_option("server.enableStaticServing"):
        return NO_STATIC_SERVING
    try:
        file = _current_file(active, data)
    except OSError as error:
        _LOGGER.warning("The page's decoder weights cannot be written in %s: %s",
                        weights_files.WEIGHTS_DIR, error)
        return NOT_STORED
    if isinstance(file, str):
        return file
    return PageDecoder(active.version, file, display_scale(active.image_shape[1]), mean_caption)
