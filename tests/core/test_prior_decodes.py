"""The AE-vs-VAE figure: the share of prior draws whose decodes a digit classifier is sure of."""

import numpy as np
import pytest
import torch
from torch import nn

from vae_core.config import DataConfig
from vae_core.data import load_dataset
from vae_core.prior_decodes import DigitClassifier, confident_share, prior_decode_score


class FixedDecoder(nn.Module):
    """A stand-in model that decodes every z to the same image, and records the z it saw."""

    latent_dim = 4

    def __init__(self, image: torch.Tensor) -> None:
        super().__init__()
        self.image = nn.Parameter(image, requires_grad=False)
        self.seen: list[torch.Tensor] = []

    def decode(self, z):
        self.seen.append(z.clone())
        mean = self.image.expand(len(z), *self.image.shape)
        return type("Likelihood", (), {"mean": mean})()


@pytest.fixture(scope="module")
def digits():
    return load_dataset(DataConfig(name="digits"))


@pytest.fixture(scope="module")
def classifier(digits):
    return DigitClassifier(digits)


def test_confident_share_counts_at_and_above_the_threshold():
    assert confident_share(np.array([0.95, 0.9, 0.89, 0.2])) == 0.5
    assert confident_share(np.array([0.5, 0.6]), threshold=0.55) == 0.5
    assert confident_share(np.array([])) == 0.0


def test_the_classifier_knows_real_digits(classifier):
    assert classifier.test_accuracy > 0.85
    assert confident_share(classifier.test_confidence) > 0.5


def test_a_decoder_of_real_digits_scores_high_and_one_of_blanks_scores_zero(digits, classifier):
    sure = int(np.argmax(classifier.test_confidence))  # the test digit it is surest of
    digit = prior_decode_score(FixedDecoder(digits.test_x[sure]), classifier, n=50)
    blank = prior_decode_score(FixedDecoder(torch.full_like(digits.test_x[0], 0.5)), classifier,
                               n=50)
    assert digit.share == 1.0 and blank.share == 0.0
    assert digit.real_share == confident_share(classifier.test_confidence)
    assert digit.n_samples == 50 and digit.threshold == 0.9


def test_two_models_given_one_seed_decode_the_same_z(digits, classifier):
    first, second = FixedDecoder(digits.test_x[0]), FixedDecoder(digits.test_x[1])
    prior_decode_score(first, classifier, n=20, seed=3)
    prior_decode_score(second, classifier, n=20, seed=3)
    assert torch.equal(first.seen[0], second.seen[0])
    assert first.seen[0].std() == pytest.approx(1.0, abs=0.3)  # N(0, I) draws


def test_reconstruction_error_counts_nats_of_the_discretized_copy_and_squared_grey_pixels():
    from vae_core.config import ModelConfig
    from vae_core.discretization import evaluation_copy, offset_nats
    from vae_core.models import build_model
    from vae_core.reconstruction_error import reconstruction_error

    for likelihood in ("bernoulli", "gaussian_fixed"):
        model = build_model(ModelConfig(image_shape=(1, 4, 4), arch="mlp", hidden=(8,),
                                        latent_dim=2, likelihood=likelihood, kind="ae"))
        x = torch.rand(6, 1, 4, 4)
        copy = evaluation_copy(x, likelihood)
        mean = model.decode(model.encode(x).mode()).mean
        nats = -model.decode(model.encode(copy).mode()).log_prob(copy)
        result = reconstruction_error(model, x, batch_size=4)  # two batches
        assert result.n_images == 6
        assert result.mse == pytest.approx(((mean - x) ** 2).mean().item(), rel=1e-5)
        assert result.nats == pytest.approx(nats.mean().item() + offset_nats(likelihood, 16),
                                            rel=1e-5)
