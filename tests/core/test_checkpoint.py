import json
import pickle

import pytest
import torch
from safetensors.torch import save_file

from vae_core.checkpoint import (
    CheckpointError,
    load_checkpoint,
    load_checkpoint_bytes,
    load_optimizer_state,
    resolve_checkpoint_dir,
    save_checkpoint,
    save_run_checkpoint,
)
from vae_core.config import DataConfig, ModelConfig, TrainConfig
from vae_core.models import VAE

CONFIG = ModelConfig(image_shape=(1, 8, 8), arch="conv", hidden=(4, 8), latent_dim=3,
                     likelihood="gaussian", dense=16)


@pytest.fixture
def model():
    torch.manual_seed(0)
    return VAE(CONFIG)


def test_round_trip_gives_the_same_model_and_configs(tmp_path, model):
    save_checkpoint(tmp_path / "ckpt", model, DataConfig(name="digits"), TrainConfig(epochs=3),
                    metadata={"epoch": 3})
    loaded = load_checkpoint(tmp_path / "ckpt")
    assert loaded.model_config == CONFIG
    assert loaded.data_config == DataConfig(name="digits")
    assert loaded.train_config == TrainConfig(epochs=3)
    assert loaded.metadata == {"epoch": 3}
    assert not loaded.model.training
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[key], value)
    z = torch.randn(2, 3)
    torch.testing.assert_close(loaded.model.decode(z).mean, model.decode(z).mean)


def test_bytes_round_trip(tmp_path, model):
    path = save_checkpoint(tmp_path / "c", model, DataConfig())
    loaded = load_checkpoint_bytes((path / "model.safetensors").read_bytes(),
                                   (path / "config.json").read_bytes())
    assert loaded.model_config == CONFIG


def test_optimizer_state_round_trip(tmp_path, model):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.rand(4, 1, 8, 8))[2].mean.sum().backward()
    optimizer.step()
    path = save_checkpoint(tmp_path / "c", model, DataConfig(),
                           optimizer_state=optimizer.state_dict())
    restored = torch.optim.Adam(VAE(CONFIG).parameters(), lr=1e-3)
    restored.load_state_dict(load_optimizer_state(path))
    for index, state in optimizer.state_dict()["state"].items():
        for key, value in state.items():
            assert torch.equal(restored.state_dict()["state"][index][key], value)


def test_run_checkpoints_keep_latest_and_prune(tmp_path, model):
    for epoch in range(1, 5):
        save_run_checkpoint(tmp_path, epoch, model=model, data_config=DataConfig(),
                            metadata={"epoch": epoch})
    assert resolve_checkpoint_dir(tmp_path).name == "epoch-0004"
    assert sorted(p.name for p in (tmp_path / "checkpoints").glob("epoch-*")) == [
        "epoch-0003", "epoch-0004"]
    assert load_checkpoint(tmp_path).metadata["epoch"] == 4


def test_pruning_orders_epochs_by_number_not_as_text(tmp_path, model):
    for epoch in (9998, 9999, 10000):
        save_run_checkpoint(tmp_path, epoch, model=model, data_config=DataConfig(),
                            metadata={"epoch": epoch})
    assert sorted(p.name for p in (tmp_path / "checkpoints").glob("epoch-*")) == [
        "epoch-10000", "epoch-9999"]
    assert load_checkpoint(tmp_path).metadata["epoch"] == 10000


def test_saving_never_replaces_a_folder_that_is_not_a_checkpoint(tmp_path, model):
    assets = tmp_path / "assets"
    save_checkpoint(assets / "mnist32", model, DataConfig())
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("mine")
    for target in (assets, tmp_path / "notes", tmp_path / "notes" / "todo.txt"):
        with pytest.raises(CheckpointError, match="not a checkpoint this tool wrote"):
            save_checkpoint(target, model, DataConfig())
    assert (assets / "mnist32" / "model.safetensors").is_file()
    assert (tmp_path / "notes" / "todo.txt").read_text() == "mine"
    save_checkpoint(assets / "mnist32", model, DataConfig(name="digits"))  # ours: replaced
    assert load_checkpoint(assets / "mnist32").data_config.name == "digits"


def _saved(tmp_path, model):
    return save_checkpoint(tmp_path / "c", model, DataConfig())


def test_corrupt_weights_are_reported(tmp_path, model):
    path = _saved(tmp_path, model)
    (path / "model.safetensors").write_bytes(b"not safetensors at all")
    with pytest.raises(CheckpointError, match="safetensors"):
        load_checkpoint(path)


def test_a_pickle_is_refused_not_unpickled(tmp_path, model):
    path = _saved(tmp_path, model)
    (path / "model.safetensors").write_bytes(pickle.dumps(model.state_dict()))
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
    with pytest.raises(CheckpointError):
        load_checkpoint_bytes(pickle.dumps({"a": 1}), (path / "config.json").read_bytes())


def test_a_latent_size_mismatch_is_said_in_config_terms(tmp_path, model):
    path = _saved(tmp_path, model)
    config = json.loads((path / "config.json").read_text())
    config["model"]["latent_dim"] = 5
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match=r"config\.json says 5 latent dimensions, the "
                                               "weights have 3 latent dimensions"):
        load_checkpoint(path)


def test_missing_and_unexpected_tensors_are_named(tmp_path, model):
    path = _saved(tmp_path, model)
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    weights.pop("decoder.head.0.bias")
    weights["extra"] = torch.zeros(1)
    save_file(weights, str(path / "model.safetensors"))
    with pytest.raises(CheckpointError, match=r"missing decoder\.head\.0\.bias.*unexpected extra"):
        load_checkpoint(path)


@pytest.mark.parametrize(
    "text,message",
    [("{not json", "not valid JSON"), ("[]", "JSON object"),
     ('{"format_version": 99, "model": {}, "data": {}}', "format_version"),
     ('{"format_version": 1, "data": {}}', "lacks"),
     ('{"format_version": 1, "model": {"arch": "rnn"}, "data": {}}', "arch must be")],
)
def test_bad_config_json_is_explained(tmp_path, model, text, message):
    path = _saved(tmp_path, model)
    (path / "config.json").write_text(text)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)


def test_a_folder_without_a_checkpoint_is_explained(tmp_path):
    with pytest.raises(CheckpointError, match="holds no checkpoint"):
        load_checkpoint(tmp_path)
