"""The Train page's presets (vae_core.recipes): a choice above the form, each with the nats and
time it was measured at here, that fills the form with its recipe."""

from __future__ import annotations

import streamlit as st

from vae_core.recipes import DEFAULT_PRESET, PRESETS, Measurement, Preset, measurements

from .page_guard import guarded

PRESET_KEY = "train_preset"


def chosen_preset() -> Preset:
    return PRESETS[st.session_state.get(PRESET_KEY, DEFAULT_PRESET)]


def form_values(preset: Preset) -> dict:
    """The Train form's widget keys and the values the preset gives them."""
    model, train = preset.config.model, preset.config.train
    return {
        "train_kind": model.kind, "train_arch": model.arch,
        "train_hidden": ",".join(map(str, model.hidden)), "train_dense": model.dense,
        "train_latent": model.latent_dim, "train_likelihood": model.likelihood,
        "train_beta": train.beta, "train_objective": train.objective,
        "train_warmup": train.warmup_epochs,
        "train_free_bits": train.free_bits, "train_epochs": train.epochs,
        "train_batch": train.batch_size, "train_lr": train.lr,
        "train_patience": train.patience, "train_shift": train.augment_shift,
    }


@guarded("the Train page")
def _fill_form() -> None:
    """On a new choice: the form shows the preset's recipe (its fields' earlier edits go)."""
    st.session_state.update(form_values(chosen_preset()))


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min"


def _label(name: str, measured: dict[str, Measurement]) -> str:
    figure = measured.get(name)
    if figure is None:
        return f"{name}: not measured yet ({PRESETS[name].what})"
    return (f"{name}: {figure.neg_log_px:.1f} nats in {_duration(figure.seconds)} "
            f"({PRESETS[name].what})")


def preset_field() -> None:
    """The choice, one line (the form's button stays on screen at 1280x800): each preset's
    measured figures in its label, how they were taken in the help."""
    measured = measurements()
    figure = next(iter(measured.values()), None)
    st.selectbox("Preset", list(PRESETS), key=PRESET_KEY,
                 format_func=lambda name: _label(name, measured), on_change=_fill_form,
                 index=list(PRESETS).index(DEFAULT_PRESET),
                 help=_basis(figure) if figure else "Choosing a preset fills the form.")


def _basis(figure: Measurement) -> str:
    """What the figures are and how the times were taken."""
    time = ("on one free core, as a Train-page run trains (LATENT_LAB_TRAIN_THREADS=1): the "
            "run's CPU time, since the machine was shared" if figure.threads == 1 else
            f"by the wall clock with {figure.threads} threads")
    return (f"Measured on mnist5k here: IWAE -log p(x) (k = {figure.iw_samples}) of its 1,000 "
            "test images in nats per binarized image (lower is better), and the whole run's "
            f"time (loading, training, each epoch's validation and checkpoint) {time} "
            f"({figure.date}, benchmarks/train_presets.py). Other data sets take other times: "
            "the estimate below is for the form as it is. Choosing a preset fills the form.")
