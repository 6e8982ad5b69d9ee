"""Explore's attribute sliders: they move z from a base, and the latent sliders follow.

z = base + sum of t * direction, where base is the z the latent sliders showed when the
attribute sliders were last at 0. A move of a latent slider, a button or an upload sets a new z:
that z becomes the base and the attribute sliders go back to 0, so both sets of sliders always
describe the same z. Each attribute change reruns Explore's fragment on the server, which sets
z with `choose_z`; the latent sliders (and the in-page decoder) then take that z.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae_core.data import ImageDataset

from .active_model import ActiveModel
from .attributes import attribute_controls, attribute_directions, no_directions_note, reset_controls
from .explore_state import choose_z, snap

PREFIX = "explore_attr"
STATE_KEY = "explore_attr_state"  # (model version, base z, the z the attribute sliders set)


def attributes_drawn(version: str) -> bool:
    """This session has drawn the attribute sliders for this model (so they may have moved).

    Until then they are at 0 and cannot move z, so Explore draws them after the latent sliders:
    fitting the directions (seconds, once per model) then does not delay the first image.
    """
    return st.session_state.get(STATE_KEY, (None,))[0] == version


def attribute_z(active: ActiveModel, data: ImageDataset | None, z: list[float]) -> list[float]:
    """Draw the attribute sliders; returns z, moved (and set for Explore) when they ask."""
    result = attribute_directions(active, data)
    if result is None:
        st.caption(no_directions_note(data))
        return z
    version, base, shown = st.session_state.get(STATE_KEY, (None, None, None))
    if version != active.version or shown != tuple(z):  # z was set some other way
        base = tuple(z)
        reset_controls(PREFIX, active.version, result)
    move = attribute_controls(PREFIX, active.version, result, columns=2)
    target = snap(np.asarray(base) + move.offset)
    if target != z:
        words = move.words or "back to where they started"
        choose_z(target, f"the attribute sliders ({words})")
    st.session_state[STATE_KEY] = (active.version, base, tuple(target))
    return target
