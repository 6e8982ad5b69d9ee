"""Figures for the Train page: loss curves from a run's metrics, and checkpoint previews.

loss_curves is pure (records in, Plotly figure out). checkpoint_previews loads a checkpoint
and returns PIL images; the page caches it by latest_checkpoint's (path, identity) key.
"""

from __future__ import annotations

import functools
from pathlib import Path

import plotly.graph_objects as go
import torch
from PIL import Image
from plotly.subplots import make_subplots

from vae_core.checkpoint import CheckpointError, load_checkpoint, resolve_checkpoint_dir
from vae_core.config import DataConfig
from vae_core.data import DatasetError, load_dataset
from vae_core.images import make_grid

from .model_registry import checkpoint_identity

TERMS = (("neg_elbo", "-ELBO"), ("kl", "KL"), ("recon", "reconstruction"))
MAX_STEP_POINTS = 1500  # enough for a smooth line; more only slows the browser
TILE_PIXELS = 56  # each preview tile is upscaled (nearest) to about this size


def loss_curves(records: list[dict]) -> go.Figure:
    """-ELBO, KL and reconstruction (nats per image) against epochs: the training batches'
    values per logged step, the training average per epoch, the test set per epoch and, when
    the run holds one out, the validation -ELBO."""
    steps = [r for r in records if r.get("kind") == "step"]
    steps = steps[:: max(1, len(steps) // MAX_STEP_POINTS)]
    epochs = [r for r in records if r.get("kind") == "epoch"]
    terms = _logged_terms(steps)
    figure = make_subplots(rows=1, cols=len(terms), subplot_titles=[title for _, title in terms],
                           horizontal_spacing=0.08)
    step_x = [r["epoch"] - 1 + r.get("epoch_progress", 1.0) for r in steps]
    epoch_x = [r["epoch"] for r in epochs]
    for col, (key, _) in enumerate(terms, start=1):
        first = col == 1
        figure.add_scatter(x=step_x, y=[r[key] for r in steps], name="train (batches)",
                           mode="lines", line={"color": "#9ecae1", "width": 1},
                           legendgroup="steps", showlegend=first, row=1, col=col)
        figure.add_scatter(x=epoch_x, y=[r[f"train_{key}"] for r in epochs],
                           name="train (epoch)", mode="lines+markers",
                           line={"color": "#1f77b4"}, legendgroup="train", showlegend=first,
                           row=1, col=col)
        figure.add_scatter(x=epoch_x, y=[r[f"test_{key}"] for r in epochs], name="test",
                           mode="lines+markers", line={"color": "#d62728"},
                           legendgroup="test", showlegend=first, row=1, col=col)
    validation = [r for r in epochs if r.get("val_neg_elbo") is not None]
    if validation:  # runs that hold a validation split out: what early stopping watches
        figure.add_scatter(x=[r["epoch"] for r in validation],
                           y=[r["val_neg_elbo"] for r in validation], name="validation",
                           mode="lines+markers", line={"color": "#2ca02c", "dash": "dot"},
                           row=1, col=1)
    figure.update_xaxes(title_text="epoch")
    figure.update_yaxes(title_text="nats per image", row=1, col=1)
    figure.update_layout(height=300, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                         legend={"orientation": "h", "y": -0.3})
    return figure


def _logged_terms(steps: list[dict]) -> tuple[tuple[str, str], ...]:
    """The terms the run logs: a plain autoencoder's have no -ELBO or KL (they are null)."""
    if steps and all(r.get("kl") is None for r in steps):
        return (("recon", "reconstruction (plain autoencoder: no KL, no -ELBO)"),)
    return TERMS


def latest_checkpoint(run_dir: Path) -> tuple[str, str] | None:
    """(directory, identity) of a run's latest checkpoint: a cache key that changes whenever a
    new epoch is saved or the run is re-created under its name; None when there is none (yet)."""
    try:
        directory = resolve_checkpoint_dir(run_dir)
        return str(directory), checkpoint_identity(directory)
    except (CheckpointError, OSError):
        return None


@functools.lru_cache(maxsize=4)
def _examples(data_config: DataConfig, n: int) -> torch.Tensor:
    """The first n test images of a dataset, (n, C, H, W); read-only, shared."""
    return load_dataset(data_config).test_x[:n].clone()


@torch.no_grad()
def checkpoint_previews(
    checkpoint_dir: Path, n_originals: int = 8, n_samples: int = 16, seed: int = 0
) -> tuple[Image.Image, Image.Image | None, str]:
    """(samples, reconstructions, model kind) of a checkpoint, the images as PIL grids;
    reconstructions are None when the run's data cannot be loaded here.

    Samples: decoder means at z ~ N(0, I). Reconstructions: a row of test images above the
    decoder means at their posterior means.
    """
    checkpoint = load_checkpoint(checkpoint_dir)
    model = checkpoint.model
    scale = max(1, TILE_PIXELS // checkpoint.model_config.image_shape[-1])
    generator = torch.Generator().manual_seed(seed)
    samples = model.decode(model.sample_prior(n_samples, generator)).mean
    sample_grid = make_grid(samples, ncols=n_samples // 2, scale=scale)
    kind = checkpoint.model_config.kind
    try:
        originals = _examples(checkpoint.data_config, n_originals)
    except (DatasetError, OSError):
        return sample_grid, None, kind
    recon = model.decode(model.encode(originals).mode()).mean
    return sample_grid, make_grid(torch.cat([originals, recon]), ncols=len(originals),
                                  scale=scale), kind
