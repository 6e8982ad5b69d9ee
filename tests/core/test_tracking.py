"""`--tensorboard`: event files beside metrics.jsonl with the loss terms and sample grids."""

from __future__ import annotations

import builtins

import pytest

import vae_core.training as training
from tests.core.conftest import tiny_config
from vae_core.config import ConfigError


def test_tensorboard_event_files_hold_the_loss_terms_and_a_sample_grid(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    training.train(tiny_config(epochs=2, tensorboard=True), tmp_path)
    assert list(tmp_path.glob("events.out.tfevents.*"))
    events = EventAccumulator(str(tmp_path)).Reload()
    scalars = set(events.Tags()["scalars"])
    assert {"train/neg_elbo", "train/kl", "train/recon", "epoch/test_neg_elbo"} <= scalars
    assert [e.step for e in events.Scalars("epoch/test_neg_elbo")] == [1, 2]
    assert len(events.Images("samples/prior_mean")) == 2


def test_without_the_package_the_run_stops_before_it_starts_and_says_what_to_install(
    tmp_path, monkeypatch
):
    real_import = builtins.__import__

    def no_tensorboard(name, *args, **kwargs):
        if name.startswith("torch.utils.tensorboard"):
            raise ImportError("No module named 'tensorboard'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tensorboard)
    with pytest.raises(ConfigError, match="pip install 'tensorboard"):
        training.train(tiny_config(epochs=1, tensorboard=True), tmp_path / "run")
    assert not (tmp_path / "run").exists()
