"""Handing a model's decoder to a page component: what to send, and what the page reported.

The component's data names the decoder's weights file (ui/weights_files.py: its URL, SHA-256
and size); the page fetches it once and keeps it (ui/frontend/weights_cache.js), so a session
holds a few hundred bytes of it, not the weights. The page reports through its "decoder" state
that it decodes this model version, or why it cannot; until it decodes, the server draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from vae_core.decoder_export import pack_envelope

from .weights_files import WeightsFile

DECODER = "decoder"  # state: {"version": v, "ok": bool, "error": str | None, "load_ms", "bytes"}


@dataclass(frozen=True)
class PageDecoder:
    """What the page needs to decode a model version."""

    version: str
    weights: WeightsFile  # an envelope: blobs "decoder" (vae_core.decoder_export.pack) and
    # "scatter" (float32 (N, D) posterior means for the 2-D pad, empty without data)
    scale: int  # integer upscale of the main image
    mean_caption: str


def _state(key: str, name: str) -> dict | None:
    state = st.session_state.get(key)
    value = state.get(name) if isinstance(state, dict) else None
    return value if isinstance(value, dict) else None


def decoder_status(key: str, version: str) -> dict | None:
    """What the page last reported about decoding this model version, or None."""
    status = _state(key, DECODER)
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
