"""The sidebar every page shares: which model is active, its card, and a checkpoint upload."""

from __future__ import annotations

import streamlit as st

from vae_core.checkpoint import CheckpointError
from vae_core.discretization import bits_per_dim
from vae_core.runs import run_info

from .active_model import ActiveModel, active_key, active_model, gone_model, set_active
from .deployment import CHECKPOINT_UPLOAD, allowed
from .model_registry import find_entry, run_models, save_upload, shipped_models

UPLOADS_KEY = "uploaded_model_keys"  # this session's uploaded checkpoints, by model key
UPLOADED_FILES_KEY = "checkpoint_upload_done"  # file ids already handled: validate once
PICKER_KEY = "model_picker"


def render_sidebar() -> ActiveModel | None:
    """Picker, card and upload; returns the active model (None when none loads)."""
    st.sidebar.title("Latent Lab")
    picker_area, card_area = st.sidebar.container(), st.sidebar.container()
    # The upload is handled first, in the run it arrives: it may switch the model, and the
    # picker's value can only be moved before the picker is drawn.
    if allowed(CHECKPOINT_UPLOAD):
        render_checkpoint_upload()
    with picker_area:
        render_model_picker()
    active = active_model()
    with card_area:
        render_model_card(active)
        _gone_notice(active)
    return active


def _gone_notice(active: ActiveModel | None) -> None:
    gone = gone_model()
    if gone is not None and active is not None:
        kind, name = gone.split(":", 1)
        st.warning(f"The {kind} {name} you were using is no longer here (it was deleted); "
                   f"showing {active.entry.label} instead.")


def choose_model(key: str) -> None:
    """Make `key` active and move the picker to it. Call it before the picker is drawn (from a
    callback or the upload handler); leaving the picker's old value would let the browser send
    its old choice back on the next rerun."""
    set_active(key)
    st.session_state[PICKER_KEY] = key


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
    if st.session_state.get(PICKER_KEY) not in keys:
        st.session_state[PICKER_KEY] = current if current in keys else keys[0]
    chosen = st.selectbox("Model", keys, format_func=labels.get, key=PICKER_KEY)
    if chosen != current:
        set_active(chosen)


def _figure(value: float | None, negate: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{-value if negate else value:.1f}"


def _bits_per_dim(test: dict) -> str:
    """' (1.23 bits/dim)' of -log p(x) when the figures say their pixel count (newer models)."""
    if test.get("log_px") is None or not test.get("n_dims"):
        return ""
    return f" ({bits_per_dim(-test['log_px'], test['n_dims']):.3f} bits/dim)"


def render_model_card(active: ActiveModel | None) -> None:
    if active is None:
        return
    config, data = active.checkpoint.model_config, active.checkpoint.data_config
    test = active.checkpoint.metadata.get("test", {})
    shape = f"**{data.name}** · {config.arch} · latent {config.latent_dim} · {config.likelihood}"
    if active.is_autoencoder:
        st.markdown(f"{shape} · **plain autoencoder**  \n"
                    f"test reconstruction **{_figure(test.get('recon'))}** nats/image")
        st.caption("-ELBO, KL and log p(x) do not apply: it has no prior.")
        if test.get("data"):
            st.caption(f"On the {test['data']} test images ({test.get('n_images')}).")
    else:
        st.markdown(f"{shape}  \n"
                    f"test -ELBO **{_figure(test.get('neg_elbo'))}** · "
                    f"-log p(x) **{_figure(test.get('log_px'), negate=True)}** nats/image"
                    f"{_bits_per_dim(test)}")
        if test.get("data"):
            st.caption(f"On the {test['data']} test images ({test.get('n_images')}); "
                       f"log p(x) by importance sampling, k = {test.get('iw_samples')}.")
    if active.entry.key.startswith("run:"):
        st.caption(checkpoint_in_use(active))


def checkpoint_in_use(active: ActiveModel) -> str:
    """'Epoch 3 of 10; the run is still training: the next epochs replace it as they finish.'"""
    epoch = active.checkpoint.metadata.get("epoch")
    info = run_info(active.entry.path)
    text = f"Epoch {epoch} of {info.epochs}" if info.epochs else f"Epoch {epoch}"
    if info.live:
        return f"{text}; the run is still training: the next epochs replace it as they finish."
    return f"{text}, the run's latest checkpoint."


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
        file_ids = tuple(sorted(f.file_id for f in files))
        if st.session_state.get(UPLOADED_FILES_KEY, (None, None))[0] != file_ids:
            _accept_upload(by_suffix["safetensors"].getvalue(), by_suffix["json"].getvalue(),
                           file_ids)
        outcome = st.session_state[UPLOADED_FILES_KEY][1]
        if not outcome.startswith("upload:"):
            st.error(outcome)
        # The picker's new value is in its state before it is drawn (below this expander).
        elif outcome == st.session_state.get(PICKER_KEY, active_key()):
            st.success("Checkpoint loaded and active; it is in the Model box above.")
        else:
            st.info("Checkpoint loaded; pick it in the Model box above to use it again.")


def _accept_upload(weights: bytes, config_json: bytes, file_ids: tuple) -> None:
    """Validate once per pair of files; remember the model key or the error to show."""
    try:
        key = save_upload(weights, config_json)
    except CheckpointError as error:
        outcome = f"That checkpoint cannot be used: {error}"
    else:
        uploads = st.session_state.setdefault(UPLOADS_KEY, [])
        if key not in uploads:
            uploads.append(key)
        choose_model(key)
        outcome = key
    st.session_state[UPLOADED_FILES_KEY] = (file_ids, outcome)
