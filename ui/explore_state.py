"""Explore's z: one list of floats in st.session_state["explore_z"], shown by the latent sliders.

Any page may set `explore_z` to send a z to Explore. Buttons set it with `choose_z`, which bumps
a revision so the sliders in the browser take the new z; a slider move comes back as the
component's state and becomes `explore_z` at the start of the next (fragment) run.
"""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

from vae_core.data import preprocess_image
from vae_core.latent import encode_images

from .active_model import ActiveModel
from .latent_sliders import asked_seed, moved_values

Z_KEY = "explore_z"
SYNCED_KEY = "explore_synced"  # (model version, z) that the sliders were last drawn with
REVISION_KEY = "explore_z_revision"  # bumped when z is set other than by the sliders
SOURCE_KEY = "explore_z_source"  # (where z came from, that z): shown while z is unchanged
RANDOM_DRAWS_KEY = "explore_random_draws"  # seeds random picks: the n-th click, the n-th draw
SAMPLE_SEED_KEY = "explore_sample_seed"  # the seed of the samples x ~ p(x|z) shown
ASKED_SEED_KEY = "explore_asked_seed"  # the page's last seed request, once taken
Z_LIMIT = 3.0
Z_STEP = 0.05
COLLAPSED_NATS = 0.01


def is_collapsed(dim: int, kl_per_dim: np.ndarray | None) -> bool:
    """The encoder barely uses this dimension (average KL below COLLAPSED_NATS)."""
    return kl_per_dim is not None and kl_per_dim[dim] < COLLAPSED_NATS


def dimension_label(dim: int, kl_per_dim: np.ndarray | None) -> str:
    """'z3 · 2.41 nats', 'z7 · collapsed' (KL below COLLAPSED_NATS), or 'z3' without the KL."""
    if kl_per_dim is None:
        return f"z{dim}"
    if is_collapsed(dim, kl_per_dim):
        return f"z{dim} · collapsed"
    return f"z{dim} · {kl_per_dim[dim]:.2f} nats"


def scoped_key(name: str, version: str) -> str:
    """A widget key per model version, so one model's widget state never leaks into another's."""
    return f"explore_{name}_{hashlib.sha1(version.encode()).hexdigest()[:10]}"


def sliders_key(version: str) -> str:
    return scoped_key("sliders", version)


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


def z_revision() -> int:
    return st.session_state.get(REVISION_KEY, 0)


def choose_z(z, source: str) -> None:
    """Set z from a button or an upload, remembering where it came from; moves the sliders.

    Coordinates beyond the sliders' range are clipped, and the source says how many: a plain
    autoencoder's codes often lie beyond ±3 (nothing ties them to the prior)."""
    outside = int((np.abs(np.asarray(z, dtype=np.float64)) > Z_LIMIT + Z_STEP / 2).sum())
    if outside:
        source += (f" ({outside} of {len(z)} coordinates clipped to ±{Z_LIMIT:g}, the sliders' "
                   "range: the image differs from that z's)")
    set_z(snap(z))
    st.session_state[SOURCE_KEY] = (source, tuple(snap(z)))
    st.session_state[REVISION_KEY] = z_revision() + 1


def z_source(z: list[float]) -> str | None:
    """Where z came from, while it is still that z (a slider move makes this None)."""
    source, source_z = st.session_state.get(SOURCE_KEY, (None, None))
    return source if source_z == tuple(z) else None


def sync_z(version: str, latent_dim: int) -> list[float]:
    """Make `explore_z` valid for this model before the sliders are drawn; returns it.

    A z left over from another model (or of another length) is reset to 0; a z that another
    page or a button set since the sliders were last drawn is kept.
    """
    synced_version, synced_z = st.session_state.get(SYNCED_KEY, (None, None))
    z = _valid_z(st.session_state.get(Z_KEY), latent_dim)
    if version != synced_version and (z is None or tuple(snap(z)) == synced_z):
        z = None
    if z is None:
        choose_z([0.0] * latent_dim, "z = 0, the prior's mean")
    elif tuple(snap(z)) != synced_z and z_source(snap(z)) is None:
        choose_z(z, "sent from another page")
    return _synced(version, snap(st.session_state[Z_KEY]))


def _synced(version: str, z: list[float]) -> list[float]:
    st.session_state[SYNCED_KEY] = (version, tuple(z))
    set_z(z)
    return z


def record_sliders(version: str, order: list[int]) -> list[float]:
    """A slider move since z was last set becomes `explore_z`; returns z.

    The sliders send their values in display `order`; a move made before a button set z is
    stale and ignored.
    """
    z = snap(st.session_state[Z_KEY])
    moved = moved_values(sliders_key(version), z_revision())
    if moved is not None and len(moved) == len(order):
        for dim, value in zip(order, snap(moved), strict=True):
            z[dim] = value
    return _synced(version, z)


def sample_seed(version: str) -> int:
    """The samples' seed, after taking a new one the page's "New samples" button asked for."""
    asked = asked_seed(sliders_key(version))
    if asked is not None and asked != st.session_state.get(ASKED_SEED_KEY):
        st.session_state[ASKED_SEED_KEY] = asked
        st.session_state[SAMPLE_SEED_KEY] = asked
    return st.session_state.get(SAMPLE_SEED_KEY, 0)


def next_sample_seed() -> None:
    """The server's "New samples" button (when the page does not decode)."""
    st.session_state[SAMPLE_SEED_KEY] = st.session_state.get(SAMPLE_SEED_KEY, 0) + 1


def example_z(active: ActiveModel, test_x, index: int) -> np.ndarray:
    """The posterior mean of test example `index` (test_x is (N, C, H, W))."""
    return encode_images(active.model, test_x[index : index + 1]).mean[0]


def upload_z(active: ActiveModel, data: bytes) -> np.ndarray:
    """The posterior mean of an uploaded image; raises ImageInputError for unusable files."""
    x = preprocess_image(data, active.image_shape, active.input_style)  # (C, H, W)
    return encode_images(active.model, x[None]).mean[0]
