"""What the Disentanglement page shows: a model's scores, the heat map, and the shipped beta sweep.

A shipped model carries its report in its metadata (written by export); any other model of a
data set with known factors is scored here once per model version (DCI's predictors take ~10 s).
The sweep lives in assets/shapes-sweep/beta-N: one folder down, so the sidebar's model list
(assets/* only) stays short.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from vae_core.active_units import ACTIVE_UNIT_VARIANCE
from vae_core.checkpoint import CheckpointError
from vae_core.data import ImageDataset
from vae_core.disentanglement_report import (
    DisentanglementReport,
    disentanglement_report,
    report_from_dict,
)

from .active_model import ActiveModel
from .model_registry import ModelEntry, assets_dir, load_entry

SWEEP_DIR = "shapes-sweep"


def stored_report(active: ActiveModel) -> DisentanglementReport | None:
    """The report export stored with the model (already checked on load), if any."""
    stored = active.checkpoint.metadata.get("disentanglement")
    return report_from_dict(stored, active.latent_dim) if stored else None


@st.cache_data(max_entries=8, show_spinner="Scoring the model on the test set's known "
               "factors (fitting DCI's predictors takes about 10 seconds)...")
def _computed_report(version: str, _active: ActiveModel, _data: ImageDataset):
    return disentanglement_report(_active.model, _data)


def model_report(active: ActiveModel, data: ImageDataset) -> DisentanglementReport:
    """The stored report, else one computed for this model version (cached per process)."""
    return stored_report(active) or _computed_report(active.version, active, data)


def heat_map(report: DisentanglementReport) -> go.Figure:
    """Factors (rows) x latent dimensions (columns) of I(z_j; v_k) / H(v_k), 0 to 1."""
    values = report.normalized_mutual_information()
    variance = report.posterior_mean_variance
    # Binning is scale-free: an inactive dimension's tiny wobble still fills 20 bins, so say
    # which columns the decoder cannot read.
    dims = [f"z{j}" if v > ACTIVE_UNIT_VARIANCE else f"z{j} (inactive)"
            for j, v in enumerate(variance)]
    figure = go.Figure(go.Heatmap(
        z=values, x=dims, y=report.factor_names, zmin=0.0, zmax=1.0, colorscale="Blues",
        text=np.round(values, 2), texttemplate="%{text}",
        colorbar=dict(title="I / H"),
        hovertemplate="%{y} in %{x}: %{z:.2f} of its entropy<extra></extra>",
    ))
    figure.update_layout(height=90 + 44 * len(report.factor_names),
                         margin=dict(l=10, r=10, t=10, b=10))
    figure.update_yaxes(autorange="reversed")  # the first factor on top, as in the table
    return figure


def factor_table(report: DisentanglementReport) -> dict[str, list]:
    """Per factor: which dimension holds most of it, the MIG gap, and its predictability."""
    best = np.argmax(report.normalized_mutual_information(), axis=1)
    return {
        "factor": report.factor_names,
        "top z": [f"z{j}" for j in best],
        "MIG gap": [round(v, 3) for v in report.mig_per_factor],
        "informativeness": [round(v, 3) for v in report.informativeness_per_factor],
    }


@dataclass(frozen=True)
class SweepMember:
    beta: float
    active: ActiveModel
    report: DisentanglementReport


def sweep_members() -> tuple[list[SweepMember], list[str]]:
    """The shipped sweep, by beta; and a message per folder that could not be used."""
    members, problems = [], []
    for folder in sorted((assets_dir() / SWEEP_DIR).glob("*")):
        if not folder.is_dir():
            continue
        try:
            members.append(_member(folder))
        except (CheckpointError, OSError, ValueError) as error:
            problems.append(f"{folder.name}: {error}")
    return sorted(members, key=lambda m: m.beta), problems


def _member(folder: Path) -> SweepMember:
    entry = ModelEntry(f"asset:{SWEEP_DIR}/{folder.name}", folder.name, folder)
    active = ActiveModel(entry, *load_entry(entry))
    report = stored_report(active)
    if report is None or active.checkpoint.train_config is None:
        raise ValueError("no stored scores; export it with `python -m vae_core export`")
    return SweepMember(active.checkpoint.train_config.beta, active, report)


def epochs(active: ActiveModel) -> tuple[int | None, int | None]:
    """(the epochs it was set to train, the epoch its weights come from: the best on
    validation), as its checkpoint records them; None where it does not (an imported model)."""
    train = active.checkpoint.train_config
    return (train.epochs if train else None), active.checkpoint.metadata.get("epoch")


def training_length(active: ActiveModel) -> str | None:
    """'Trained 30 epochs; the weights are epoch 27's, the best on validation.'"""
    planned, kept = epochs(active)
    if planned is None:
        return None
    if kept in (None, planned):
        return f"Trained {planned} epochs."
    return f"Trained {planned} epochs; the weights are epoch {kept}'s, the best on validation."


def sweep_table(members: list[SweepMember]) -> dict[str, list]:
    """One row per beta: the scores and the test -ELBO (nats/image) side by side."""
    def test(member, key):
        return round(member.active.checkpoint.metadata.get("test", {}).get(key, float("nan")), 2)

    return {
        "beta": [m.beta for m in members],
        "epochs": [epochs(m.active)[0] for m in members],
        "weights of epoch": [epochs(m.active)[1] for m in members],
        "MIG": [round(m.report.mig, 3) for m in members],
        "DCI disentanglement": [round(m.report.dci_disentanglement, 3) for m in members],
        "DCI completeness": [round(m.report.dci_completeness, 3) for m in members],
        "DCI informativeness": [round(m.report.dci_informativeness, 3) for m in members],
        "active units": [f"{m.report.active_units} of {m.active.latent_dim}" for m in members],
        "shape probe": [f"{m.report.probe_accuracy.get('shape', float('nan')):.1%}"
                        for m in members],
        "test -ELBO": [test(m, "neg_elbo") for m in members],
        "test KL": [test(m, "kl") for m in members],
    }


def traversal_dims(report: DisentanglementReport, limit: int = 5) -> list[tuple[int, str]]:
    """The active dimensions, most varied first, each named by the factor it holds most of."""
    variance = np.asarray(report.posterior_mean_variance)
    normalized = report.normalized_mutual_information()
    order = [int(j) for j in np.argsort(-variance) if variance[j] > ACTIVE_UNIT_VARIANCE][:limit]
    return [(j, report.factor_names[int(np.argmax(normalized[:, j]))]) for j in order]
