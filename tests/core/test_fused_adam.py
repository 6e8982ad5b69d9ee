"""Adam's fused kernel (TrainConfig.fused_adam): a run stopped mid-epoch and resumed ends on
the same weights, bit for bit, as one that was never stopped; the kernel is really used, and a
run keeps the kernel its optimizer state was saved with."""

import os
import signal

import torch

import vae_core.training as training
from tests.core.conftest import tiny_config
from vae_core.checkpoint import load_checkpoint, load_optimizer_state, resolve_checkpoint_dir
from vae_core.objectives import ElboTerms
from vae_core.training import trainer


def _weights(run_dir):
    return load_checkpoint(run_dir).model.state_dict()


def _sigterm_after(monkeypatch, steps: int) -> None:
    """SIGTERM from inside the loss after `steps` steps (the trainer stops after that step)."""
    real, calls = trainer.loss_terms, []

    def counted(*args, **kwargs) -> ElboTerms:
        calls.append(1)
        if len(calls) == steps:
            os.kill(os.getpid(), signal.SIGTERM)
        return real(*args, **kwargs)

    monkeypatch.setattr(trainer, "loss_terms", counted)


def test_a_fused_run_stopped_mid_epoch_resumes_to_the_same_weights(tmp_path, monkeypatch):
    config = tiny_config(epochs=3, fused_adam=True)
    training.train(config, tmp_path / "straight")
    with monkeypatch.context() as patch:  # step 7 is in epoch 2 of 5-step epochs
        _sigterm_after(patch, 7)
        stopped = training.train(config, tmp_path / "resumed")
    assert (stopped.state, stopped.epochs_done) == ("cancelled", 1)
    assert training.train(config, tmp_path / "resumed", resume=True).epochs_done == 3
    straight, resumed = _weights(tmp_path / "straight"), _weights(tmp_path / "resumed")
    for key, value in resumed.items():
        assert torch.equal(value, straight[key]), key
    saved = load_optimizer_state(resolve_checkpoint_dir(tmp_path / "resumed"))
    assert saved["param_groups"][0]["fused"] is True


def test_the_fused_kernel_is_not_the_default_loop_bit_for_bit(tmp_path):
    """Why a run keeps its kernel: the two agree closely but not exactly."""
    training.train(tiny_config(epochs=1), tmp_path / "plain")
    training.train(tiny_config(epochs=1, fused_adam=True), tmp_path / "fused")
    plain, fused = _weights(tmp_path / "plain"), _weights(tmp_path / "fused")
    assert any(not torch.equal(fused[key], plain[key]) for key in plain)
    assert all(torch.allclose(fused[key], plain[key], atol=1e-4) for key in plain)
    plain_state = load_optimizer_state(resolve_checkpoint_dir(tmp_path / "plain"))
    assert not plain_state["param_groups"][0]["fused"]
