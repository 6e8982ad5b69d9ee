"""Explore's z: one list of floats in st.session_state["explore_z"], mirrored into the sliders.

Any page may set `explore_z` to send a z to Explore. Explore writes it into the slider keys
before the sliders are created (Streamlit forbids changing a widget's key after that), and the
sliders write it back on every change, so the two never disagree.
"""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

from vae_core.data import preprocess_image
from vae_core.latent import encode_images

from .active_model import ActiveModel

Z_KEY = "explore_z"
SYNCED_KEY = "explore_synced"  # (model version, z) that the slider keys currently hold
SOURCE_KEY = "explore_z_source"  # (where z came from, that z): shown while z is unchanged
RANDOM_DRAWS_KEY = "explore_random_draws"  # seeds random picks: the n-th click, the n-th draw
Z_LIMIT = 3.0
Z_STEP = 0.05
COLLAPSED_NATS = 0.01


def dimension_order(usage: np.ndarray | None, latent_dim: int) -> list[int]:
    """Latent dimensions, most used (largest average KL) first; index order without usage."""
    if usage is None:
        return list(range(latent_dim))
    return [int(j) for j in np.argsort(-np.asarray(usage), kind="stable")]


def dimension_label(dim: int, usage: np.ndarray | None) -> str:
    """'z3 · 2.41 nats', 'z7 · collapsed' (KL below COLLAPSED_NATS), or 'z3' without usage."""
    if usage is None:
        return f"z{dim}"
    if usage[dim] < COLLAPSED_NATS:
        return f"z{dim} · collapsed"
    return f"z{dim} · {usage[dim]:.2f} nats"


def scoped_key(name: str, version: str) -> str:
    """A widget key per model version, so one model's widget state never leaks into another's."""
    return f"explore_{name}_{hashlib.sha1(version.encode()).hexdigest()[:10]}"


def slider_key(version: str, dim: int) -> str:
    return scoped_key(f"slider{dim}", version)


def snap(z) -> list[float]:
    """z clipped to the sliders' range and rounded to their step: what a slider can show."""
    clipped = np.clip(np.asarray(z, dtype=np.float64), -Z_LIMIT, Z_LIMIT)
    return [round(round(float(v) / Z_STEP) * Z_STEP, 2) for v in clipped]


def _valid_z(value, latent_dim: int) -> list[float] | None:
    try:
        z = [float(v) for v in value]
    except (TypeError, ValueError):
        return None
    return z if len(z) == latent_dim and all(np.isfinite(z)) else None


def set_z(z) -> None:
    st.session_state[Z_KEY] = [float(v) for v in z]


def choose_z(z, source: str) -> None:
    """Set z from a button or an upload, remembering where it came from."""
    set_z(snap(z))
    st.session_state[SOURCE_KEY] = (source, tuple(snap(z)))


def z_source(z: list[float]) -> str | None:
    """Where z came from, while it is still that z (a slider move makes this None)."""
    source, source_z = st.session_state.get(SOURCE_KEY, (None, None))
    return source if source_z == tuple(z) else None


def sync_sliders(version: str, latent_dim: int) -> list[float]:
    """Make `explore_z` valid for this model and write it into the slider keys; returns it.

    A z left over from another model (or of another length) is reset to 0; a z that another
    page or a button set since the last sync is kept.
    """
    synced_version, synced_z = st.session_state.get(SYNCED_KEY, (None, None))
    z = _valid_z(st.session_state.get(Z_KEY), latent_dim)
    if version != synced_version and (z is None or tuple(snap(z)) == synced_z):
        z = None
    if z is None:
        choose_z([0.0] * latent_dim, "z = 0, the prior's mean")
    elif tuple(snap(z)) != synced_z and z_source(snap(z)) is None:
        choose_z(z, "sent from another page")
    z = snap(st.session_state[Z_KEY])
    keys = [slider_key(version, j) for j in range(latent_dim)]
    # Keys also vanish when the sliders were not drawn (another page ran): rewrite them then.
    if (version, tuple(z)) != (synced_version, synced_z) or any(
        k not in st.session_state for k in keys
    ):
        for key, value in zip(keys, z, strict=True):
            st.session_state[key] = value
        st.session_state[SYNCED_KEY] = (version, tuple(z))
    set_z(z)
    return z


def record_sliders(version: str, latent_dim: int) -> list[float]:
    """After the sliders are drawn: their values become `explore_z`; returns z."""
    z = snap([st.session_state[slider_key(version, j)] for j in range(latent_dim)])
    st.session_state[SYNCED_KEY] = (version, tuple(z))
    set_z(z)
    return z


def next_rng() -> np.random.Generator:
    """A generator seeded by how many random picks this session has made: repeatable runs."""
    draw = st.session_state.get(RANDOM_DRAWS_KEY, 0)
    st.session_state[RANDOM_DRAWS_KEY] = draw + 1
    return np.random.default_rng(draw)


def example_z(active: ActiveModel, test_x, index: int) -> np.ndarray:
    """The posterior mean of test example `index` (test_x is (N, C, H, W))."""
    return encode_images(active.model, test_x[index : index + 1]).mean[0]


def upload_z(active: ActiveModel, data: bytes) -> np.ndarray:
    """The posterior mean of an uploaded image; raises ImageInputError for unusable files."""
    x = preprocess_image(data, active.image_shape, active.input_style)  # (C, H, W)
    return encode_images(active.model, x[None]).mean[0]
