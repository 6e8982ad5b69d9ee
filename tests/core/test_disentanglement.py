"""MIG, DCI and active units on synthetic codes whose answer is known."""

import numpy as np
import pytest

from vae_core.active_units import active_units, count_active, posterior_mean_variance
from vae_core.disentanglement import dci, is_categorical, mutual_information_gap

N = 1500


def _factors(seed: int = 0) -> np.ndarray:
    """Five independent factors like the shapes data set's: (N, 5)."""
    rng = np.random.default_rng(seed)
    return np.stack([
        rng.integers(0, 3, N),  # shape: a class label
        rng.choice(np.linspace(0.5, 1.0, 6), N),  # scale: 6 values
        rng.uniform(0, 2 * np.pi, N),  # rotation
        rng.uniform(0, 1, N),  # x
        rng.uniform(0, 1, N),  # y
    ], axis=1)


def _disentangled(factors: np.ndarray, extra_dims: int = 3) -> np.ndarray:
    """One code dimension per factor (standardised), plus unused near-constant dimensions."""
    rng = np.random.default_rng(1)
    code = (factors - factors.mean(0)) / factors.std(0)
    return np.concatenate([code, rng.normal(0, 1e-3, (len(factors), extra_dims))], axis=1)


def _rotated(code: np.ndarray) -> np.ndarray:
    """The same information, mixed by a random orthogonal matrix: every dimension sees all."""
    q, _ = np.linalg.qr(np.random.default_rng(2).normal(size=(code.shape[1],) * 2))
    return code @ q


def test_mig_of_a_disentangled_code_is_near_one_and_of_a_rotation_low():
    factors = _factors()
    perfect = mutual_information_gap(_disentangled(factors), factors)
    assert perfect.score > 0.95
    assert perfect.per_factor.min() > 0.9
    # The heat map's diagonal: dimension k carries all of factor k's entropy.
    normalized = perfect.mutual_information / perfect.entropy[:, None]
    assert np.allclose(np.diag(normalized[:, :5]), 1.0, atol=1e-9)
    assert normalized[:, 5:].max() < 0.2  # the unused dimensions carry little

    rotated = mutual_information_gap(_rotated(_disentangled(factors)), factors)
    assert rotated.score < 0.3


def test_mig_of_a_code_that_repeats_one_factor_twice_is_zero_for_it():
    """Two dimensions that both hold x: no gap for x (the definition's point)."""
    factors = _factors()
    code = _disentangled(factors, extra_dims=0)
    code = np.concatenate([code, code[:, 3:4] * 2.0], axis=1)
    result = mutual_information_gap(code, factors)
    assert result.per_factor[3] == pytest.approx(0.0, abs=1e-9)
    assert result.per_factor[4] > 0.9


def test_dci_of_a_disentangled_code_is_near_one_and_of_a_rotation_lower():
    factors = _factors()
    perfect = dci(_disentangled(factors), factors)
    assert perfect.disentanglement > 0.95 and perfect.completeness > 0.95
    assert perfect.informativeness > 0.95
    assert perfect.importance.shape == (8, 5)
    assert np.argmax(perfect.importance[:5], axis=0).tolist() == [0, 1, 2, 3, 4]

    rotated = dci(_rotated(_disentangled(factors)), factors)
    assert rotated.disentanglement < 0.7 and rotated.completeness < 0.7
    assert rotated.informativeness > 0.8  # nothing is lost by a rotation: still predictable


def test_dci_informativeness_of_noise_is_near_zero():
    factors = _factors()
    noise = np.random.default_rng(3).normal(size=(N, 4))
    result = dci(noise, factors)
    regressed = result.per_factor_informativeness[1:]  # R^2 of the continuous factors, clipped
    assert regressed.max() < 0.05
    assert result.per_factor_informativeness[0] < 0.45  # chance for 3 classes is 1/3


def test_active_units_count_dimensions_whose_mean_varies_by_more_than_0_01():
    stds = np.array([0.0, 0.05, 0.09, 0.11, 0.2, 1.0])  # variances 0, .0025, .0081, .0121, ...
    codes = np.random.default_rng(4).normal(size=(20000, 6))
    codes = (codes - codes.mean(0)) / codes.std(0) * stds
    assert np.allclose(posterior_mean_variance(codes), stds**2)
    assert active_units(codes) == 3
    assert active_units(codes, threshold=0.001) == 5
    assert count_active([0.0, 0.0099, 0.0101, 3.0]) == 2


def test_a_few_integer_values_are_a_category_and_scales_are_not():
    factors = _factors()
    assert [is_categorical(factors[:, k]) for k in range(5)] == [True, False, False, False, False]


@pytest.mark.parametrize("codes, factors", [
    (np.zeros((50, 1)), np.zeros((50, 2))),  # one code dimension
    (np.zeros((50, 3)), np.zeros((40, 2))),  # rows differ
    (np.full((50, 3), np.nan), np.zeros((50, 2))),
])
def test_unusable_inputs_are_refused_with_a_message(codes, factors):
    with pytest.raises(ValueError, match=r"codes|factors"):
        mutual_information_gap(codes, factors)


class _Sliced:
    """A set that is only sliceable (as a streamed image folder is), never whole in memory."""

    def __init__(self, x):
        self.x, self.shape = x, x.shape

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index):
        assert isinstance(index, slice) and index.stop - index.start <= 3, "read whole"
        return self.x[index]


def test_a_model_s_posterior_mean_variance_is_read_chunk_by_chunk():
    import torch

    from vae_core.active_units import model_posterior_mean_variance
    from vae_core.config import ModelConfig
    from vae_core.models import build_model

    torch.manual_seed(0)
    model = build_model(ModelConfig(image_shape=(1, 8, 8), arch="mlp", latent_dim=3, hidden=(16,)))
    x = torch.rand(10, 1, 8, 8)
    whole = model_posterior_mean_variance(model, x)
    assert model_posterior_mean_variance(model, _Sliced(x), chunk=3) == pytest.approx(whole)
    assert len(whole) == 3 and min(whole) > 0
