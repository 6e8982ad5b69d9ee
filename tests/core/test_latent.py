"""vae_core.latent: encoding sets, decoding distributions, per-dimension KL, traversals."""

import numpy as np
import pytest
import torch

from vae_core.config import ModelConfig
from vae_core.latent import (
    decode_distribution,
    decode_mean,
    encode_images,
    interpolate,
    kl_per_dim,
    nearest_codes,
    traversal_latents,
)
from vae_core.models import VAE


def _model(likelihood: str = "gaussian", latent_dim: int = 3) -> VAE:
    torch.manual_seed(0)
    config = ModelConfig(image_shape=(1, 8, 8), arch="mlp", hidden=(16,), latent_dim=latent_dim,
                         likelihood=likelihood)
    return VAE(config).eval()


def _images(n: int = 5) -> torch.Tensor:
    return torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(1))


def test_encode_images_matches_the_model_and_ignores_batching():
    model, x = _model(), _images(5)
    whole, batched = encode_images(model, x), encode_images(model, x.numpy(), batch_size=2)
    posterior = model.encode(x)
    assert whole.mean.shape == whole.std.shape == (5, 3)
    np.testing.assert_allclose(whole.mean, posterior.mean.detach().numpy(), atol=1e-6)
    np.testing.assert_allclose(whole.std, posterior.stddev.detach().numpy(), atol=1e-6)
    np.testing.assert_allclose(batched.mean, whole.mean, atol=1e-6)
    np.testing.assert_allclose(batched.std, whole.std, atol=1e-6)


def test_decode_mean_shapes_and_range():
    images = decode_mean(_model(), np.zeros((4, 3)))
    assert images.shape == (4, 1, 8, 8)
    assert images.min() >= 0.0 and images.max() <= 1.0


def test_decode_distribution_mean_std_and_seeded_samples_for_a_gaussian():
    model, z = _model("gaussian"), np.array([0.5, -1.0, 0.2])
    mean, std, samples = decode_distribution(model, z, n_samples=3, seed=7)
    np.testing.assert_allclose(mean, decode_mean(model, z[None])[0], atol=1e-6)
    assert std.shape == mean.shape == (1, 8, 8) and (std > 0).all()
    assert samples.shape == (3, 1, 8, 8)
    assert not np.allclose(samples[0], samples[1])  # independent draws
    np.testing.assert_array_equal(samples, decode_distribution(model, z, 3, seed=7)[2])
    assert not np.array_equal(samples, decode_distribution(model, z, 3, seed=8)[2])


def test_decode_distribution_of_a_bernoulli_gives_binary_samples():
    mean, std, samples = decode_distribution(_model("bernoulli"), np.zeros(3), n_samples=4)
    assert set(np.unique(samples)) <= {0.0, 1.0}
    np.testing.assert_allclose(std, np.sqrt(mean * (1 - mean)), atol=1e-6)


def test_decode_distribution_without_samples_returns_an_empty_stack():
    assert decode_distribution(_model(), np.zeros(3))[2].shape == (0, 1, 8, 8)


def test_decode_distribution_fixed_std_is_constant():
    _, std, _ = decode_distribution(_model("gaussian_fixed"), np.zeros(3))
    np.testing.assert_allclose(std, 0.1, rtol=1e-5)


def test_kl_per_dim_is_the_average_closed_form_kl():
    model, x = _model(), _images(7)
    expected = model.encode(x).kl_per_dim().mean(dim=0).detach().numpy()
    kl = kl_per_dim(model, x, batch_size=3)
    assert kl.shape == (3,) and (kl >= 0).all()
    np.testing.assert_allclose(kl, expected, rtol=1e-5)


def test_traversal_latents_sets_only_the_chosen_dimension():
    grid = traversal_latents(np.array([1.0, 2.0, 3.0]), dim=1, values=np.array([-3.0, 0.0, 3.0]))
    np.testing.assert_array_equal(grid, [[1, -3, 3], [1, 0, 3], [1, 3, 3]])


def test_interpolate_linear_and_spherical_end_at_the_endpoints():
    z0, z1 = np.array([1.0, 0.0]), np.array([0.0, 2.0])
    for mode in ("linear", "spherical"):
        path = interpolate(z0, z1, 5, mode)
        assert path.shape == (5, 2)
        np.testing.assert_allclose(path[0], z0, atol=1e-6)
        np.testing.assert_allclose(path[-1], z1, atol=1e-6)
    np.testing.assert_allclose(interpolate(z0, z1, 3)[1], [0.5, 1.0])
    # Slerp between equal-norm vectors keeps the norm; lerp cuts the corner.
    unit = interpolate(np.array([1.0, 0.0]), np.array([0.0, 1.0]), 5, "spherical")
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0, atol=1e-6)


def test_interpolate_spherical_between_parallel_vectors_falls_back_to_linear():
    path = interpolate(np.array([1.0, 1.0]), np.array([2.0, 2.0]), 3, "spherical")
    np.testing.assert_allclose(path[1], [1.5, 1.5], atol=1e-6)


def test_interpolate_rejects_an_unknown_mode():
    with pytest.raises(ValueError, match="spherical"):
        interpolate(np.zeros(2), np.ones(2), 3, "cubic")


def test_nearest_codes_are_the_closest_in_order():
    codes = np.array([[0.0, 0.0], [5.0, 5.0], [1.0, 0.0], [0.0, -2.0], [3.0, 0.0]])
    assert nearest_codes(codes, np.array([0.9, 0.0]), 3).tolist() == [2, 0, 4]  # 2.1 < 2.19
    assert nearest_codes(codes, np.array([5.0, 5.0]), 1).tolist() == [1]
    assert nearest_codes(codes, np.zeros(2), 10).tolist() == [0, 2, 3, 4, 1]
