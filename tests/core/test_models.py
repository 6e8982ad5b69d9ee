import itertools

import pytest
import torch

from vae_core.config import ConfigError, ModelConfig, model_config_from_dict, to_dict
from vae_core.models import VAE
from vae_core.models.heads import likelihood_head

SHAPES = [(1, 28, 28), (1, 8, 8), (3, 32, 32), (1, 7, 13)]
ARCHS = [("mlp", (64,)), ("conv", (8, 16))]
LIKELIHOODS = ["gaussian", "gaussian_fixed", "bernoulli"]


@pytest.mark.parametrize(
    "shape,arch,likelihood",
    [(s, a, lik) for s, a, lik in itertools.product(SHAPES, ARCHS, LIKELIHOODS)],
)
def test_shapes_for_every_architecture_and_likelihood(shape, arch, likelihood):
    name, hidden = arch
    model = VAE(ModelConfig(image_shape=shape, arch=name, hidden=hidden, latent_dim=5,
                            likelihood=likelihood))
    x = torch.rand(3, *shape)
    posterior, z, p = model(x)
    assert posterior.mean.shape == (3, 5) and z.shape == (3, 5)
    assert p.mean.shape == x.shape and p.stddev.shape == x.shape
    assert p.sample().shape == x.shape
    assert p.log_prob(x).shape == (3,)
    assert ((p.mean >= 0) & (p.mean <= 1)).all()


def test_pytorch_examples_baseline_shape_is_expressible_exactly():
    model = VAE(ModelConfig(arch="mlp", hidden=(400,), latent_dim=20, likelihood="bernoulli"))
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    linear_shapes = [tuple(m.weight.shape) for m in linears]
    # fc1 784->400, fc21+fc22 400->2x20 (one layer), fc3 20->400, fc4 400->784
    assert linear_shapes == [(400, 784), (40, 400), (400, 20), (784, 400)]
    assert sum(p.numel() for p in model.parameters()) == 652_824


def test_learned_std_is_bounded_and_finite_on_constant_images():
    config = ModelConfig(arch="mlp", hidden=(32,), latent_dim=2, likelihood="gaussian",
                         min_std=0.01, max_std=1.0)
    model = VAE(config)
    with torch.no_grad():
        for param in model.decoder.parameters():
            param.mul_(1000.0)  # push the std head to its extremes
    x = torch.zeros(4, 1, 28, 28)  # a constant (all-black) image
    p = model.decode(model.encode(x).mode())
    assert (p.stddev >= 0.01 - 1e-6).all() and (p.stddev <= 1.0 + 1e-6).all()
    assert torch.isfinite(p.log_prob(x)).all()


def test_prior_samples_have_latent_shape():
    model = VAE(ModelConfig(latent_dim=4))
    z = model.sample_prior(6, torch.Generator().manual_seed(0))
    assert z.shape == (6, 4)


def test_an_encoder_log_variance_out_of_range_is_clamped_to_a_finite_posterior():
    from vae_core.models.vae import LOG_VAR_MAX, LOG_VAR_MIN

    model = VAE(ModelConfig(arch="mlp", hidden=(4,), latent_dim=2, image_shape=(1, 3, 3)))
    with torch.no_grad():
        model.encoder.net[-1].bias.copy_(torch.tensor([0.0, 0.0, 500.0, -500.0]))
        model.encoder.net[-1].weight.zero_()
        posterior = model.encode(torch.rand(2, 1, 3, 3))
    assert posterior.log_var.tolist() == [[LOG_VAR_MAX, LOG_VAR_MIN]] * 2
    assert torch.isfinite(posterior.kl()).all() and torch.isfinite(posterior.stddev).all()


def test_a_gaussian_config_from_before_the_mean_choice_keeps_its_sigmoid_mean():
    assert ModelConfig().gaussian_mean == "identity"
    new = to_dict(ModelConfig(likelihood="gaussian"))
    assert model_config_from_dict(new).gaussian_mean == "identity"
    del new["gaussian_mean"]
    old = model_config_from_dict(new)
    assert old.gaussian_mean == "sigmoid"
    raw = torch.full((1, 2, 2, 2), 3.0)
    torch.testing.assert_close(likelihood_head(old)(raw).mean, torch.sigmoid(raw[:, :1]))
    assert likelihood_head(ModelConfig(likelihood="gaussian"))(raw).mean.max() == 1.0
    with pytest.raises(ConfigError, match="gaussian_mean must be one of"):
        ModelConfig(gaussian_mean="tanh")
