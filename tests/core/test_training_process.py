"""Real background training processes on tiny data: finish, cancel, kill -9 + resume, divergence.

Each run is `python -m vae_core train` started by vae_core.runs; a digits subset of 200 images
(160 train = 5 batches of 32) and an MLP with 16 hidden units keep an epoch under ~0.1 s, so
the process start-up (~3-6 s importing torch and sklearn) is most of each test's time.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import signal
from pathlib import Path

import pytest

from tests.conftest import kill_live_runs, wait_until
from tests.core.conftest import tiny_config
from vae_core import training
from vae_core.checkpoint import load_checkpoint, load_optimizer_state, resolve_checkpoint_dir
from vae_core.config import DataConfig
from vae_core.runs import (
    LAUNCH_FILE,
    RunError,
    cancel_run,
    list_runs,
    read_metrics,
    read_status,
    resume_run,
    run_info,
    start_run,
)
from vae_core.training import trainer

STEPS_PER_EPOCH = math.ceil(160 / 32)



@pytest.fixture
def runs_root(tmp_path):
    root = tmp_path / "runs"
    yield root
    kill_live_runs(root)


def _epoch_records(run_dir: Path) -> list[dict]:
    return [r for r in read_metrics(run_dir) if r["kind"] == "epoch"]


def test_a_run_reports_progress_then_finishes_with_a_loadable_checkpoint(runs_root):
    run_dir = start_run(tiny_config(epochs=30), runs_root)
    assert run_info(run_dir).state in ("starting", "running")
    seen = wait_until(lambda: (i := run_info(run_dir)).state == "running" and i.step_in_epoch
                      and i)
    assert seen.steps_per_epoch == STEPS_PER_EPOCH and seen.device == "cpu"
    assert 0 < seen.progress < 1
    done = wait_until(lambda: (i := run_info(run_dir)).state == "finished" and i)
    assert (done.epoch, done.epochs, done.progress) == (30, 30, 1.0)
    assert done.has_checkpoint and not done.live and done.eta_seconds is None
    checkpoint = load_checkpoint(run_dir)
    assert checkpoint.metadata["epoch"] == 30
    assert checkpoint.model_config.image_shape == (1, 8, 8)
    assert checkpoint.train_config.num_threads == 1  # the default leaves a core to the app
    assert [r["epoch"] for r in _epoch_records(run_dir)] == list(range(1, 31))
    assert [r.name for r in list_runs(runs_root)] == [run_dir.name]


def test_cancel_stops_the_run_and_keeps_its_last_finished_epoch(runs_root):
    run_dir = start_run(tiny_config(epochs=400), runs_root)
    wait_until(lambda: run_info(run_dir).epoch >= 2 and run_info(run_dir).has_checkpoint)
    cancel_run(run_dir)
    info = wait_until(lambda: (i := run_info(run_dir)).state == "cancelled" and i, timeout=15)
    assert 2 <= info.epoch < 400 and "stopped" in info.message
    checkpoint = load_checkpoint(run_dir)
    assert checkpoint.metadata["epoch"] == info.epoch
    assert _epoch_records(run_dir)[-1]["epoch"] == info.epoch
    assert info.can_resume
    with pytest.raises(RunError, match="not running"):
        cancel_run(run_dir)


def test_kill_9_shows_crashed_and_resume_continues_from_the_checkpoint(runs_root):
    epochs = 60
    run_dir = start_run(tiny_config(epochs=epochs, log_every=1), runs_root)  # every step logged
    wait_until(lambda: run_info(run_dir).epoch >= 2 and run_info(run_dir).has_checkpoint)
    os.killpg(json.loads((run_dir / LAUNCH_FILE).read_text())["pid"], signal.SIGKILL)
    crashed = wait_until(lambda: (i := run_info(run_dir)).state == "crashed" and i, timeout=10)
    assert "ended without saying why" in crashed.message and crashed.can_resume
    kept_epoch = load_checkpoint(run_dir).metadata["epoch"]
    assert kept_epoch < epochs
    killed = json.loads((run_dir / LAUNCH_FILE).read_text())["pid"]
    (run_dir / "checkpoints" / f".epoch-{kept_epoch + 1:04d}.tmp-{killed}").mkdir(exist_ok=True)

    resume_run(run_dir)
    assert not list((run_dir / "checkpoints").glob(f".*.tmp-{killed}"))  # swept
    with pytest.raises(RunError, match="still running"):
        resume_run(run_dir)
    done = wait_until(lambda: (i := run_info(run_dir)).state == "finished" and i)
    assert done.epoch == epochs
    records = read_metrics(run_dir)
    assert [r["epoch"] for r in records if r["kind"] == "epoch"] == list(range(1, epochs + 1))
    steps = [r["step"] for r in records if r["kind"] == "step"]
    assert steps == list(range(1, epochs * STEPS_PER_EPOCH + 1))  # no gap, no repeat
    final = load_checkpoint(run_dir)
    assert final.metadata["step"] == epochs * STEPS_PER_EPOCH
    # Adam's own step counter continued too: a fresh optimizer would count only the resumed part.
    optimizer = load_optimizer_state(resolve_checkpoint_dir(run_dir))
    assert int(optimizer["state"][0]["step"]) == epochs * STEPS_PER_EPOCH


def test_a_diverging_run_fails_with_a_message_and_cannot_be_resumed(runs_root):
    # The encoder's clamped log-variance and the bounded heads keep lr=1e6 finite; an Adam step
    # of 1e20 overflows the loss by the second step.
    config = tiny_config(epochs=3, lr=1e20)
    config = dataclasses.replace(config, model=dataclasses.replace(config.model,
                                                                   likelihood="gaussian"))
    run_dir = start_run(config, runs_root)
    info = wait_until(lambda: (i := run_info(run_dir)).state == "failed" and i)
    assert "diverged in epoch 1" in info.message and "no checkpoint" in info.message
    assert not info.has_checkpoint and not info.can_resume
    with pytest.raises(RunError, match="no finished epoch"):
        resume_run(run_dir)


def test_bad_data_fails_the_run_with_the_loader_message_not_a_crash(runs_root, tmp_path):
    config = dataclasses.replace(tiny_config(),
                                 data=DataConfig(name="images", path=str(tmp_path / "gone.zip")))
    run_dir = start_run(config, runs_root)
    info = wait_until(lambda: (i := run_info(run_dir)).state not in ("starting", "running")
                      and i)
    assert info.state == "failed"
    assert "gone.zip" in info.message and "does not exist" in info.message


def test_divergence_after_an_epoch_keeps_that_epochs_checkpoint(tmp_path, monkeypatch):
    """In-process: the objective turns NaN in epoch 2, a deterministic divergence."""
    calls = {"n": 0}
    real_terms = trainer.loss_terms

    def nan_from_epoch_two(*args, **kwargs):
        terms = real_terms(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] > STEPS_PER_EPOCH:
            return dataclasses.replace(terms, loss=terms.loss * float("nan"))
        return terms

    monkeypatch.setattr(trainer, "loss_terms", nan_from_epoch_two)
    result = training.train(tiny_config(epochs=4), tmp_path / "run")
    assert (result.state, result.epochs_done) == ("failed", 1)
    status = read_status(tmp_path / "run")
    assert status["state"] == "failed" and status["epoch"] == 1
    assert "diverged in epoch 2" in status["message"] and "kept epoch 1" in status["message"]
    assert load_checkpoint(tmp_path / "run").metadata["epoch"] == 1
    assert run_info(tmp_path / "run").can_resume
