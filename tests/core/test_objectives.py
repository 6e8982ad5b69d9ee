import dataclasses
import math

import pytest
import torch

from vae_core.config import ConfigError, ModelConfig, TrainConfig
from vae_core.distributions import DiagonalGaussian, GaussianLikelihood
from vae_core.models import VAE
from vae_core.objectives import (
    elbo_terms,
    iwae_log_px,
    kl_weight,
    penalty_weights,
    total_correlation,
)


def test_loss_falls_when_overfitting_one_batch():
    torch.manual_seed(0)
    model = VAE(ModelConfig(image_shape=(1, 8, 8), arch="mlp", hidden=(64,), latent_dim=4))
    x = (torch.rand(16, 1, 8, 8, generator=torch.Generator().manual_seed(0)) > 0.5).float()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(200):
        loss = elbo_terms(model, x).loss.mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert sum(losses[-10:]) / 10 < 0.7 * sum(losses[:10]) / 10


def test_beta_only_scales_the_loss():
    model = VAE(ModelConfig(image_shape=(1, 8, 8), arch="mlp", hidden=(16,), latent_dim=3))
    x = torch.rand(5, 1, 8, 8)
    plain = elbo_terms(model, x, generator=torch.Generator().manual_seed(0))
    weighted = elbo_terms(model, x, kl_scale=4.0, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(plain.loss, plain.neg_elbo)
    torch.testing.assert_close(weighted.loss, weighted.recon + 4.0 * weighted.kl)
    torch.testing.assert_close(weighted.neg_elbo, plain.neg_elbo)


def test_free_bits_hold_the_penalty_at_the_floor_for_unused_dimensions():
    model = VAE(ModelConfig(image_shape=(1, 8, 8), arch="mlp", hidden=(16,), latent_dim=3))
    x = torch.rand(5, 1, 8, 8)
    with torch.no_grad():
        model.encoder.net[-1].weight.zero_()
        model.encoder.net[-1].bias.zero_()  # q(z|x) = prior: KL is 0 in every dimension
    terms = elbo_terms(model, x, free_bits=0.5)
    assert torch.allclose(terms.kl, torch.zeros(5), atol=1e-6)
    torch.testing.assert_close(terms.loss, terms.recon + 1.5)


def _fixed_posterior(model: VAE, mean: torch.Tensor) -> None:
    """Make q(z|x) = N(mean, I) for the batch, whatever x is."""
    model.encode = lambda x: DiagonalGaussian(mean, torch.zeros_like(mean))


def test_free_bits_clamp_each_dimensions_batch_mean_kl_not_the_total_or_each_example():
    model = VAE(ModelConfig(image_shape=(1, 8, 8), arch="mlp", hidden=(16,), latent_dim=3))
    # KL per (example, dimension) = mean^2 / 2: [[2, 0, 0], [2, 0.8, 0]]; batch means [2, 0.4, 0].
    _fixed_posterior(model, torch.tensor([[2.0, 0.0, 0.0], [2.0, 1.6**0.5, 0.0]]))
    x = torch.rand(2, 1, 8, 8)
    terms = elbo_terms(model, x, free_bits=0.5)
    torch.testing.assert_close(terms.kl, torch.tensor([2.0, 2.8]))
    # Floor 0.5 per dimension: 2 (above) + 0.5 (0.4 raised) + 0.5 (0 raised) = 3.0. Clamping
    # the total would give 2.4, clamping per example 3.15.
    torch.testing.assert_close(terms.loss - terms.recon, torch.full((2,), 3.0))
    assert (terms.neg_elbo < terms.loss).all()  # the reported -ELBO is not floored


def test_warmup_ramps_linearly_to_beta():
    assert kl_weight(2.0, 0, 0.0) == 2.0
    assert kl_weight(2.0, 4, 0.0) == 0.0
    assert kl_weight(2.0, 4, 1.0) == 0.5
    assert kl_weight(2.0, 4, 10.0) == 2.0


class LinearGaussianModel:
    """p(z) = N(0, I), p(x|z) = N(Wz + b, s^2 I): log p(x) = log N(x; b, W W^T + s^2 I)."""

    def __init__(self, latent: int, observed: int, seed: int = 0):
        gen = torch.Generator().manual_seed(seed)
        self.W = torch.randn(observed, latent, generator=gen) * 0.8
        self.b = torch.randn(observed, generator=gen) * 0.3
        self.log_s = math.log(0.5)

    def exact_log_px(self, x):
        cov = self.W @ self.W.T + math.exp(2 * self.log_s) * torch.eye(self.W.shape[0])
        return torch.distributions.MultivariateNormal(self.b, cov).log_prob(x.flatten(1))

    def encode(self, x):
        # A deliberately imperfect q(z|x): the exact posterior mean, too wide a variance.
        s2 = math.exp(2 * self.log_s)
        precision = self.W.T @ self.W / s2 + torch.eye(self.W.shape[1])
        cov = torch.linalg.inv(precision)
        mean = (x.flatten(1) - self.b) @ self.W @ cov.T / s2
        return DiagonalGaussian(mean, torch.log(torch.diagonal(cov) * 2.0).expand_as(mean))

    def decode(self, z):
        mean = (z @ self.W.T + self.b).view(-1, 1, 1, self.W.shape[0])
        return GaussianLikelihood(mean, torch.full_like(mean, self.log_s))

    def __call__(self, x, generator=None):
        posterior = self.encode(x)
        z = posterior.rsample(generator)
        return posterior, z, self.decode(z)

    def exact_neg_elbo(self, x):
        """-ELBO in closed form: -E_q[log p(x|z)] + KL(q || N(0, I)) for Gaussian q and p(x|z)."""
        q = self.encode(x)
        s2, var = math.exp(2 * self.log_s), q.log_var.exp()
        residual = x.flatten(1) - q.mean @ self.W.T - self.b
        spread = (self.W**2 @ var.T).T.sum(1)  # tr(W diag(var) W^T)
        observed = self.W.shape[0]
        expected_log_lik = (-0.5 * observed * math.log(2 * math.pi * s2)
                            - ((residual**2).sum(1) + spread) / (2 * s2))
        kl = 0.5 * (var + q.mean**2 - 1 - q.log_var).sum(1)
        return -expected_log_lik + kl


def test_the_neg_elbo_estimate_matches_its_closed_form_and_bounds_the_likelihood():
    model = LinearGaussianModel(latent=2, observed=5)
    x = torch.randn(3, 1, 1, 5, generator=torch.Generator().manual_seed(4))
    draws = 20_000
    terms = elbo_terms(model, x.repeat(draws, 1, 1, 1), generator=torch.Generator().manual_seed(5))
    estimate = terms.neg_elbo.view(draws, 3)
    stderr = estimate.std(0) / draws**0.5
    exact = model.exact_neg_elbo(x)
    assert ((estimate.mean(0) - exact).abs() < 4 * stderr).all()
    assert (exact > -model.exact_log_px(x)).all()  # -ELBO lies above -log p(x)


def test_iwae_converges_to_the_exact_log_likelihood_and_bounds_the_elbo():
    model = LinearGaussianModel(latent=2, observed=5)
    x = torch.randn(6, 1, 1, 5, generator=torch.Generator().manual_seed(1))
    exact = model.exact_log_px(x)
    gen = torch.Generator().manual_seed(2)
    elbo = iwae_log_px(model, x, 1, gen)  # k = 1 is a one-sample ELBO
    k1 = torch.stack([iwae_log_px(model, x, 1, gen) for _ in range(200)]).mean(0)
    k5000 = iwae_log_px(model, x, 5000, gen)
    assert elbo.shape == (6,)
    assert (exact - k5000).abs().max() < 0.05
    assert (k5000 >= k1).all()
    assert (exact - k1).mean() > 0.1  # the gap KL(q || p(z|x)) is real for this q


def test_iwae_chunking_does_not_change_the_estimate():
    model = LinearGaussianModel(latent=2, observed=4)
    x = torch.randn(3, 1, 1, 4, generator=torch.Generator().manual_seed(3))
    one = iwae_log_px(model, x, 300, torch.Generator().manual_seed(0), chunk=300)
    chunked = iwae_log_px(model, x, 300, torch.Generator().manual_seed(0), chunk=7)
    assert (one - chunked).abs().max() < 0.2  # different draws, the same estimate
    many = iwae_log_px(model, x, 300, torch.Generator().manual_seed(0), chunk=300)
    torch.testing.assert_close(one, many)


def test_total_correlation_matches_a_loop_over_samples_and_examples():
    generator = torch.Generator().manual_seed(0)
    posterior = DiagonalGaussian(torch.randn(6, 3, generator=generator),
                                 torch.randn(6, 3, generator=generator) * 0.5)
    z = posterior.rsample(generator)
    expected = []
    for i in range(6):
        joint = [torch.distributions.Normal(posterior.mean[j], posterior.stddev[j]).log_prob(z[i])
                 for j in range(6)]  # (D,) each: log q(z_i,d | x_j)
        joint = torch.stack(joint)  # (B, D)
        log_qz = torch.logsumexp(joint.sum(dim=1), dim=0) - math.log(6)
        log_qz_dims = (torch.logsumexp(joint, dim=0) - math.log(6)).sum()
        expected.append(log_qz - log_qz_dims)
    torch.testing.assert_close(total_correlation(posterior, z), torch.stack(expected))


def test_total_correlation_is_zero_when_every_posterior_is_the_same():
    # q(z) is then one diagonal Gaussian: exactly the product of its marginals.
    posterior = DiagonalGaussian(torch.tensor([[0.5, -1.0]]).repeat(8, 1), torch.zeros(8, 2))
    z = posterior.rsample(torch.Generator().manual_seed(0))
    torch.testing.assert_close(total_correlation(posterior, z), torch.zeros(8))


def test_total_correlation_is_larger_for_tied_dimensions_than_for_a_factorial_grid():
    levels = torch.linspace(-2, 2, 4)
    log_var = torch.full((16, 2), math.log(0.01))
    grid = torch.cartesian_prod(levels, levels)  # z1 and z2 independent across the batch
    tied = levels.repeat_interleave(4).unsqueeze(1).repeat(1, 2)  # z2 = z1
    tc = {name: total_correlation(DiagonalGaussian(mean, log_var), mean).mean().item()
          for name, mean in (("grid", grid), ("tied", tied))}
    assert tc["tied"] > tc["grid"] + 1.0


def test_tc_scale_adds_the_total_correlation_to_the_loss_only():
    model = VAE(ModelConfig(image_shape=(1, 8, 8), arch="mlp", hidden=(16,), latent_dim=3))
    x = torch.rand(5, 1, 8, 8)
    plain = elbo_terms(model, x, generator=torch.Generator().manual_seed(0))
    weighted = elbo_terms(model, x, tc_scale=3.0, generator=torch.Generator().manual_seed(0))
    posterior, z, _ = model(x, torch.Generator().manual_seed(0))
    torch.testing.assert_close(weighted.loss, plain.loss + 3.0 * total_correlation(posterior, z))
    torch.testing.assert_close(weighted.neg_elbo, plain.neg_elbo)


def test_beta_tcvae_weighs_the_total_correlation_with_beta_and_the_kl_with_one():
    elbo = TrainConfig(beta=4.0, warmup_epochs=2)
    tcvae = dataclasses.replace(elbo, objective="beta_tcvae")
    assert penalty_weights(elbo, 1.0) == (2.0, 0.0)
    assert penalty_weights(tcvae, 1.0) == (0.5, 1.5)
    assert penalty_weights(tcvae, 5.0) == (1.0, 3.0)
    # beta 1: both objectives are the ELBO.
    assert penalty_weights(dataclasses.replace(tcvae, beta=1.0), 5.0) == (1.0, 0.0)


def test_an_unknown_objective_is_refused_by_name():
    with pytest.raises(ConfigError, match="objective must be one of"):
        TrainConfig(objective="factor_vae")
