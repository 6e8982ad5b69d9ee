"""The sidebar every page shares: which model is active, its card, and a checkpoint upload."""

from __future__ import annotations

import streamlit as st

from vae_core.checkpoint import CheckpointError

from .active_model import ActiveModel, active_key, set_active
from .model_registry import find_entry, run_models, save_upload, shipped_models

UPLOADS_KEY = "uploaded_model_keys"


def _choices() -> list:
    uploads = [find_entry(k) for k in st.session_state.get(UPLOADS_KEY, [])]
    return shipped_models() + run_models() + [u for u in uploads if u is not None]


def render_model_picker() -> None:
    entries = _choices()
    if not entries:
        return
    keys = [e.key for e in entries]
    labels = {e.key: e.label for e in entries}
    current = active_key()
    index = keys.index(current) if current in keys else 0
    chosen = st.sidebar.selectbox("Model", keys, index=index, format_func=labels.get,
                                  key="model_picker")
    if chosen != current:
        set_active(chosen)


def _figure(value: float | None, negate: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{-value if negate else value:.1f}"


def render_model_card(active: ActiveModel | None) -> None:
    if active is None:
        return
    config, data = active.checkpoint.model_config, active.checkpoint.data_config
    test = active.checkpoint.metadata.get("test", {})
    st.sidebar.markdown(
        f"**{data.name}** · {config.arch} · latent {config.latent_dim} · {config.likelihood}  \n"
        f"test -ELBO **{_figure(test.get('neg_elbo'))}** · "
        f"-log p(x) **{_figure(test.get('log_px'), negate=True)}** nats/image"
    )


def render_checkpoint_upload() -> None:
    with st.sidebar.expander("Upload a checkpoint"):
        files = st.file_uploader(
            "model.safetensors and config.json", type=["safetensors", "json"],
            accept_multiple_files=True, key="checkpoint_upload",
        )
        if not files:
            return
        by_suffix = {f.name.rsplit(".", 1)[-1].lower(): f for f in files}
        if set(by_suffix) != {"safetensors", "json"}:
            st.error("Upload both files of a checkpoint: one .safetensors and its config.json.")
            return
        try:
            key = save_upload(by_suffix["safetensors"].getvalue(), by_suffix["json"].getvalue())
        except CheckpointError as error:
            st.error(f"That checkpoint cannot be used: {error}")
            return
        uploads = st.session_state.setdefault(UPLOADS_KEY, [])
        if key not in uploads:
            uploads.append(key)
            set_active(key)
            st.rerun()
        st.success("Checkpoint loaded: pick it in the Model box above.")


def choose_model(key: str) -> None:
    """Make `key` the active model from a button's on_click callback ("Use this model").
    Callbacks run before the picker is drawn, so its value can be moved to `key` too; dropping
    it instead lets the browser send its old choice back on the next rerun."""
    set_active(key)
    st.session_state["model_picker"] = key
