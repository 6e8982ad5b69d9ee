"""Named training recipes, the Train page's presets: quick, good and best, each with what it
was measured at on mnist5k (benchmarks/train_presets.py writes preset_measurements.json beside
this file; the page shows those figures so a person can choose)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from .config import DataConfig, ModelConfig, RunConfig, TrainConfig

MEASUREMENTS_FILE = Path(__file__).with_name("preset_measurements.json")

# Conv decoders learn digits in fewer epochs than MLPs; 32 latent dimensions trained faster than
# 16 with this network; a one-pixel random shift and early stopping on the validation split
# keep 3,600 training images from overfitting (benchmarks/README.md, Training). Adam's fused
# kernel: the same optimizer, faster (an MLP epoch ~13% on a quiet core).
_CONV = ModelConfig(arch="conv", hidden=(32, 64), dense=320, latent_dim=32,
                    likelihood="bernoulli")
_CONV_TRAINING = TrainConfig(epochs=30, batch_size=64, lr=2e-3, warmup_epochs=10, patience=10,
                             augment_shift=1, fused_adam=True)


@dataclass(frozen=True)
class Preset:
    name: str
    what: str  # the recipe in a few words, for the page
    config: RunConfig


PRESETS = {
    # pytorch/examples' VAE (MLP 784-400-20, batch 128, Adam 1e-3) with the fused kernel: in the
    # reference's training time it fits more epochs, and with no validation split it trains on
    # all 4,000 images as the reference does.
    "quick": Preset("quick", "MLP 400, latent 20, 56 epochs", RunConfig(
        data=DataConfig(name="mnist5k", val_fraction=0.0),
        model=ModelConfig(arch="mlp", hidden=(400,), latent_dim=20, likelihood="bernoulli"),
        train=TrainConfig(epochs=56, batch_size=128, lr=1e-3, fused_adam=True))),
    "good": Preset("good", "conv 32-64, latent 32, 30 epochs", RunConfig(
        data=DataConfig(name="mnist5k"), model=_CONV, train=_CONV_TRAINING)),
    # The shipped default model's recipe (assets/mnist32/train.json).
    "best": Preset("best", "conv 32-64, latent 32, 80 epochs", RunConfig(
        data=DataConfig(name="mnist5k"), model=_CONV,
        train=dataclasses.replace(_CONV_TRAINING, epochs=80))),
}
DEFAULT_PRESET = "good"
TRAIN_PAGE_DEFAULT = PRESETS[DEFAULT_PRESET].config  # what the untouched form starts


@dataclass(frozen=True)
class Measurement:
    """One preset trained on mnist5k by benchmarks/train_presets.py, tested on its test split."""

    neg_log_px: float  # IWAE -log p(x), nats per binarized image
    neg_elbo: float
    train_seconds: float  # the training steps only, by the wall clock
    wall_seconds: float  # the whole run: loading, steps, validation, tests, checkpoints
    cpu_seconds: float  # the whole run's CPU time: one thread's is its time on a free core

    @property
    def seconds(self) -> float:
        """How long the run takes on a free machine: a one-thread run's CPU time (the wall
        clock of a shared machine counts other work too), else the wall clock's."""
        return self.cpu_seconds if self.threads == 1 else self.wall_seconds
    threads: int
    load: float  # the machine's 1-minute load average when the run ended
    date: str
    iw_samples: int = 100  # k of the IWAE bound
    train_cpu_seconds: float | None = None  # the training steps' CPU time, where measured


def measurements(path: Path = MEASUREMENTS_FILE) -> dict[str, Measurement]:
    """The presets' recorded figures; none for a preset not yet measured."""
    try:
        recorded = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    found = {}
    for name, values in recorded.items():
        with contextlib.suppress(TypeError):  # a record from an older benchmark is skipped
            if name in PRESETS:
                found[name] = Measurement(**values)
    return found
