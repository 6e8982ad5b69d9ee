"""Optional TensorBoard logging (`--tensorboard`): event files in the run directory, beside
metrics.jsonl, with the same loss terms and a grid of prior samples per epoch.

metrics.jsonl stays the record the app reads; TensorBoard is for people who already use it
(`tensorboard --logdir runs/`). The `tensorboard` package is optional: asking for it without the
package installed fails the run before it starts, with the command that installs it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from .config import ConfigError
from .images import make_grid

SAMPLE_SEED = 0  # the same prior draws every epoch, so the grids show the model change


class TensorBoardTracker:
    def __init__(self, writer) -> None:
        self.writer = writer

    def step(self, step: int, values: dict[str, float], kl_weight: float) -> None:
        for key, value in values.items():
            self.writer.add_scalar(f"train/{key}", value, step)
        self.writer.add_scalar("train/kl_weight", kl_weight, step)

    @torch.no_grad()
    def epoch(self, epoch: int, record: dict[str, Any], model) -> None:
        for key in ("train_neg_elbo", "test_neg_elbo", "test_kl", "test_recon", "test_log_px"):
            if record.get(key) is not None:
                self.writer.add_scalar(f"epoch/{key}", record[key], epoch)
        generator = torch.Generator(device=next(model.parameters()).device)
        z = model.sample_prior(64, generator.manual_seed(SAMPLE_SEED))
        grid = make_grid(model.decode(z).mean, ncols=8, scale=2)
        self.writer.add_image("samples/prior_mean", np.asarray(grid.convert("RGB")), epoch,
                              dataformats="HWC")
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


def open_tracker(run_dir: Path, is_main: bool = True) -> TensorBoardTracker | None:
    """A writer into run_dir on rank 0 (None on the others); every rank checks the package,
    so a missing one stops all of them at once."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as error:
        raise ConfigError("--tensorboard needs the tensorboard package: "
                          "pip install 'tensorboard>=2.21,<3'") from error
    return TensorBoardTracker(SummaryWriter(log_dir=str(run_dir))) if is_main else None
