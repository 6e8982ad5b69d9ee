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
from vae_core.directions import CLASS, FROM_HERE, Direction, DirectionFit, fit_directions

from .active_model import ActiveModel
from .explore_state import choose_z, snap
from .page_guard import guarded

# What a slider along a factor does, in words (image y grows downwards), for shapes and shapes3d.
FACTOR_LABELS = {"scale": "bigger", "rotation": "rotate", "x": "move right", "y": "move down",
                 "orientation": "turn"}
FACTOR_UNITS = {"scale": "scale units", "rotation": "radians", "x": "widths of the x range",
                "y": "heights of the y range", "orientation": "degrees",
                "floor hue": "hue (0 to 1 is once round the colour wheel)",
                "wall hue": "hue (0 to 1 is once round the colour wheel)",
                "object hue": "hue (0 to 1 is once round the colour wheel)"}
CLASS_RANGE = (-1.0, 2.0)  # in class-mean differences
PULL_RANGE = (0.0, 1.0)  # the share of the way to the class's mean code
DIFFERENCE, PULL = "class-mean difference", "from here to its mean"
VALUE_SPREADS = 3.0  # a factor's slider spans +/- this many of its standard deviations
WEAK_R2 = 0.5  # below this held-out R^2, a linear read-out barely finds the factor in z
# The class slider for each way to move: (key, range, step, format, help).
CLASS_SLIDERS = {
    DIFFERENCE: ("class", CLASS_RANGE, 0.1, "%+.1f",
                 "In class-mean differences: 1 moves z by the mean code of the class minus the "
                 "mean code of the others."),
    PULL: ("class_pull", PULL_RANGE, 0.05, "%.2f",
           "The share of the way from this z to the mean code of the class: 1 lands on it, "
           "whatever the image was."),
}


# Read on every slider move: cache_resource hands out the one fit (cache_data would unpickle a
# copy each time, ~3 ms); its arrays are made read-only since every session shares them.
@st.cache_resource(max_entries=8, show_spinner="Fitting attribute directions (once per model)...")
def _fit(version: str, _active: ActiveModel, _data: ImageDataset) -> DirectionFit | None:
    fit = fit_directions(_active.model, _data)
    if fit is not None:
        for array in (fit.check_codes, *(d.vector for d in fit.directions)):
            array.flags.writeable = False
    return fit


def fitted_directions(active: ActiveModel, data: ImageDataset | None) -> DirectionFit | None:
    """The model's directions (cached per model version), or None without labels or factors."""
    return None if data is None else _fit(active.version, active, data)


def widget_key(prefix: str, name: str, version: str) -> str:
    return f"{prefix}_{name}_{hashlib.sha1(version.encode()).hexdigest()[:10]}"


def factor_label(direction: Direction) -> str:
    return FACTOR_LABELS.get(direction.name, direction.name)


def class_name(direction: Direction) -> str:
    """'8' for the directions 'towards 8' and 'towards 8 from here'."""
    return direction.name.removeprefix("towards ").removesuffix(FROM_HERE)


def how_well(direction: Direction) -> str:
    """The direction's scores in words: held-out probe score and the decoded check."""
    if direction.kind == CLASS:
        name = class_name(direction)
        text = f"probe names {direction.probe_score:.0%} of held-out '{name}' images right"
        if direction.effect is not None:
            step = f"{direction.spread:.0%} of the way" if direction.pulls else "one step"
            text += (f"; {step} turns {direction.effect:.0%} of other held-out images into "
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
    """Where the direction sliders take a base z, and how, in words."""

    z: np.ndarray  # (D,)
    words: str  # e.g. "towards 8 +1.0, bigger +0.10"; empty for no move

    @property
    def moves(self) -> bool:
        return bool(self.words)


def reset_controls(prefix: str, version: str, fit: DirectionFit) -> None:
    """Put every slider back to 0 (call before they are drawn in this run)."""
    for name in _slider_names(fit):
        st.session_state[widget_key(prefix, name, version)] = 0.0


def _slider_names(fit: DirectionFit) -> list[str]:
    classes = [d for d in fit.directions if d.kind == CLASS]
    names = [CLASS_SLIDERS[DIFFERENCE][0]] if classes else []
    names += [CLASS_SLIDERS[PULL][0]] if any(d.pulls for d in classes) else []
    return names + [d.name for d in fit.directions if d.kind != CLASS]


@guarded("the attribute sliders")
def _rerun_fragments(fragments: tuple[str, ...]) -> None:
    """A change of an attribute slider reruns these fragments, in order, not its own (none:
    Streamlit's usual rerun)."""
    if fragments:
        st.rerun(list(fragments))


def direction_controls(prefix: str, version: str, fit: DirectionFit, base,
                       columns: int = 1, reruns: tuple[str, ...] = ()) -> DirectionMove:
    """One slider for the chosen class and one per factor (in `columns` columns), each with how
    well it works; the class's move comes first (a pull is measured from `base`). A change of
    any of them reruns the fragments `reruns` names, in order (default: Streamlit's rerun)."""
    z, words = np.asarray(base, dtype=np.float64), []
    classes = [d for d in fit.directions if d.kind == CLASS]
    if classes:
        z, words = _class_control(prefix, version, classes, z, reruns)
    factors = [d for d in fit.directions if d.kind != CLASS]
    grid = st.columns(columns, gap="medium") if factors else []
    for i, direction in enumerate(factors):
        key, spread = widget_key(prefix, direction.name, version), VALUE_SPREADS * direction.spread
        st.session_state.setdefault(key, 0.0)  # the value lives in session state (reset_controls)
        t = grid[i % columns].slider(
            factor_label(direction), -spread, spread, step=spread / 30, key=key, format="%+.2f",
            help=f"In {FACTOR_UNITS.get(direction.name, 'units')}, as read by a linear probe.",
            on_change=_rerun_fragments, args=(reruns,))
        grid[i % columns].caption(how_well(direction))
        if t:
            z = direction.moved(z, t)
            words.append(f"{factor_label(direction)} {t:+.2f}")
    return DirectionMove(z, ", ".join(words))


def _class_control(prefix: str, version: str, classes: list[Direction], z: np.ndarray,
                   reruns: tuple[str, ...]):
    """The class picker, the way to move (when pulls exist) and its slider: (z moved, words)."""
    left, middle, right = st.columns([1, 1.4, 2], vertical_alignment="bottom")
    names = list(dict.fromkeys(class_name(d) for d in classes))
    picked = left.selectbox("Towards", names, key=widget_key(prefix, "class_choice", version),
                            on_change=_rerun_fragments, args=(reruns,))
    way = middle.radio("By", [DIFFERENCE, PULL], key=widget_key(prefix, "class_way", version),
                       help="The class-mean difference moves every z alike; from here, z moves "
                            "part of the way to the class's mean code, wherever z is.",
                       on_change=_rerun_fragments, args=(reruns,),
                       ) if any(d.pulls for d in classes) else DIFFERENCE
    matching = [d for d in classes if class_name(d) == picked]  # the difference first
    chosen = next((d for d in matching if d.pulls == (way == PULL)), matching[0])
    name, value_range, step, number, help_text = CLASS_SLIDERS[PULL if chosen.pulls else DIFFERENCE]
    key = widget_key(prefix, name, version)
    st.session_state.setdefault(key, 0.0)
    t = right.slider(chosen.name, *value_range, step=step, format=number, key=key, help=help_text,
                     on_change=_rerun_fragments, args=(reruns,))
    st.caption(how_well(chosen))
    return (chosen.moved(z, t), [f"{chosen.name} {number % t}"]) if t else (z, [])


def no_directions_note(data: ImageDataset | None) -> str:
    if data is None:
        return "Attribute directions need the model's data set, which is not available here."
    return (f"The data set '{data.name}' has no known factors and fewer than two labelled "
            "classes, so there are no attribute directions to fit.")


EXPLORE_PREFIX = "explore_directions"
STATE_KEY = "explore_directions_state"  # (model version, base z, the z the sliders set)


RESET_KEY = "explore_directions_reset"  # the model version whose sliders a rerun puts back to 0


def left_behind(active: ActiveModel, data: ImageDataset | None, z: list[float]) -> bool:
    """Explore's latent sliders moved z away from where the direction sliders put it, and one
    of those is away from 0: True when the page must rerun to draw them back at 0 (only the run
    that draws a widget may set its value), once."""
    version, _, shown = st.session_state.get(STATE_KEY, (None, None, None))
    if version != active.version or shown == tuple(z) or \
            st.session_state.get(RESET_KEY) == version:
        return False
    fit = fitted_directions(active, data)
    names = _slider_names(fit) if fit is not None else []
    if all(st.session_state.get(widget_key(EXPLORE_PREFIX, name, version), 0.0) == 0.0
           for name in names):
        return False
    st.session_state[RESET_KEY] = version
    return True


def direction_z(active: ActiveModel, data: ImageDataset | None, z: list[float],
                reruns: tuple[str, ...] = ()) -> list[float]:
    """Draw the direction sliders; returns z, moved (and set for Explore) when they ask. A
    change of theirs reruns the fragments `reruns` names, in order."""
    fit = fitted_directions(active, data)
    if fit is None:
        st.caption(no_directions_note(data))
        return z
    version, base, shown = st.session_state.get(STATE_KEY, (None, None, None))
    st.session_state.pop(RESET_KEY, None)
    if version != active.version or shown != tuple(z):  # z was set some other way
        base = tuple(z)
        reset_controls(EXPLORE_PREFIX, active.version, fit)
    move = direction_controls(EXPLORE_PREFIX, active.version, fit, base, columns=2,
                              reruns=reruns)
    target = snap(move.z)
    if target != z:
        words = move.words or "back to where they started"
        choose_z(target, f"the attribute sliders ({words})")
    st.session_state[STATE_KEY] = (active.version, base, tuple(target))
    return target
