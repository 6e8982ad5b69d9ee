"""All latent sliders in one custom element (st.components.v2), which can also decode in the page.

Native range inputs report z while the user drags, throttled in the browser (at most one update
every 150 ms, and the final value on release). Given a `PageDecoder`, the element receives the
decoder's weights once per model version (binary, in the component's bytes data), runs it in
JavaScript and redraws the decoder's mean on every animation frame; it reports whether that works
through its "decoder" state, and until it does the page shows the server's images. The JS and CSS
live in ui/frontend/ and are inlined here: no build step, nothing loaded from the network.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from .component_envelope import pack_envelope

_ASSETS = Path(__file__).parent / "frontend"
# ES modules in dependency order, joined into the one module components v2 takes inline.
_MODULES = ("decoder.js", "image_canvas.js", "latent_pad.js", "preview_strips.js",
            "latent_sliders.js")
_LOCAL_IMPORT = re.compile(r'^import \{[^}]*\} from "\./[\w.]+";\n', re.MULTILINE)


def inline_modules(names: Sequence[str] = _MODULES) -> str:
    """The modules as one, their imports of each other removed (the names are all in scope)."""
    return "\n".join(_LOCAL_IMPORT.sub("", (_ASSETS / name).read_text(encoding="utf-8"))
                     for name in names)


_COMPONENT = st.components.v2.component(
    "latent_lab.latent_sliders",
    css=(_ASSETS / "latent_sliders.css").read_text(encoding="utf-8"),
    js=inline_modules(),
)
MOVED = "moved"  # state: {"values": [...], "seq": n, "revision": r}, values in display order
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


def moved_values(key: str, revision: int) -> list[float] | None:
    """The values the user moved the sliders to since `revision` was drawn, or None.

    A move made before the revision (a button set z meanwhile) is stale and gives None.
    Readable before the sliders are drawn, so a page can use it to draw what depends on it first.
    """
    moved = _state(key, MOVED)
    if moved is None or moved.get("revision") != revision:
        return None
    try:
        return [float(v) for v in moved["values"]]
    except (KeyError, TypeError, ValueError):
        return None


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


def _payload(control: dict, key: str, decoder: PageDecoder | None) -> bytes:
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


def latent_sliders(
    labels: list[str],
    values: list[float],
    key: str,
    limit: float = 3.0,
    step: float = 0.05,
    *,
    revision: int = 0,
    muted: Sequence[bool] = (),
    order: Sequence[int] = (),
    decoder: PageDecoder | None = None,
) -> list[float]:
    """Draw one range input per label; returns the values they show.

    The browser applies `values` when the sliders are first drawn and whenever `revision`
    changes; otherwise it keeps the user's own values (Python's may be stale during a drag).
    So bump `revision` whenever something other than these sliders sets the values.
    `muted` greys out rows (e.g. collapsed dimensions); `order[i]` is the latent dimension of
    row i (the decoder needs z in dimension order). With `decoder`, the page decodes too.
    """
    values = [float(v) for v in values]
    control = {
        "key": key,
        "labels": list(labels),
        "values": values,  # applied only on a new revision or a fresh mount
        "muted": [bool(m) for m in muted] or [False] * len(labels),
        "order": [int(j) for j in order] or list(range(len(labels))),
        "limit": float(limit),
        "step": float(step),
        "revision": revision,
    }
    _COMPONENT(key=key, data=_payload(control, key, decoder))
    return moved_values(key, revision) or values
