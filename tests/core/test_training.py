"""The training loop in-process on tiny data: status, metrics, resume, divergence, stop."""

import json
import os
import signal

import pytest
import torch

import vae_core.training as training
from tests.core.conftest import tiny_config
from vae_core.checkpoint import load_checkpoint
from vae_core.config import DataConfig, RunConfig, TrainConfig
from vae_core.objectives import ElboTerms
from vae_core.runs import read_metrics, read_status
from vae_core.training import trainer


def test_a_run_finishes_with_status_metrics_and_a_checkpoint(tmp_path):
    result = training.train(tiny_config(), tmp_path)
    assert result.state == "finished" and result.epochs_done == 3
    status = read_status(tmp_path)
    assert status["state"] == "finished" and status["epoch"] == 3 and status["device"] == "cpu"
    epochs = [r for r in read_metrics(tmp_path) if r["kind"] == "epoch"]
    assert [r["epoch"] for r in epochs] == [1, 2, 3]
    assert epochs[-1]["test_log_px"] is not None and epochs[0]["test_log_px"] is None
    assert epochs[-1]["test_neg_elbo"] < epochs[0]["test_neg_elbo"]
    checkpoint = load_checkpoint(tmp_path)
    assert checkpoint.metadata["epoch"] == 3
    assert checkpoint.model_config.image_shape == (1, 8, 8)  # taken from the data
    assert json.loads((tmp_path / "run.json").read_text())["model"]["image_shape"] == [1, 8, 8]


def _weights(run_dir):
    return load_checkpoint(run_dir).model.state_dict()


def test_same_seed_same_model_and_a_run_stopped_mid_epoch_resumes_to_the_same_weights(
    tmp_path, monkeypatch
):
    training.train(tiny_config(epochs=3), tmp_path / "straight")
    training.train(tiny_config(epochs=3), tmp_path / "again")
    with monkeypatch.context() as patch:  # SIGTERM after step 7: in epoch 2 of 5-step epochs
        _poison_after(patch, 7, _send_sigterm)
        stopped = training.train(tiny_config(epochs=3), tmp_path / "resumed")
    assert (stopped.state, stopped.epochs_done) == ("cancelled", 1)
    assert any(r["epoch"] == 2 for r in read_metrics(tmp_path / "resumed"))  # epoch 2 had begun
    result = training.train(tiny_config(epochs=3), tmp_path / "resumed", resume=True)
    assert result.epochs_done == 3
    # Exactly equal, not close: the resumed run redoes epoch 2 from epoch 1's checkpoint with
    # the same per-epoch seeds and Adam state, on the same CPU and thread count.
    straight = _weights(tmp_path / "straight")
    for other in ("again", "resumed"):
        for key, value in _weights(tmp_path / other).items():
            assert torch.equal(value, straight[key]), f"{other}: {key}"
    def steps(run):  # (epoch, step) of every logged step and epoch record
        return [(r["kind"], r["epoch"], r["step"]) for r in read_metrics(tmp_path / run)]

    assert steps("resumed") == steps("straight")  # epoch 2's first attempt is not in the log


def _send_sigterm(terms):
    os.kill(os.getpid(), signal.SIGTERM)
    return terms


def test_a_new_run_refuses_a_directory_that_holds_one(tmp_path):
    training.train(tiny_config(epochs=1), tmp_path)
    with pytest.raises(ValueError, match="already holds a run"):
        training.train(tiny_config(epochs=1), tmp_path)


def _poison_after(monkeypatch, steps: int, action):
    """Replace the objective so that after `steps` calls `action(terms)` runs."""
    real = trainer.loss_terms
    calls = {"n": 0}

    def wrapped(*args, **kwargs):
        calls["n"] += 1
        terms = real(*args, **kwargs)
        return action(terms) if calls["n"] > steps else terms

    monkeypatch.setattr(trainer, "loss_terms", wrapped)


def test_a_non_finite_loss_fails_the_run_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    steps_per_epoch = 5  # 160 training images / batch 32

    def nan_loss(terms):
        return ElboTerms(terms.loss * float("nan"), terms.neg_elbo, terms.kl, terms.recon)

    _poison_after(monkeypatch, steps_per_epoch + 2, nan_loss)
    result = training.train(tiny_config(epochs=3), tmp_path)
    assert result.state == "failed" and "diverged in epoch 2" in result.message
    status = read_status(tmp_path)
    assert status["state"] == "failed" and "nan" in status["message"].lower()
    assert load_checkpoint(tmp_path).metadata["epoch"] == 1


def test_sigterm_stops_after_the_step_and_keeps_the_last_finished_epoch(tmp_path, monkeypatch):
    _poison_after(monkeypatch, 7, _send_sigterm)  # during epoch 2
    handler_before = signal.getsignal(signal.SIGTERM)
    result = training.train(tiny_config(epochs=3), tmp_path)
    assert result.state == "cancelled" and result.epochs_done == 1
    assert read_status(tmp_path)["state"] == "cancelled"
    assert load_checkpoint(tmp_path).metadata["epoch"] == 1
    assert signal.getsignal(signal.SIGTERM) is handler_before  # the caller's handler is back


def test_bad_config_fails_before_writing_anything(tmp_path):
    bad = RunConfig(data=DataConfig(name="images", path=str(tmp_path / "missing")))
    with pytest.raises(ValueError):
        training.train(bad, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_files_the_loader_skipped_are_named_in_the_run_status(tmp_path):
    from PIL import Image

    images = tmp_path / "images"
    images.mkdir()
    for i in range(12):
        Image.new("L", (8, 8), 20 * i).save(images / f"{i}.png")
    (images / "broken.png").write_bytes(b"not a png")
    config = RunConfig(data=DataConfig(name="images", path=str(images), image_size=8),
                       model=tiny_config().model, train=TrainConfig(epochs=1, iw_samples=2))
    training.train(config, tmp_path / "run")
    (note,) = read_status(tmp_path / "run")["data_notes"]
    assert note.startswith("Skipped 1 of 13 image files") and "'broken.png'" in note
