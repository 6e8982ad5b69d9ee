"""The hot loop keeps to one device and never waits for it; speed paths run on the CPU here.

The device audit runs the real training step with the model and batches on PyTorch's "meta"
device: any tensor made on the CPU by mistake fails loudly ("Tensor on device cpu is not on the
expected device meta"), as it would on a GPU, and any host-device sync (.item(), bool(), a
.cpu() copy) fails too, since a meta tensor has no values. CUDA-only paths are tested when a
GPU is present and skipped otherwise.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

import vae_core.training as training
from tests.core.conftest import tiny_config
from vae_core.checkpoint import load_checkpoint
from vae_core.config import ModelConfig
from vae_core.distributed import Cluster
from vae_core.models import VAE
from vae_core.objectives import kl_weight
from vae_core.training import trainer


def _meta_trainer(tmp_path, config):
    on_meta = trainer.Trainer(config, tmp_path, False, Cluster(), torch.device("cpu"))
    on_meta.model = on_meta.step_model = on_meta.model.to("meta")
    on_meta.device = torch.device("meta")
    on_meta.optimizer = torch.optim.Adam(on_meta.model.parameters())
    return on_meta


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_the_training_step_runs_on_one_device_without_host_syncs(tmp_path, arch):
    config = tiny_config(epochs=1)
    config = dataclasses.replace(config, model=dataclasses.replace(
        config.model, arch=arch, hidden=(4, 8) if arch == "conv" else (16,)))
    session = _meta_trainer(tmp_path, config)
    totals = torch.zeros(trainer.N_TOTALS, device=session.device)
    for batch in list(session.batches.for_epoch(1))[:3]:
        # No generator: a meta device has none; the draws are shapes only.
        sums = session.step(batch, kl_weight(1.0, 0, 0.0), None, totals)
    assert sums.device.type == "meta" and totals.device.type == "meta"
    assert all(p.device.type == "meta" for p in session.model.parameters())


def test_the_audit_catches_a_tensor_made_on_the_cpu(tmp_path, monkeypatch):
    session = _meta_trainer(tmp_path, tiny_config(epochs=1))
    real = trainer.loss_terms

    def with_a_cpu_constant(*args, **kwargs):
        terms = real(*args, **kwargs)
        return dataclasses.replace(terms, loss=terms.loss + torch.zeros(terms.loss.shape))

    monkeypatch.setattr(trainer, "loss_terms", with_a_cpu_constant)
    batch = next(iter(session.batches.for_epoch(1)))
    totals = torch.zeros(trainer.N_TOTALS, device=session.device)
    with pytest.raises(RuntimeError, match="device"):
        session.step(batch, 1.0, None, totals)


def test_the_audit_catches_a_host_sync(tmp_path, monkeypatch):
    session = _meta_trainer(tmp_path, tiny_config(epochs=1))
    real = trainer.loss_terms

    def checks_every_step(*args, **kwargs):
        terms = real(*args, **kwargs)
        assert torch.isfinite(terms.loss.mean())  # what the loop did before: a sync per step
        return terms

    monkeypatch.setattr(trainer, "loss_terms", checks_every_step)
    batch = next(iter(session.batches.for_epoch(1)))
    with pytest.raises((RuntimeError, NotImplementedError)):
        session.step(batch, 1.0, None, torch.zeros(4, device=session.device))


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_trains_on_the_cpu(tmp_path, precision):
    result = training.train(tiny_config(epochs=2, precision=precision), tmp_path)
    assert result.state == "finished"
    assert load_checkpoint(tmp_path).model.encoder.net[0].weight.dtype == torch.float32


def test_channels_last_conv_model_trains_to_the_same_weights_on_the_cpu(tmp_path):
    def conv(**train):
        config = tiny_config(epochs=1, **train)
        return dataclasses.replace(config, model=ModelConfig(arch="conv", hidden=(4, 8),
                                                             dense=16, latent_dim=2))

    training.train(conv(), tmp_path / "plain")
    training.train(conv(channels_last=True), tmp_path / "nhwc")
    plain, nhwc = (load_checkpoint(tmp_path / r).model.state_dict() for r in ("plain", "nhwc"))
    for key, value in plain.items():
        torch.testing.assert_close(nhwc[key], value, rtol=1e-4, atol=1e-5)


cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@cuda
@pytest.mark.parametrize("speed", [{}, {"precision": "bf16"}, {"precision": "fp16"},
                                   {"pin_memory": True}, {"compile": True},
                                   {"deterministic": True}])
def test_cuda_speed_paths_train(tmp_path, speed):
    result = training.train(tiny_config(epochs=2, device="cuda", **speed), tmp_path)
    assert result.state == "finished"
    assert load_checkpoint(tmp_path).metadata["device"].startswith("cuda")


@cuda
def test_cuda_deterministic_runs_repeat_exactly(tmp_path):
    for run in ("a", "b"):
        training.train(tiny_config(epochs=2, device="cuda", deterministic=True), tmp_path / run)
    a, b = (load_checkpoint(tmp_path / r).model.state_dict() for r in ("a", "b"))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_model_built_on_meta_has_no_storage():  # the premise of the audit
    model = VAE(ModelConfig(arch="mlp", hidden=(8,), latent_dim=2)).to("meta")
    with pytest.raises((RuntimeError, NotImplementedError)):
        next(model.parameters()).sum().item()
