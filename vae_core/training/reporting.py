"""What the trainer tells the world, behind one seam: the trainer hands its events to Reporters
(as pythae's trainer hands them to its CallbackHandler), and each listener turns them into one
output.

- StatusFile: status.json, the run's state and progress (at most one write a second).
- MetricsFile: metrics.jsonl, one record per logged step and per finished epoch; the record the
  app reads.
- TensorBoard (`--tensorboard`): the same loss terms, and a grid of prior samples per epoch, for
  people who already use it (`tensorboard --logdir runs/`). The package is optional: asking for it
  without the package fails the run before it starts, with the command that installs it.
- ProgressBar (the CLI without --quiet): a tqdm bar per epoch and a line per finished epoch.

Before the loop, DownloadStatus puts a first download of a full set into status.json.

Under torchrun rank 0 alone reports; the other processes get an empty Reporters.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..config import ConfigError, RunConfig
from ..data.download import Progress
from ..images import make_grid
from ..runs import MetricsLog, RunState, read_status, write_status

if TYPE_CHECKING:
    from .trainer import Trainer

HEARTBEAT_SECONDS = 1.0  # at most one status.json write per second while training
SAMPLE_SEED = 0  # the same prior draws every epoch, so TensorBoard's grids show the model change
_OBJECTIVE_NAMES = {False: "-ELBO", True: "reconstruction"}  # by "is a plain autoencoder"


class Reporter:
    """A listener of the trainer's events; each does nothing unless a listener overrides it.

    values: per-image means of the loss terms since the last report, None where the model has
    no such term; record: the epoch's figures as metrics.jsonl keeps them.
    """

    def on_train_begin(self, trainer: Trainer) -> None:
        pass

    def on_epoch_begin(self, trainer: Trainer, epoch: int, n_steps: int) -> None:
        pass

    def on_step(self, trainer: Trainer, epoch: int, done: int, n_steps: int,
                values: dict[str, float | None], kl_weight: float) -> None:
        pass

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> None:
        pass

    def on_train_end(self, trainer: Trainer, state: RunState, message: str) -> None:
        """Also after a failure (state FAILED), so every listener can close what it holds."""


class Reporters(Reporter):
    """Hands every event to each listener in turn."""

    def __init__(self, listeners: list[Reporter]) -> None:
        self.listeners = listeners

    def on_train_begin(self, trainer: Trainer) -> None:
        for listener in self.listeners:
            listener.on_train_begin(trainer)

    def on_epoch_begin(self, trainer: Trainer, epoch: int, n_steps: int) -> None:
        for listener in self.listeners:
            listener.on_epoch_begin(trainer, epoch, n_steps)

    def on_step(self, trainer: Trainer, epoch: int, done: int, n_steps: int,
                values: dict[str, float | None], kl_weight: float) -> None:
        for listener in self.listeners:
            listener.on_step(trainer, epoch, done, n_steps, values, kl_weight)

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> None:
        for listener in self.listeners:
            listener.on_epoch_end(trainer, record)

    def on_train_end(self, trainer: Trainer, state: RunState, message: str) -> None:
        for listener in self.listeners:
            listener.on_train_end(trainer, state, message)


def run_reporters(run_dir: Path, config: RunConfig, is_main: bool, progress: bool) -> Reporters:
    """Rank 0's listeners (none elsewhere). Every rank checks for TensorBoard, so a missing
    package stops all of them at once, before anything is written."""
    tensorboard = open_tensorboard(run_dir, is_main) if config.train.tensorboard else None
    if not is_main:
        return Reporters([])
    listeners = [StatusFile(run_dir), MetricsFile(run_dir), tensorboard,
                 ProgressBar() if progress else None]
    return Reporters([listener for listener in listeners if listener is not None])


# --- status.json ------------------------------------------------------------------------------


class StatusFile(Reporter):
    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.last_write = 0.0  # time.monotonic() of the last heartbeat

    def on_train_begin(self, trainer: Trainer) -> None:
        write_status(self.run_dir, RunState.RUNNING, **_status_fields(trainer))

    def on_step(self, trainer: Trainer, epoch: int, done: int, n_steps: int,
                values: dict[str, float | None], kl_weight: float) -> None:
        # Readers poll every few seconds; a status write per logged step cost the loop ~2%.
        if time.monotonic() - self.last_write < HEARTBEAT_SECONDS and done < n_steps:
            return
        self.last_write = time.monotonic()
        write_status(self.run_dir, RunState.RUNNING, **_status_fields(trainer),
                     step_in_epoch=done, steps_per_epoch=n_steps)

    def on_train_end(self, trainer: Trainer, state: RunState, message: str) -> None:
        write_status(self.run_dir, state, **{**_status_fields(trainer), "message": message})


def _status_fields(trainer: Trainer) -> dict[str, Any]:
    return {
        "pid": os.getpid(), "device": str(trainer.device),
        "epochs": trainer.config.train.epochs, "epoch": trainer.epochs_done, "message": "",
        "train_seconds": trainer.train_seconds,
        "data_notes": list(trainer.data.notes),  # e.g. skipped files: the run card shows them
        "best_epoch": trainer.best_epoch,
    }


def report_setup_failure(run_dir: Path, config: RunConfig, error: Exception) -> None:
    """A run a launcher announced as "starting" (the app does) must not stay so forever when
    its config or data is bad; other run directories are left as they were."""
    if os.environ.get("RANK", "0") != "0":  # under torchrun, rank 0 reports
        return
    previous = read_status(run_dir)
    if previous is not None and previous.get("state") == RunState.STARTING:
        kept = {k: v for k, v in previous.items() if k not in ("state", "updated")}
        write_status(run_dir, RunState.FAILED, **{"epochs": config.train.epochs, "epoch": 0,
                                                  **kept, "pid": os.getpid(),
                                                  "message": f"{type(error).__name__}: {error}"})


class DownloadStatus:
    """A full set's first download, in the status.json of a run a launcher announced as
    "starting" (the app's): still starting, with the download's progress (the Train page draws
    it as a bar), at most one write a second and on each file's last chunk."""

    def __init__(self, run_dir: Path, status: dict[str, Any]) -> None:
        self.run_dir = run_dir
        self.kept = {k: v for k, v in status.items() if k not in ("state", "updated", "message")}
        self.last_write = 0.0

    def __call__(self, progress: Progress) -> None:
        finished = progress.total is not None and progress.done >= progress.total
        if time.monotonic() - self.last_write < HEARTBEAT_SECONDS and not finished:
            return
        self.last_write = time.monotonic()
        write_status(self.run_dir, RunState.STARTING, **self.kept, message=str(progress),
                     download={"file": progress.file_name, "index": progress.index,
                               "count": progress.count, "done": progress.done,
                               "total": progress.total})


def download_status(run_dir: Path) -> DownloadStatus | None:
    """Rank 0's listener for a launched run; None for a CLI run (its directory may not exist
    yet) and on the other ranks."""
    status = read_status(run_dir)
    if os.environ.get("RANK", "0") != "0" or status is None:
        return None
    return DownloadStatus(run_dir, status) if status.get("state") == RunState.STARTING else None


# --- metrics.jsonl ----------------------------------------------------------------------------


class MetricsFile(Reporter):
    def __init__(self, run_dir: Path) -> None:
        self.log = MetricsLog(run_dir)

    def on_train_begin(self, trainer: Trainer) -> None:
        if self.log.path.exists():  # a resumed run redoes the epochs after its checkpoint
            self.log.truncate_after_epoch(trainer.epochs_done)

    def on_step(self, trainer: Trainer, epoch: int, done: int, n_steps: int,
                values: dict[str, float | None], kl_weight: float) -> None:
        self.log.append({"kind": "step", "epoch": epoch, "step": trainer.global_step,
                         "epoch_progress": done / n_steps, "kl_weight": kl_weight, **values,
                         "time": time.time()})

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> None:
        self.log.append(record)


# --- TensorBoard ------------------------------------------------------------------------------


class TensorBoard(Reporter):
    def __init__(self, writer) -> None:
        self.writer = writer

    def on_step(self, trainer: Trainer, epoch: int, done: int, n_steps: int,
                values: dict[str, float | None], kl_weight: float) -> None:
        for key, value in values.items():
            self.writer.add_scalar(f"train/{key}", value, trainer.global_step)
        self.writer.add_scalar("train/kl_weight", kl_weight, trainer.global_step)

    @torch.no_grad()
    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> None:
        epoch, model = record["epoch"], trainer.model
        for key in ("train_neg_elbo", "test_neg_elbo", "test_kl", "test_recon", "test_log_px"):
            if record.get(key) is not None:
                self.writer.add_scalar(f"epoch/{key}", record[key], epoch)
        generator = torch.Generator(device=next(model.parameters()).device)
        z = model.sample_prior(64, generator.manual_seed(SAMPLE_SEED))
        grid = make_grid(model.decode(z).mean, ncols=8, scale=2)
        self.writer.add_image("samples/prior_mean", np.asarray(grid.convert("RGB")), epoch,
                              dataformats="HWC")
        self.writer.flush()

    def on_train_end(self, trainer: Trainer, state: RunState, message: str) -> None:
        self.writer.close()


def open_tensorboard(run_dir: Path, is_main: bool = True) -> TensorBoard | None:
    """A writer into run_dir on rank 0, None on the others; ConfigError without the package."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as error:
        raise ConfigError("--tensorboard needs the tensorboard package: "
                          "pip install 'tensorboard>=2.21,<3'") from error
    return TensorBoard(SummaryWriter(log_dir=str(run_dir))) if is_main else None


# --- the terminal -----------------------------------------------------------------------------


class ProgressBar(Reporter):
    def __init__(self) -> None:
        self.bar = None

    def on_epoch_begin(self, trainer: Trainer, epoch: int, n_steps: int) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=n_steps, desc=f"epoch {epoch}/{trainer.config.train.epochs}",
                        leave=False, dynamic_ncols=True)

    def on_step(self, trainer: Trainer, epoch: int, done: int, n_steps: int,
                values: dict[str, float | None], kl_weight: float) -> None:
        self.bar.update(done - self.bar.n)
        self.bar.set_postfix({k: f"{v:.1f}" for k, v in values.items() if v is not None})

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> None:
        self._close()
        from tqdm import tqdm

        tqdm.write(_epoch_line(record, trainer.config.train.epochs))

    def on_train_end(self, trainer: Trainer, state: RunState, message: str) -> None:
        self._close()  # a run stopped part-way through an epoch

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _epoch_line(record: dict[str, Any], epochs: int) -> str:
    log_px = record["test_log_px"]
    tail = f"  test log p(x) {log_px:.2f}" if log_px is not None else ""
    if record["val_objective"] is not None:
        tail += (f"  validation {_OBJECTIVE_NAMES[record['test_neg_elbo'] is None]} "
                 f"{record['val_objective']:.2f} (best epoch {record['best_epoch']})")
    if record["test_neg_elbo"] is None:  # a plain autoencoder: reconstruction only
        return (f"epoch {record['epoch']}/{epochs}  train recon {record['train_recon']:.2f}  "
                f"test recon {record['test_recon']:.2f}{tail}")
    return (f"epoch {record['epoch']}/{epochs}  train -ELBO {record['train_neg_elbo']:.2f}  "
            f"test -ELBO {record['test_neg_elbo']:.2f}  (KL {record['test_kl']:.2f}, "
            f"recon {record['test_recon']:.2f}){tail}")
