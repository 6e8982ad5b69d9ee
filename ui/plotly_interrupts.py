"""Keep Plotly's interrupted animations from surfacing as uncaught errors in the browser.

Pausing or scrubbing a playing Plotly animation rejects the interrupted animation's promise,
which Plotly's own controls leave unhandled. A tiny component (no visible output) swallows
exactly those rejections; see ui/frontend/plotly_interrupts.js.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

_COMPONENT = st.components.v2.component(
    "latent_lab.plotly_interrupts",
    js=(Path(__file__).parent / "frontend" / "plotly_interrupts.js").read_text(encoding="utf-8"),
)


def quiet_plotly_interrupts() -> None:
    """Mount once on a page with an animated Plotly chart."""
    _COMPONENT(key="plotly_interrupts")
