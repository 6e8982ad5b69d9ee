"""vae_core.hashed_samples: Explore's samples x ~ p(x|z), from a hash the page reproduces
(tests/core/test_page_samples_js.py runs the page's copy against this one)."""

import numpy as np
import pytest
import torch

from vae_core.config import ModelConfig
from vae_core.distributions import MeanImage
from vae_core.hashed_samples import (
    bernoulli_draws,
    draw_samples,
    gaussian_draws,
    mix,
    uniform_pairs,
)
from vae_core.models import VAE


def test_mix_is_a_bijection_on_a_block_of_uint32():
    values = np.arange(2**16, dtype=np.uint32) * np.uint32(65_537)
    assert np.unique(mix(values)).size == values.size


def test_the_same_seed_gives_the_same_uniforms_and_a_sample_does_not_depend_on_n():
    u1, u2 = uniform_pairs(seed=3, sample=1, count=500)
    again = uniform_pairs(seed=3, sample=1, count=500)
    np.testing.assert_array_equal(u1, again[0])
    np.testing.assert_array_equal(u2, again[1])
    assert not np.array_equal(u1, uniform_pairs(seed=4, sample=1, count=500)[0])
    assert not np.array_equal(u1, uniform_pairs(seed=3, sample=2, count=500)[0])
    assert ((u1 > 0) & (u1 < 1) & (u2 > 0) & (u2 < 1)).all()
    probs = np.full((1, 5, 5), 0.5, dtype=np.float32)
    np.testing.assert_array_equal(bernoulli_draws(probs, 9, 2), bernoulli_draws(probs, 9, 6)[:2])


def test_uniforms_are_uniform_and_uncorrelated_over_seeds_samples_and_pixels():
    u = np.concatenate([np.concatenate(uniform_pairs(seed, sample, 1000))
                        for seed in range(5) for sample in range(4)])  # 40,000 values
    counts = np.histogram(u, bins=20, range=(0, 1))[0]
    expected = u.size / 20
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 43.8  # the 0.999 quantile of chi-square with 19 degrees of freedom
    neighbours = np.corrcoef(u[:-1], u[1:])[0, 1]
    assert abs(neighbours) < 0.02  # 4 / sqrt(40,000)


def test_bernoulli_frequencies_follow_the_probabilities():
    probs = np.linspace(0.02, 0.98, 49, dtype=np.float32).reshape(1, 7, 7)
    draws = bernoulli_draws(probs, seed=0, n=2000)
    assert set(np.unique(draws)) == {0.0, 1.0}
    spread = np.sqrt(probs * (1 - probs) / 2000)
    assert (np.abs(draws.mean(axis=0) - probs) < 4.5 * spread).all()


def test_gaussian_draws_have_the_mean_and_std_of_the_parameters_and_are_clipped():
    loc = np.full((1, 10, 10), 0.5, dtype=np.float32)
    std = np.full((1, 10, 10), 0.1, dtype=np.float32)
    draws = gaussian_draws(loc, std, seed=1, n=400)  # 40,000 normals
    assert abs(draws.mean() - 0.5) < 4 * 0.1 / np.sqrt(draws.size)
    assert abs(draws.std() - 0.1) < 0.002
    outside = gaussian_draws(np.full((1, 10, 10), -0.2, np.float32), std, seed=1, n=50)
    assert outside.min() == 0.0 and 0 < (outside > 0).mean() < 0.1  # P(N(-0.2, 0.1) > 0) = 2%


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian", "gaussian_fixed"])
def test_draw_samples_of_a_decoded_z_is_seeded_and_in_the_pixel_range(likelihood):
    torch.manual_seed(0)
    model = VAE(ModelConfig(image_shape=(1, 8, 8), arch="mlp", hidden=(16,), latent_dim=3,
                            likelihood=likelihood)).eval()
    with torch.no_grad():
        decoded = model.decode(torch.ones(1, 3))
    samples = draw_samples(decoded, seed=5, n=3)
    assert samples.shape == (3, 1, 8, 8) and samples.dtype == np.float32
    assert samples.min() >= 0 and samples.max() <= 1
    assert not np.array_equal(samples[0], samples[1])
    np.testing.assert_array_equal(samples, draw_samples(decoded, seed=5, n=3))
    assert not np.array_equal(samples, draw_samples(decoded, seed=6, n=3))
    if likelihood == "bernoulli":
        assert set(np.unique(samples)) <= {0.0, 1.0}


def test_a_mean_image_has_no_samples_and_a_seed_must_fit_32_bits():
    with pytest.raises(ValueError, match="mean image only"):
        draw_samples(MeanImage(torch.zeros(1, 1, 4, 4)), seed=0, n=1)
    with pytest.raises(ValueError, match="from 0 to 4294967295, not -1"):
        uniform_pairs(seed=-1, sample=0, count=4)
