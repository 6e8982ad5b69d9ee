"""The session's active model: its key lives in st.session_state, the model in the shared cache."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import streamlit as st

from vae_core import latent
from vae_core.checkpoint import Checkpoint
from vae_core.data import DatasetError, ImageDataset, input_style, load_dataset
from vae_core.principal import PrincipalView, needs_view, principal_view

from .model_registry import DEFAULT_MODEL, ModelEntry, find_entry, load_entry, shipped_models

MODEL_KEY = "model_key"
GONE_KEY = "model_gone"  # the chosen model's key after it was deleted


@dataclass(frozen=True)
class ActiveModel:
    """What pages need about the active model; `checkpoint.model` is shared and read-only."""

    entry: ModelEntry
    checkpoint: Checkpoint
    identity: str  # of the checkpoint's files (model_registry.checkpoint_identity)

    @property
    def model(self):
        return self.checkpoint.model

    @property
    def latent_dim(self) -> int:
        return self.checkpoint.model_config.latent_dim

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return self.checkpoint.model_config.image_shape

    @property
    def is_variational(self) -> bool:
        """A VAE; else a plain autoencoder: one code per image, no posterior spread, no prior,
        no KL."""
        return self.checkpoint.model.is_variational

    @property
    def input_style(self) -> str:
        data = self.checkpoint.data_config
        return input_style(data.name) if data is not None else "plain"

    @property
    def version(self) -> str:
        """Changes whenever a different model, a newer checkpoint of it, or the same checkpoint
        rewritten in place is active: the key of every cached decode."""
        return f"{self.entry.key}@{self.identity}"


def active_key() -> str:
    key = st.session_state.get(MODEL_KEY)
    if key and find_entry(key) is not None:
        st.session_state.pop(GONE_KEY, None)
        return key
    if key:  # chosen, then deleted (by another session, or on disk): say so, don't hide it
        st.session_state[GONE_KEY] = key
    shipped = shipped_models()
    return shipped[0].key if shipped else DEFAULT_MODEL


def gone_model() -> str | None:
    """The key of the model this session chose that is not there now (the default stands in;
    the choice holds, should it come back), until another is chosen."""
    return st.session_state.get(GONE_KEY)


def set_active(key: str) -> None:
    st.session_state[MODEL_KEY] = key
    st.session_state.pop(GONE_KEY, None)


def active_model() -> ActiveModel | None:
    """The active model, or None (with an error on the page) when none can be loaded."""
    entry = find_entry(active_key())
    if entry is None:
        st.error("No model is available. Train one on the Train page, or restore `assets/`.")
        return None
    try:
        return ActiveModel(entry, *load_entry(entry))
    except (ValueError, OSError) as error:  # CheckpointError, ModelImportError, OnnxFileError
        st.error(f"Could not load {entry.label}: {error}. Pick another model in the sidebar.")
        return None


def model_page(title: str) -> tuple[ActiveModel, ImageDataset | None] | None:
    """How every page about the active model starts: its title, the model and the model's data
    set; None (the reason shown on the page) when no model loads."""
    st.title(title)
    active = active_model()
    return None if active is None else (active, active_dataset(active))


@st.cache_resource(max_entries=4, show_spinner="Loading the dataset...")
def _dataset(config_json: str, _config) -> ImageDataset:
    return load_dataset(_config)


def active_dataset(active: ActiveModel) -> ImageDataset | None:
    """The model's own dataset (cached per process), or None with a warning when unavailable."""
    config = active.checkpoint.example_data()
    if active.checkpoint.data_config is None:
        st.info("This imported model names no data set, so pages that need test examples are "
                "limited. Import it with `--dataset` (a built-in set, or a folder or zip of "
                "images) to give it one.")
        return None
    if config is None:
        name = active.checkpoint.data_config.name
        st.info(f"This uploaded model was trained on files of its own (data set '{name}'). "
                "Files an upload names are never read on this server, so pages that need test "
                "examples are limited.")
        return None
    try:
        return _dataset(repr(config), config)
    except (DatasetError, ValueError, OSError) as error:
        st.warning(f"The data this model was trained on ({config.name}) is not available here: "
                   f"{error}. Pages that need data examples are limited.")
        return None


@st.cache_data(max_entries=16, show_spinner=False)
def _measured_kl_per_dim(version: str, _active: ActiveModel, _data: ImageDataset) -> np.ndarray:
    return latent.kl_per_dim(_active.model, _data.test_x[:1000])


def kl_per_dim(active: ActiveModel, data: ImageDataset | None) -> np.ndarray | None:
    """Average KL per latent dimension on the test set (nats); None for a plain autoencoder
    (it has no KL) and without data unless the checkpoint recorded it.

    Exported models record it in their card (checked when loaded: one finite number per
    dimension), which spares the first page run an encoding of the test set; otherwise it is
    computed once per model version."""
    if not active.is_variational or isinstance(active.model, PrincipalView):
        return None  # a view's coordinates are ordered by their share of variance already
    recorded = active.checkpoint.metadata.get("kl_per_dim")
    if recorded is not None:
        return np.asarray(recorded, dtype=np.float64)
    if data is None:
        return None
    return _measured_kl_per_dim(active.version, active, data)


@st.cache_resource(max_entries=4, show_spinner="Finding the latent space's principal directions...")
def _principal_view(version: str, _model, _images) -> PrincipalView:
    return principal_view(_model, _images)


def explored_model(active: ActiveModel, data: ImageDataset | None) -> ActiveModel:
    """What Explore's sliders move: the active model, or for a latent too large for a slider a
    dimension, its view through the data's principal directions (vae_core.principal) as a
    model of its own (its own version, so no cache mixes the two)."""
    if not needs_view(active.latent_dim):
        return active
    # The training images: more of them than test images (a small folder has a dozen).
    view = _principal_view(active.version, active.model, None if data is None else data.train_x)
    checkpoint = dataclasses.replace(active.checkpoint, model=view, model_config=view.config,
                                     metadata={})
    return dataclasses.replace(active, checkpoint=checkpoint,
                               identity=f"{active.identity}/view{view.latent_dim}")
