"""The sidebar every page shares: which model is active, its card, and a checkpoint upload."""

from __future__ import annotations

import streamlit as st

from vae_core.active_units import count_active
from vae_core.checkpoint import CheckpointError
from vae_core.discretization import bits_per_dim
from vae_core.imported import CARD_FILE, ModelImportError, OnnxFileError
from vae_core.model_kinds import names_likelihood
from vae_core.runs import run_info

from .active_model import ActiveModel, active_key, active_model, gone_model, set_active
from .deployment import CHECKPOINT_UPLOAD, allowed
from .model_registry import (
    find_entry,
    listed_models,
    run_models,
    save_imported_upload,
    save_upload,
    shipped_models,
)
from .page_guard import guarded

UPLOADS_KEY = "uploaded_model_keys"  # this session's uploaded checkpoints, by model key
UPLOAD_OUTCOME_KEY = "checkpoint_upload_outcome"  # the last upload's model key or its error
UPLOAD_TOAST_KEY = "checkpoint_upload_toast"  # the outcome is new: toast it once
UPLOADER_GENERATION_KEY = "checkpoint_uploader_generation"
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
    return (shipped_models() + listed_models() + run_models()
            + [u for u in uploads if u is not None])


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


def _importance_sampling(test: dict) -> str:
    """'; log p(x) by importance sampling, k = 1000', or nothing for a card without that figure
    (k = 0 would read as a sample count of zero)."""
    samples = test.get("iw_samples")
    return f"; log p(x) by importance sampling, k = {samples}" if samples else ""


def active_units_text(metadata: dict, latent_dim: int) -> str:
    """'active units 3 of 8': dimensions whose posterior mean varies over the test images by
    more than 0.01 (Burda et al. 2016), as training and export record it."""
    variance = metadata.get("posterior_mean_variance")
    if variance is None:
        return "active units: not recorded (a checkpoint from before they were)"
    return f"active units **{count_active(variance)} of {latent_dim}**"


def render_model_card(active: ActiveModel | None) -> None:
    if active is None:
        return
    config, data = active.checkpoint.model_config, active.checkpoint.data_config
    test = active.checkpoint.metadata.get("test", {})
    data_name = data.name if data is not None else "no data set"
    shape = f"**{data_name}** · {config.arch} · latent {config.latent_dim} · {config.likelihood}"
    if not names_likelihood(config.likelihood):
        st.markdown(shape if active.is_variational else f"{shape} · **plain autoencoder**")
        st.caption("Its decoder gives a mean image and names no likelihood p(x|z): no -ELBO or "
                   "log p(x).")
    elif not active.is_variational:
        st.markdown(f"{shape} · **plain autoencoder**  \n"
                    f"test reconstruction **{_figure(test.get('recon'))}** nats/image")
        st.caption("-ELBO, KL and log p(x) do not apply: it has no prior.")
        if test.get("data"):
            st.caption(f"On the {test['data']} test images ({test.get('n_images')}).")
    else:
        st.markdown(f"{shape}  \n"
                    f"test -ELBO **{_figure(test.get('neg_elbo'))}** · "
                    f"-log p(x) **{_figure(test.get('log_px'), negate=True)}** nats/image"
                    f"{_bits_per_dim(test)}  \n"
                    f"{active_units_text(active.checkpoint.metadata, config.latent_dim)}")
        if test.get("data"):
            st.caption(f"On the {test['data']} test images ({test.get('n_images')})"
                       f"{_importance_sampling(test)}.")
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


def uploader_key() -> str:
    """The checkpoint uploader's key: a new key is a new, empty widget, the only way Streamlit
    clears an uploader, so a loaded pair does not stay listed under the next upload."""
    return f"checkpoint_upload_{st.session_state.get(UPLOADER_GENERATION_KEY, 0)}"


def render_checkpoint_upload() -> None:
    with st.sidebar.expander("Upload a checkpoint"):
        st.file_uploader(
            "model.safetensors and config.json, or an imported model's model.json, "
            "encoder.onnx and decoder.onnx", type=["safetensors", "json", "onnx"],
            accept_multiple_files=True, key=uploader_key(), on_change=_on_upload,
        )
        outcome = st.session_state.get(UPLOAD_OUTCOME_KEY)
        if not outcome:
            return
        show, text, icon = _outcome_message(outcome)
        show(text)
    # The uploader may be below the fold (at 1280x800 it is): a toast is seen wherever one looks.
    if st.session_state.pop(UPLOAD_TOAST_KEY, False):
        st.toast(text, icon=icon)


def _outcome_message(outcome: str) -> tuple:
    """(how to show it, the words, a toast icon) for the last upload's model key or error."""
    if not outcome.startswith("upload:"):
        return st.error, outcome, ":material/error:"
    # The picker's new value is in its state before it is drawn (below this expander).
    if outcome == st.session_state.get(PICKER_KEY, active_key()):
        return (st.success, f"Checkpoint loaded and active: {_upload_label(outcome)}.",
                ":material/check_circle:")
    return (st.info, f"Loaded {_upload_label(outcome)}; pick it in the Model box above to use it "
            "again.", ":material/info:")


PAIR_NEEDED = ("Upload both files of a checkpoint: one .safetensors and its config.json; or "
               f"the three files of an imported model: {CARD_FILE}, encoder.onnx and "
               "decoder.onnx.")


def _save_files(files: list) -> str | None:
    """The uploaded files as a checkpoint or an imported model: the model's key, or None when
    the files are neither set."""
    by_suffix = {f.name.rsplit(".", 1)[-1].lower(): f for f in files}
    if set(by_suffix) == {"safetensors", "json"} and len(files) == 2:
        return save_upload(by_suffix["safetensors"].getvalue(), by_suffix["json"].getvalue())
    graphs = {role: [f for f in files if f.name.lower().endswith(".onnx")
                     and role in f.name.lower()] for role in ("encoder", "decoder")}
    if "json" in by_suffix and len(files) == 3 and all(len(g) == 1 for g in graphs.values()):
        return save_imported_upload(by_suffix["json"].getvalue(),
                                    graphs["encoder"][0].getvalue(),
                                    graphs["decoder"][0].getvalue())
    return None


def _upload_label(key: str) -> str:
    entry = find_entry(key)
    return entry.label if entry is not None else "the checkpoint"


@guarded("the sidebar's upload")
def _on_upload() -> None:
    """Validate the files as they arrive (a callback runs before the picker is drawn, so a
    good checkpoint can become the active model in this same run)."""
    files = st.session_state.get(uploader_key()) or []
    if not files:
        st.session_state[UPLOAD_OUTCOME_KEY] = None
        return
    st.session_state[UPLOAD_TOAST_KEY] = True
    try:
        key = _save_files(files)
    except (CheckpointError, ModelImportError, OnnxFileError) as error:
        st.session_state[UPLOAD_OUTCOME_KEY] = f"That model cannot be used: {error}"
        return
    if key is None:
        st.session_state[UPLOAD_OUTCOME_KEY] = PAIR_NEEDED
        return
    uploads = st.session_state.setdefault(UPLOADS_KEY, [])
    if key not in uploads:
        uploads.append(key)
    choose_model(key)
    st.session_state[UPLOAD_OUTCOME_KEY] = key
    generation = st.session_state.get(UPLOADER_GENERATION_KEY, 0)
    st.session_state[UPLOADER_GENERATION_KEY] = generation + 1
