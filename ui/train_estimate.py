"""How long a run will take, said before it starts: a few training steps of the form's model on
random images, timed on this server (cached per model, batch and device), times the steps the
recipe asks for. An estimate, and said as one with its basis: evaluation after each epoch,
start-up and other runs sharing the machine are not in it."""

from __future__ import annotations

import time

import streamlit as st
import torch

from vae_core.checkpoint_checks import expected_shapes
from vae_core.config import DOWNLOADED_DATASETS, DataConfig, ModelConfig, TrainConfig
from vae_core.data import load_dataset
from vae_core.data.download import TRAINING_IMAGES
from vae_core.devices import select_device
from vae_core.models import build_model
from vae_core.objectives import loss_terms

STEPS_TIMED = 3  # after one warm-up step
PER_IMAGES = 1000  # an upload's size is known only once it is read: say the time per 1,000


@st.cache_data(max_entries=32, show_spinner="Timing a training step of this model...")
def step_seconds(model: ModelConfig, batch_size: int, device: str) -> float:
    """Seconds per training step (forward, backward, Adam) of `model` on `device`."""
    target = select_device(device)
    net = build_model(model).to(target)
    optimizer = torch.optim.Adam(net.parameters())
    x = torch.rand(batch_size, *model.image_shape, device=target)

    def step() -> None:
        optimizer.zero_grad()
        loss_terms(net, x).loss.mean().backward()
        optimizer.step()

    step()
    _sync(target)
    start = time.perf_counter()
    for _ in range(STEPS_TIMED):
        step()
    _sync(target)
    return (time.perf_counter() - start) / STEPS_TIMED


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@st.cache_data(max_entries=8, show_spinner=False)
def training_images(data: DataConfig) -> int:
    """How many images a built-in data set trains on: its training split less validation. A
    full set's size is known without reading it (it may not be downloaded yet)."""
    downloaded = data.name in DOWNLOADED_DATASETS
    count = TRAINING_IMAGES if downloaded else len(load_dataset(data).train_x)
    return count - round(count * data.val_fraction)


def estimate_text(model: ModelConfig, train: TrainConfig, data: DataConfig | None) -> str:
    """'Estimate: about 2 min for 30 epochs of 57 steps, at 65 ms a step ...' for `model` (its
    image_shape the data's) trained as `train` on a named `data` set, or on an upload (None).
    Raises ConfigError for a model over the size limit, before anything is built."""
    expected_shapes(model)
    seconds = step_seconds(model, train.batch_size, train.device)
    basis = (f"at {seconds * 1000:,.0f} ms a step of batch {train.batch_size}, as timed for "
             f"this model on this server's {select_device(train.device).type.upper()} with "
             "random images; evaluation after each epoch and start-up add to it, and early "
             "stopping may end it sooner")
    if data is None:
        steps = -(-PER_IMAGES // train.batch_size)
        return (f"Estimate: about {_duration(seconds * steps)} an epoch for every "
                f"{PER_IMAGES:,} images in the zip, {train.epochs} epochs, {basis}.")
    steps = -(-training_images(data) // train.batch_size)
    return (f"Estimate: about {_duration(seconds * steps * train.epochs)} for {train.epochs} "
            f"epochs of {steps} steps, {basis}.")


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes / 60:.1f} h"
