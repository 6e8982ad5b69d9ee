"""The Train page's list of runs: a card per run (state, progress, buttons to use, cancel,
resume or delete it) and the selected run's curves and latest samples. It polls the runs
directory (vae_core.runs) every 2 s, so another tab's or another process's runs show too."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from vae_core.checkpoint import CheckpointError
from vae_core.model_kinds import NOT_FOR_AE
from vae_core.runs import (
    RunError,
    RunInfo,
    RunState,
    cancel_run,
    delete_run,
    list_runs,
    max_concurrent_runs,
    read_metrics,
    read_status,
    resume_run,
)

from .active_model import active_key, active_model
from .deployment import TRAINING, allowed
from .model_registry import runs_dir
from .page_guard import guarded
from .sidebar import checkpoint_in_use, choose_model
from .train_datasets import download_progress
from .train_figures import checkpoint_previews, latest_checkpoint, loss_curves

BADGES = {RunState.STARTING: "gray", RunState.RUNNING: "blue", RunState.FINISHED: "green",
          RunState.CANCELLED: "orange", RunState.FAILED: "red", RunState.CRASHED: "red"}
SELECTED_KEY = "train_selected_run"
CONFIRM_KEY = "train_confirm_delete"
ERROR_KEY = "train_action_error"
STARTED_KEY = "train_started_run"  # the run this session just started: announced while it trains


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def _progress_text(info: RunInfo) -> str:
    text = f"epoch {info.epoch}/{info.epochs}"
    if info.live and info.steps_per_epoch:
        text += f" · step {info.step_in_epoch}/{info.steps_per_epoch}"
    if info.eta_seconds is not None:
        text += f" · ~{_duration(info.eta_seconds)} of training left"
    elif info.train_seconds:
        text += f" · trained {_duration(info.train_seconds)}"
    return text


def _progress(info: RunInfo) -> None:
    """The epochs' progress, or a starting run's download of its data set."""
    downloading = download_progress(read_status(info.path) or {}) if info.live else None
    if downloading is not None:
        st.progress(*downloading)
    else:
        st.progress(info.progress, text=_progress_text(info))


@guarded("the Train page")
def _act(action, *args) -> None:
    """Button callback: run a cancel/resume/delete; a refusal is shown above the list.
    (Callbacks run before the rerun, so the list already shows the result.)"""
    st.session_state.pop(CONFIRM_KEY, None)
    if not allowed(TRAINING):  # the buttons are not drawn then; refuse a forged click too
        st.session_state[ERROR_KEY] = "Runs cannot be changed on this shared server."
        return
    try:
        action(*args)
    except (RunError, OSError) as error:
        st.session_state[ERROR_KEY] = str(error)


@guarded("the Train page")
def _ask_delete(name: str) -> None:
    st.session_state[CONFIRM_KEY] = name


@guarded("the Train page")
def _keep_run() -> None:
    st.session_state.pop(CONFIRM_KEY, None)


@guarded("the Train page")
def _use_model(key: str) -> None:
    choose_model(key)


def _confirm_delete(info: RunInfo) -> None:
    st.warning(f"Delete {info.name} and its checkpoints? This cannot be undone.")
    yes, no = st.columns(2)
    yes.button("Yes, delete", key=f"delete-yes-{info.name}", type="primary",
               on_click=_act, args=(delete_run, info.path, runs_dir()))
    no.button("Keep it", key=f"delete-no-{info.name}", on_click=_keep_run)


def _run_buttons(info: RunInfo) -> None:
    """'Use this model' first, so it stays under the pointer while the others come and go
    (Cancel gives way to Resume and Delete when a run stops)."""
    row = st.container(horizontal=True)
    manage = allowed(TRAINING)
    if info.has_checkpoint and row.button("Use this model", key=f"use-{info.name}",
                                          on_click=_use_model, args=(f"run:{info.name}",)):
        st.rerun(scope="app")  # a fragment rerun would leave the sidebar's card behind
    if manage and info.live:
        row.button("Cancel", key=f"cancel-{info.name}", on_click=_act,
                   args=(cancel_run, info.path))
    if manage and info.can_resume:
        row.button("Resume", key=f"resume-{info.name}", on_click=_act,
                   args=(resume_run, info.path))
    if manage and not info.live:
        row.button("Delete", key=f"delete-{info.name}", on_click=_ask_delete,
                   args=(info.name,))
    if st.session_state.get(CONFIRM_KEY) == info.name:
        _confirm_delete(info)


def render_run(info: RunInfo) -> None:
    with st.container(border=True):
        st.markdown(f"**{info.name}** :{BADGES.get(info.state, 'gray')}-badge[{info.state}]"
                    f" · {info.device}")
        st.caption(info.summary)
        for note in info.data_notes:
            st.warning(note, icon=":material/warning:")
        _progress(info)
        if active_key() == f"run:{info.name}" and (active := active_model()) is not None:
            st.caption(f"In use: {checkpoint_in_use(active)}")
        if info.message and info.state in (RunState.FAILED, RunState.CRASHED, RunState.CANCELLED):
            st.caption(info.message)
        _run_buttons(info)


@st.cache_data(max_entries=8, show_spinner=False)
def _previews(checkpoint_dir: str, identity: str):
    return checkpoint_previews(Path(checkpoint_dir))


def render_details(info: RunInfo) -> None:
    """Curves of the selected run, and what its latest checkpoint draws."""
    records = read_metrics(info.path)
    if records:
        st.plotly_chart(loss_curves(records), key=f"curves-{info.name}")
        st.caption("Nats per image of discrete data: binarized images for a Bernoulli "
                   "likelihood, 8-bit images (dequantized, with the 256-level correction) for a "
                   "Gaussian one. The validation -ELBO, on 10% of the training images held "
                   "out, is what early stopping and the kept best epoch go by.")
    else:
        st.caption("No metrics yet: the first ones appear after a few training steps.")
    latest = latest_checkpoint(info.path)
    if latest is None:
        return
    try:
        samples, recon, kind = _previews(*latest)
    except (CheckpointError, OSError):
        st.caption("The checkpoint is being replaced; the preview refreshes in a moment.")
        return
    saved = Path(latest[0]).name  # epoch-NNNN
    note = f" ({NOT_FOR_AE['prior']})" if kind == "ae" else ""
    st.image(samples, caption=f"{saved}: samples, decoder means at z ~ N(0, I){note}",
             output_format="PNG")
    if recon is not None:
        st.image(recon, caption="test images (top row) and their reconstructions (means)",
                 output_format="PNG")


def _limit_note(infos: list[RunInfo]) -> None:
    try:
        limit = max_concurrent_runs()
    except RunError as error:
        st.error(str(error))
        return
    live = sum(info.live for info in infos)
    if live >= limit:
        st.info(f"{live} run(s) training; the limit is {limit} at a time "
                "(LATENT_LAB_MAX_RUNS). A new run can start when it ends or is cancelled.")


def _started_note(infos: list[RunInfo]) -> None:
    """'Started X' stays true only while X trains: drawn by the live list, dropped after."""
    started = st.session_state.get(STARTED_KEY)
    if any(info.name == started and info.live for info in infos):
        st.success(f"Started {started}: it trains in the background (its card is below).")
    else:
        st.session_state.pop(STARTED_KEY, None)


@st.fragment(run_every=2)
@guarded("the Train page's runs")
def render_runs() -> None:
    """Re-run every 2 s by itself (in the browser), so progress and curves stay live."""
    st.subheader("Runs")
    infos = list_runs(runs_dir())
    if not infos:
        st.info("No runs yet: start one with the form.")
        return
    if ERROR_KEY in st.session_state:
        st.error(st.session_state.pop(ERROR_KEY))
    _started_note(infos)
    _limit_note(infos)
    for info in infos:
        render_run(info)
    names = [info.name for info in infos]
    if st.session_state.get(SELECTED_KEY) not in names:
        st.session_state[SELECTED_KEY] = names[0]
    selected = st.selectbox("Curves and samples of", names, key=SELECTED_KEY)
    render_details(infos[names.index(selected)])
