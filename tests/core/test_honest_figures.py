"""Figures that mean what they say: binarized / dequantized data, bits/dim, a validation split
that early stopping and model choice use and that never touches the test set."""

import math

import pytest
import torch

import vae_core.training as training
from tests.core.conftest import tiny_config
from vae_core.augment import random_shift
from vae_core.checkpoint import best_checkpoint_dir, load_checkpoint
from vae_core.config import ConfigError, DataConfig, ModelConfig, RunConfig, TrainConfig
from vae_core.data import load_dataset, validation_split
from vae_core.discretization import discretize, evaluation_copy
from vae_core.distributions import DiagonalGaussian
from vae_core.evaluation import Evaluation, evaluate, per_image_neg_elbo
from vae_core.export import export_run
from vae_core.models import VAE
from vae_core.runs import read_metrics
from vae_core.training import trainer


def test_bernoulli_data_is_binary_and_the_evaluation_copy_is_fixed():
    x = torch.rand(50, 1, 6, 6)
    first, again = evaluation_copy(x, "bernoulli"), evaluation_copy(x, "bernoulli")
    assert set(first.unique().tolist()) == {0.0, 1.0} and torch.equal(first, again)
    fresh = discretize(x, "bernoulli", torch.Generator().manual_seed(5))
    assert not torch.equal(fresh, first)  # training draws differ from the evaluation copy


def test_dequantized_pixels_stay_in_their_8_bit_bin():
    levels = torch.randint(0, 256, (40, 3, 5, 5)).float()
    y = evaluation_copy(levels / 255, "gaussian")
    assert torch.equal(torch.floor(y * 256), levels)
    assert torch.equal(y, evaluation_copy(levels / 255, "gaussian"))
    assert not torch.equal(y, (levels + 0.5) / 256)  # noise, not the bin centre


class _KnownDensity(VAE):
    """A decoder of known density whatever z is, and a posterior equal to the prior (KL 0)."""

    def __init__(self, likelihood: str, log_prob_per_pixel):
        super().__init__(ModelConfig(arch="mlp", hidden=(4,), latent_dim=2, likelihood=likelihood,
                                     image_shape=(1, 4, 4)))
        self.log_prob_per_pixel = log_prob_per_pixel

    def encode(self, x):
        zeros = torch.zeros(x.shape[0], 2)
        return DiagonalGaussian(zeros, zeros)

    def decode(self, z):
        log_prob_per_pixel = self.log_prob_per_pixel

        class Flat:
            def log_prob(self, x):
                return log_prob_per_pixel(x).flatten(1).sum(1)

        return Flat()


def test_a_uniform_density_on_dequantized_pixels_is_exactly_8_bits_per_dim():
    model = _KnownDensity("gaussian", lambda x: torch.zeros_like(x))  # U[0, 1) per pixel
    result = evaluate(model, torch.rand(30, 1, 4, 4), iw_samples=7)
    assert result.data == "dequantized 8-bit" and result.kl == pytest.approx(0, abs=1e-6)
    assert result.neg_elbo == pytest.approx(16 * math.log(256))
    assert result.neg_elbo_bits_per_dim == pytest.approx(8.0)
    assert result.neg_log_px_bits_per_dim == pytest.approx(8.0)


def test_a_fair_coin_per_binarized_pixel_is_exactly_1_bit_per_dim():
    model = _KnownDensity("bernoulli", lambda x: torch.full_like(x, -math.log(2)))
    result = evaluate(model, torch.rand(30, 1, 4, 4), iw_samples=7)
    assert result.data == "binarized"
    assert result.neg_elbo_bits_per_dim == pytest.approx(1.0)
    assert result.neg_log_px_bits_per_dim == pytest.approx(1.0)


def test_per_image_figures_are_on_the_same_copy_and_units_as_evaluate():
    torch.manual_seed(0)
    model = VAE(ModelConfig(arch="mlp", hidden=(8,), latent_dim=2, likelihood="gaussian",
                            image_shape=(1, 4, 4)))
    x = torch.rand(20, 1, 4, 4)
    whole = evaluate(model, x)
    assert per_image_neg_elbo(model, x).mean().item() == pytest.approx(whole.neg_elbo, rel=1e-5)
    assert whole.neg_elbo > 0  # with the 256-level correction a density becomes a probability


def test_the_validation_split_is_part_of_the_training_split_only():
    data = load_dataset(DataConfig(name="digits"))
    fit, val = validation_split(data.train_x, 0.1, seed=0)
    assert len(fit) + len(val) == len(data.train_x) and len(val) == round(0.1 * len(data.train_x))
    whole = torch.cat([fit, val]).flatten(1)
    assert torch.equal(whole.sort(0).values, data.train_x.flatten(1).sort(0).values)
    assert validation_split(data.train_x, 0.0, seed=0)[1].shape[0] == 0


def test_training_batches_are_binarized_afresh(tmp_path, monkeypatch):
    seen = []
    original = trainer.loss_terms

    def spy(model, batch, *args, **kwargs):
        seen.append(batch.clone())
        return original(model, batch, *args, **kwargs)

    monkeypatch.setattr(trainer, "loss_terms", spy)
    training.train(tiny_config(epochs=2, seed=3), tmp_path)
    assert all(set(b.unique().tolist()) <= {0.0, 1.0} for b in seen)
    # digits are grey-level: a fixed binarization would give the same batch in both epochs.
    assert not torch.equal(seen[0].sum(0), seen[len(seen) // 2].sum(0))


def test_early_stopping_keeps_the_best_epoch_and_export_ships_it(tmp_path, monkeypatch):
    figures = iter([50.0, 40.0, 45.0, 46.0, 47.0, 48.0])  # best at epoch 2, then worse

    def scripted_validation(self):
        real = evaluate(self.model, self.val_x)
        return Evaluation(**{**real.as_dict(), "neg_elbo": next(figures)})

    monkeypatch.setattr(trainer.Trainer, "validate", scripted_validation)
    result = training.train(tiny_config(epochs=6, patience=2), tmp_path / "run")
    assert (result.state, result.epochs_done) == ("finished", 4)
    assert "best epoch 2" in result.message
    best = load_checkpoint(best_checkpoint_dir(tmp_path / "run"))
    assert best.metadata["epoch"] == 2 and best.metadata["validation"]["neg_elbo"] == 40.0
    assert best.metadata["test"]["log_px"] is not None  # completed when the run stopped
    epochs = [r for r in read_metrics(tmp_path / "run") if r["kind"] == "epoch"]
    assert [r["best_epoch"] for r in epochs] == [1, 2, 2, 2]
    # The slow log p(x) is computed once, for the best epoch, not also for the last one.
    assert [r["test_log_px"] is None for r in epochs] == [True, True, True, True]
    shipped = load_checkpoint(export_run(tmp_path / "run", tmp_path / "asset"))
    assert shipped.metadata["epoch"] == 2
    assert "best validation -ELBO" in (tmp_path / "asset" / "MODEL_CARD.md").read_text()


def test_validation_figures_come_from_held_out_training_images_not_the_test_set(tmp_path):
    config = tiny_config(epochs=1)
    training.train(config, tmp_path)
    checkpoint = load_checkpoint(tmp_path)
    meta = checkpoint.metadata
    data = load_dataset(config.data)
    fit, val = validation_split(data.train_x, config.data.val_fraction, config.data.split_seed)
    assert (meta["n_train"], meta["n_validation"]) == (len(fit), len(val))
    model = checkpoint.model.eval()
    held_out = evaluate(model, val, seed=config.train.seed).neg_elbo
    assert meta["validation"]["neg_elbo"] == pytest.approx(held_out, abs=1e-4)
    assert held_out != pytest.approx(evaluate(model, data.test_x, seed=config.train.seed).neg_elbo)


def test_early_stopping_without_a_validation_split_is_refused():
    with pytest.raises(ConfigError, match="validation split"):
        RunConfig(data=DataConfig(val_fraction=0.0), train=TrainConfig(patience=3))


def test_a_random_shift_moves_each_image_by_whole_pixels_within_the_limit():
    x = torch.zeros(200, 1, 9, 9)
    x[:, 0, 4, 4] = 1.0
    moved = random_shift(x, 2, torch.Generator().manual_seed(0))
    where = moved[:, 0].flatten(1).argmax(1)
    dy, dx = where // 9 - 4, where % 9 - 4
    assert moved.sum().item() == 200  # nothing lost at this margin, nothing invented
    assert dy.abs().max() == 2 and dx.abs().max() == 2
    assert len(set(zip(dy.tolist(), dx.tolist(), strict=True))) == 25
    assert torch.equal(random_shift(x, 0, torch.Generator()), x)
