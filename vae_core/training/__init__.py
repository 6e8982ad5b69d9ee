"""Training: train() below starts a run; trainer.py is the loop (a Trainer read top to bottom),
reporting.py what it reports (status.json, metrics.jsonl, TensorBoard, the progress bar) as
listeners of one seam."""

from __future__ import annotations

import gc
from pathlib import Path

from .. import distributed
from ..config import DOWNLOADED_DATASETS, DataConfig, RunConfig
from ..data import download
from ..devices import select_device
from .reporting import download_status, report_setup_failure
from .trainer import Trainer, TrainingDiverged, TrainResult

__all__ = ["TrainResult", "Trainer", "TrainingDiverged", "train"]


def train(
    config: RunConfig, run_dir: Path, resume: bool = False, progress: bool = False
) -> TrainResult:
    """Train (or resume) the run in `run_dir`; returns how it ended. Errors in the config or
    data are raised before anything is written when the run is new."""
    cluster = distributed.Cluster()
    try:
        _download_first(config.data, Path(run_dir))
        cluster, device = distributed.join(select_device(config.train.device))
        trainer = Trainer(config, Path(run_dir), resume, cluster, device, progress)
    except Exception as error:
        report_setup_failure(Path(run_dir), config, error)
        distributed.leave(cluster)
        raise
    try:
        return trainer.run()
    finally:
        # The DDP wrapper holds the process group and its pending work: release it while the
        # interpreter is whole, so no Gloo thread is left to be torn down at exit (a rank once
        # aborted there with "terminate called without an active exception").
        del trainer
        gc.collect()
        distributed.leave(cluster)


def _download_first(data: DataConfig, run_dir: Path) -> None:
    """A full set's first use downloads it, before the loop, with its progress in the status
    of a run the app started (the data loader then finds the files in the cache)."""
    if data.name in DOWNLOADED_DATASETS:
        download.ensure_files(data.name, download.cache_folder(data), download_status(run_dir))
