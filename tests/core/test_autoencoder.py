"""The plain autoencoder as a model kind: config, model, loss, checkpoints, evaluation, CLI."""

import json

import pytest
import torch

from vae_core.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from vae_core.config import ConfigError, DataConfig, ModelConfig, RunConfig, from_dict, to_dict
from vae_core.decoder_export import export_decoder, pack, unpack
from vae_core.discretization import evaluation_copy
from vae_core.distributions import NotApplicable
from vae_core.evaluation import evaluate
from vae_core.models import VAE, Autoencoder, build_model
from vae_core.objectives import iwae_log_px, loss_terms

CONFIG = ModelConfig(image_shape=(1, 8, 8), arch="mlp", hidden=(16,), latent_dim=3, kind="ae")


def test_kind_defaults_to_vae_and_round_trips():
    assert ModelConfig().kind == "vae"
    assert from_dict(ModelConfig, to_dict(CONFIG)) == CONFIG
    old = to_dict(ModelConfig())
    del old["kind"]  # configs written before the kind existed are VAEs
    assert from_dict(ModelConfig, old).kind == "vae"
    with pytest.raises(ConfigError, match="kind must be one of"):
        ModelConfig(kind="gan")



@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_the_ae_has_the_vae_networks_but_a_one_number_code(arch):
    ae = build_model(ModelConfig(arch=arch, hidden=(4, 8), dense=16, latent_dim=5, kind="ae"))
    vae = build_model(ModelConfig(arch=arch, hidden=(4, 8), dense=16, latent_dim=5))
    assert isinstance(ae, Autoencoder) and isinstance(vae, VAE)
    ae_shapes = {k: v.shape for k, v in ae.state_dict().items()}
    vae_shapes = {k: v.shape for k, v in vae.state_dict().items()}
    differing = {k for k in vae_shapes if ae_shapes[k] != vae_shapes[k]}
    last = max(k for k in vae_shapes if k.startswith("encoder")).rsplit(".", 1)[0]
    assert ae_shapes.keys() == vae_shapes.keys()
    assert differing == {f"{last}.weight", f"{last}.bias"}  # only the encoder's output layer
    code = ae.encode(torch.rand(2, 1, 28, 28))
    assert code.mean.shape == (2, 5)
    assert torch.equal(code.rsample(), code.mean) and not code.stddev.any()


def test_the_code_has_no_density_or_kl():
    code = build_model(CONFIG).encode(torch.rand(2, 1, 8, 8))
    with pytest.raises(NotApplicable, match="no posterior"):
        code.kl()
    with pytest.raises(NotApplicable):
        code.log_prob(code.mean)
    with pytest.raises(NotApplicable, match="no density"):
        iwae_log_px(build_model(CONFIG), torch.rand(2, 1, 8, 8), k=5)


def test_ae_loss_is_the_reconstruction_at_the_code_and_ignores_beta():
    torch.manual_seed(0)
    model, x = build_model(CONFIG), torch.rand(4, 1, 8, 8)
    terms = loss_terms(model, x, kl_scale=4.0, free_bits=1.0)
    expected = -model.decode(model.encoder(x)).log_prob(x)
    assert terms.kl is None and terms.neg_elbo is None
    assert torch.allclose(terms.loss, expected) and torch.equal(terms.loss, terms.recon)
    assert terms.sums() == {"neg_elbo": None, "kl": None, "recon": pytest.approx(
        expected.sum().item())}


def test_ae_training_lowers_its_reconstruction_loss():
    torch.manual_seed(0)
    model = build_model(CONFIG)
    x = (torch.rand(16, 1, 8, 8, generator=torch.Generator().manual_seed(0)) > 0.5).float()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = None
    for _ in range(150):
        loss = loss_terms(model, x).loss.mean()
        first = first if first is not None else loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.7 * first


def test_ae_checkpoint_round_trip_and_kind_check(tmp_path):
    torch.manual_seed(1)
    model = build_model(CONFIG)
    save_checkpoint(tmp_path / "ae", model, DataConfig(name="digits"),
                    metadata={"test": {"recon": 30.5, "neg_elbo": None, "kl": None}})
    loaded = load_checkpoint(tmp_path / "ae")
    assert isinstance(loaded.model, Autoencoder) and loaded.model_config.kind == "ae"
    assert loaded.metadata["test"] == {"recon": 30.5, "neg_elbo": None, "kl": None}
    x = torch.rand(3, 1, 8, 8)
    assert torch.equal(loaded.model.encode(x).mean, model.encode(x).mean)
    # The same weights under a VAE config: the encoder's output layer is half the size.
    document = json.loads((tmp_path / "ae" / "config.json").read_text())
    document["model"]["kind"] = "vae"
    (tmp_path / "ae" / "config.json").write_text(json.dumps(document))
    with pytest.raises(CheckpointError,
                       match=r"is 3 long in the weights; config\.json makes it 6 long"):
        load_checkpoint(tmp_path / "ae")


def test_evaluation_says_what_does_not_apply():
    torch.manual_seed(0)
    model, x = build_model(CONFIG).eval(), torch.rand(10, 1, 8, 8)
    result = evaluate(model, x, iw_samples=5)
    assert result.kind == "ae" and result.n_images == 10
    assert result.neg_elbo is None and result.kl is None and result.log_px is None
    assert result.iw_samples == 0
    copy = evaluation_copy(x, CONFIG.likelihood)  # the fixed binarized copy evaluate() uses
    assert result.recon == pytest.approx(loss_terms(model, copy).recon.mean().item(), rel=1e-5)
    assert result.objective == result.recon


def test_the_page_decoder_of_an_ae_is_its_decoder():
    model = build_model(ModelConfig(arch="conv", hidden=(4, 8), dense=16, latent_dim=5, kind="ae"))
    spec = unpack(pack(export_decoder(model), "float32"))
    assert spec.latent_dim == 5 and len(spec.arrays) == len(list(model.decoder.parameters()))


def test_run_config_carries_the_kind():
    config = RunConfig.from_dict({"model": {"kind": "ae"}})
    assert RunConfig.from_dict(config.to_dict()).model.kind == "ae"


def test_an_autoencoder_run_validates_and_keeps_its_best_epoch_by_reconstruction(tmp_path):
    import dataclasses

    from tests.core.conftest import tiny_config
    from vae_core import training
    from vae_core.checkpoint import best_checkpoint_dir
    from vae_core.runs import read_metrics

    config = tiny_config(epochs=3, patience=2)
    config = dataclasses.replace(config, model=dataclasses.replace(config.model, kind="ae"))
    assert training.train(config, tmp_path).state == "finished"
    epochs = [r for r in read_metrics(tmp_path) if r["kind"] == "epoch"]
    steps = [r for r in read_metrics(tmp_path) if r["kind"] == "step"]
    assert all(r["kl"] is None and r["neg_elbo"] is None and r["recon"] > 0 for r in steps)
    assert all(r["val_neg_elbo"] is None and r["test_neg_elbo"] is None for r in epochs)
    best = min(epochs, key=lambda r: r["val_objective"])
    assert epochs[-1]["best_epoch"] == best["epoch"]
    saved = load_checkpoint(best_checkpoint_dir(tmp_path)).metadata
    assert saved["epoch"] == best["epoch"]
    assert saved["validation"]["recon"] == pytest.approx(best["val_objective"])
