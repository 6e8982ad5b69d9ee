"""All latent sliders in one custom element (st.components.v2) that sends z while dragging.

st.slider reports its value only when the mouse is released; these native range inputs report
it on every `input` event, throttled in the browser to one update in flight. The JS and CSS are
in ui/frontend/ and are inlined here: no build step, nothing loaded from the network.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import streamlit as st

_ASSETS = Path(__file__).parent / "frontend"
_COMPONENT = st.components.v2.component(
    "latent_lab.latent_sliders",
    css=(_ASSETS / "latent_sliders.css").read_text(encoding="utf-8"),
    js=(_ASSETS / "latent_sliders.js").read_text(encoding="utf-8"),
)
STATE = "moved"  # the component's state: {"values": [...], "seq": n, "revision": r}


def _moved(key: str) -> dict | None:
    state = st.session_state.get(key)
    moved = state.get(STATE) if isinstance(state, dict) else None
    return moved if isinstance(moved, dict) else None


def moved_values(key: str, revision: int) -> list[float] | None:
    """The values the user moved the sliders to since `revision` was drawn, or None.

    A move made before the revision (a button set z meanwhile) is stale and gives None.
    Readable before the sliders are drawn, so a page can use it to draw what depends on it first.
    """
    moved = _moved(key)
    if moved is None or moved.get("revision") != revision:
        return None
    try:
        return [float(v) for v in moved["values"]]
    except (KeyError, TypeError, ValueError):
        return None


def latent_sliders(
    labels: list[str],
    values: list[float],
    key: str,
    limit: float = 3.0,
    step: float = 0.05,
    *,
    revision: int = 0,
    muted: Sequence[bool] = (),
) -> list[float]:
    """Draw one range input per label; returns the values they show.

    The browser applies `values` when the sliders are first drawn and whenever `revision`
    changes; otherwise it keeps the user's own values (Python's may be stale during a drag).
    So bump `revision` whenever something other than these sliders sets the values.
    `muted` greys out rows (e.g. collapsed dimensions).
    """
    moved = _moved(key)
    data = {
        "labels": list(labels),
        "values": [float(v) for v in values],
        "muted": [bool(m) for m in muted] or [False] * len(labels),
        "limit": float(limit),
        "step": float(step),
        "revision": revision,
        "ack": moved.get("seq") if moved else None,  # lets the browser send its next move
    }
    _COMPONENT(key=key, data=data)
    return moved_values(key, revision) or data["values"]
