"""Handing a model's decoder to a page component: what to send, and what the page reported.

The component gets the packed decoder (vae_core.decoder_export) in its bytes data until it
reports, through its "decoder" state, that it decodes this model version, or that it cannot;
after that nothing is resent for the version (the page caches it), so reruns stay small.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from vae_core.decoder_export import pack_envelope

DECODER = "decoder"  # state: {"version": v, "ok": bool, "error": str | None, "load_ms", "bytes"}


@dataclass(frozen=True)
class PageDecoder:
    """What the page needs to decode: sent once per `version` (see vae_core.decoder_export)."""

    version: str
    blob: bytes  # vae_core.decoder_export.pack
    scatter: bytes  # float32 (N, D) posterior means for the 2-D pad, b"" without data
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
    """The component's data: `control` plus the decoder's fields, and its weights if needed."""
    if decoder is None:
        return pack_envelope(control)
    in_page = decodes_in_page(key, decoder.version)
    control.update(version=decoder.version, in_page=in_page, scale=decoder.scale,
                   mean_caption=decoder.mean_caption)
    blobs = {}
    if not in_page and page_decoder_error(key, decoder.version) is None:  # until it has them
        blobs = {"decoder": decoder.blob, "scatter": decoder.scatter}
    control["sent_bytes"] = sum(len(b) for b in blobs.values())
    return pack_envelope(control, blobs)


