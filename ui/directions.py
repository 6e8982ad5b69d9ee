"""Direction sliders ("towards 8", "bigger", "move right"), how well each direction works, and
Explore's use of them.

The directions (vae_core.directions) are fitted once per model version and cached. The
controls are plain Streamlit widgets: a change reruns the script (or fragment), which moves a
base z along the directions. Widget keys carry a prefix and the model version, so each page and
each model keeps its own settings.

On Explore, z = base + the sliders' move, where base is the z the latent sliders showed when the
direction sliders were last at 0. A move of a latent slider, a button or an upload sets a new z:
that z becomes the base and the direction sliders go back to 0, so both sets of sliders always
describe the same z. Each direction slider's change reruns Explore's fragment on the server,
which sets z with `choose_z`; the latent sliders (and the in-page decoder) then take that z.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import streamlit as st

from vae_core.data import ImageDataset
from vae_core.direction_fit import AttributeDirections, fit_attribute_directions
from vae_core.directions import CLASS, Direction

from .active_model import ActiveModel
from .explore_state import choose_z, snap

# What a slider along a factor does, in words (image y grows downwards).
FACTOR_LABELS = {"scale": "bigger", "rotation": "rotate", "x": "move right", "y": "move down"}
FACTOR_UNITS = {"scale": "scale units", "rotation": "radians", "x": "widths of the x range",
                "y": "heights of the y range"}
CLASS_RANGE = (-1.0, 2.0)  # in class-mean differences
VALUE_SPREADS = 3.0  # a factor's slider spans +/- this many of its standard deviations
WEAK_R2 = 0.5  # below this held-out R^2, a linear read-out barely finds the factor in z


@st.cache_data(max_entries=8, show_spinner="Fitting attribute directions (once per model)...")
def _fit(version: str, _active: ActiveModel, _data: ImageDataset) -> AttributeDirections | None:
    return fit_attribute_directions(_active.model, _data)


def fitted_directions(active: ActiveModel, data: ImageDataset | None):
    """The model's directions (cached per model version), or None without labels or factors."""
    return None if data is None else _fit(active.version, active, data)


def widget_key(prefix: str, name: str, version: str) -> str:
    return f"{prefix}_{name}_{hashlib.sha1(version.encode()).hexdigest()[:10]}"


def factor_label(direction: Direction) -> str:
    return FACTOR_LABELS.get(direction.name, direction.name)


def class_name(direction: Direction) -> str:
    """'8' for the direction 'towards 8'."""
    return direction.name.removeprefix("towards ")


def how_well(direction: Direction) -> str:
    """The direction's scores in words: held-out probe score and the decoded check."""
    if direction.kind == CLASS:
        name = class_name(direction)
        text = f"probe names {direction.probe_score:.0%} of held-out '{name}' images right"
        if direction.effect is not None:
            text += (f"; one step turns {direction.effect:.0%} of other held-out images into "
                     f"'{name}' (decoded and read again)")
        return text
    text = f"probe R² {direction.probe_score:.2f} on held-out data"
    if direction.probe_score < WEAK_R2:
        return text + ": z barely carries this factor linearly, so this slider means little"
    if direction.effect is not None:
        text += (f"; decoded and read again, a move changes the factor by {direction.effect:.0%} "
                 "of what it asks")
    return text


@dataclass(frozen=True)
class DirectionMove:
    """What the direction sliders ask for: z + offset."""

    offset: np.ndarray  # (D,)
    words: str  # e.g. "towards 8 +1.0, bigger +0.10"; empty for no move

    @property
    def moves(self) -> bool:
        return bool(self.words)


def reset_controls(prefix: str, version: str, result: AttributeDirections) -> None:
    """Put every slider back to 0 (call before they are drawn in this run)."""
    for name in _slider_names(result):
        st.session_state[widget_key(prefix, name, version)] = 0.0


def _slider_names(result: AttributeDirections) -> list[str]:
    values = [d.name for d in result.directions if d.kind != CLASS]
    return (["class"] if any(d.kind == CLASS for d in result.directions) else []) + values


def direction_controls(prefix: str, version: str, result: AttributeDirections,
                       columns: int = 1) -> DirectionMove:
    """One slider for the chosen class and one per factor (in `columns` columns), each with how
    well it works."""
    offset, words = np.zeros_like(result.directions[0].vector), []
    classes = [d for d in result.directions if d.kind == CLASS]
    if classes:
        offset, words = _class_control(prefix, version, classes, offset, words)
    factors = [d for d in result.directions if d.kind != CLASS]
    grid = st.columns(columns, gap="medium") if factors else []
    for i, direction in enumerate(factors):
        key, spread = widget_key(prefix, direction.name, version), VALUE_SPREADS * direction.spread
        st.session_state.setdefault(key, 0.0)  # the value lives in session state (reset_controls)
        t = grid[i % columns].slider(
            factor_label(direction), -spread, spread, step=spread / 30, key=key, format="%+.2f",
            help=f"In {FACTOR_UNITS.get(direction.name, 'units')}, as read by a linear probe.")
        grid[i % columns].caption(how_well(direction))
        if t:
            offset = offset + t * direction.vector
            words.append(f"{factor_label(direction)} {t:+.2f}")
    return DirectionMove(offset, ", ".join(words))


def _class_control(prefix, version, classes: list[Direction], offset, words):
    left, right = st.columns([1, 2], vertical_alignment="bottom")
    by_class = {class_name(d): d for d in classes}
    chosen = by_class[left.selectbox("Towards", list(by_class),
                                     key=widget_key(prefix, "class_choice", version))]
    key = widget_key(prefix, "class", version)
    st.session_state.setdefault(key, 0.0)
    t = right.slider(chosen.name, *CLASS_RANGE, step=0.1, format="%+.1f", key=key,
                     help="In class-mean differences: 1 moves z by the mean code of the class "
                          "minus the mean code of the others.")
    st.caption(how_well(chosen))
    if t:
        offset = offset + t * chosen.vector
        words.append(f"{chosen.name} {t:+.1f}")
    return offset, words


def no_directions_note(data: ImageDataset | None) -> str:
    if data is None:
        return "Attribute directions need the model's data set, which is not available here."
    return (f"The data set '{data.name}' has no known factors and fewer than two labelled "
            "classes, so there are no attribute directions to fit.")


EXPLORE_PREFIX = "explore_directions"
STATE_KEY = "explore_directions_state"  # (model version, base z, the z the sliders set)


def directions_drawn(version: str) -> bool:
    """This session has drawn the direction sliders for this model (so they may have moved).

    Until then they are at 0 and cannot move z, so Explore draws them after the latent sliders:
    fitting the directions (seconds, once per model) then does not delay the first image.
    """
    return st.session_state.get(STATE_KEY, (None,))[0] == version


def direction_z(active: ActiveModel, data: ImageDataset | None, z: list[float]) -> list[float]:
    """Draw the direction sliders; returns z, moved (and set for Explore) when they ask."""
    result = fitted_directions(active, data)
    if result is None:
        st.caption(no_directions_note(data))
        return z
    version, base, shown = st.session_state.get(STATE_KEY, (None, None, None))
    if version != active.version or shown != tuple(z):  # z was set some other way
        base = tuple(z)
        reset_controls(EXPLORE_PREFIX, active.version, result)
    move = direction_controls(EXPLORE_PREFIX, active.version, result, columns=2)
    target = snap(np.asarray(base) + move.offset)
    if target != z:
        words = move.words or "back to where they started"
        choose_z(target, f"the attribute sliders ({words})")
    st.session_state[STATE_KEY] = (active.version, base, tuple(target))
    return target
