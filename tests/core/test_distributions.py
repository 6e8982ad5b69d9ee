import math

import pytest
import torch
from torch import distributions as td

from vae_core.distributions import (
    BernoulliLikelihood,
    DiagonalGaussian,
    GaussianLikelihood,
    standard_normal_log_prob,
)


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(0)


def test_posterior_log_prob_and_kl_match_torch(gen):
    mean, log_var = torch.randn(4, 3, generator=gen), torch.randn(4, 3, generator=gen)
    q = DiagonalGaussian(mean, log_var)
    reference = td.Independent(td.Normal(mean, torch.exp(0.5 * log_var)), 1)
    prior = td.Independent(td.Normal(torch.zeros(4, 3), torch.ones(4, 3)), 1)
    z = q.rsample(gen)
    torch.testing.assert_close(q.log_prob(z), reference.log_prob(z))
    torch.testing.assert_close(q.kl(), td.kl_divergence(reference, prior))
    torch.testing.assert_close(standard_normal_log_prob(z), prior.log_prob(z))


def test_kl_is_zero_when_posterior_equals_prior():
    q = DiagonalGaussian(torch.zeros(5, 7), torch.zeros(5, 7))
    assert torch.equal(q.kl(), torch.zeros(5))


def test_kl_is_positive_otherwise():
    q = DiagonalGaussian(torch.full((2, 3), 0.5), torch.full((2, 3), -1.0))
    assert (q.kl() > 0).all()


def test_reparameterized_samples_carry_gradients_and_follow_the_seed():
    mean = torch.zeros(2, 3, requires_grad=True)
    q = DiagonalGaussian(mean, torch.zeros(2, 3))
    z1 = q.rsample(torch.Generator().manual_seed(1))
    z2 = q.rsample(torch.Generator().manual_seed(1))
    assert torch.equal(z1, z2)
    z1.sum().backward()
    assert torch.equal(mean.grad, torch.ones(2, 3))


def test_rsample_n_statistics(gen):
    q = DiagonalGaussian(torch.tensor([[1.0, -2.0]]), torch.log(torch.tensor([[0.25, 4.0]])))
    z = q.rsample_n(20000, gen)  # (k, B, D)
    assert z.shape == (20000, 1, 2)
    torch.testing.assert_close(z.mean(0), q.mean, atol=0.05, rtol=0)
    torch.testing.assert_close(z.std(0), q.stddev, atol=0.05, rtol=0)


def test_gaussian_likelihood_matches_torch(gen):
    mean, log_std = torch.rand(3, 1, 4, 4, generator=gen), torch.randn(3, 1, 4, 4, generator=gen)
    x = torch.rand(3, 1, 4, 4, generator=gen)
    reference = td.Independent(td.Normal(mean, log_std.exp()), 3)
    torch.testing.assert_close(GaussianLikelihood(mean, log_std).log_prob(x), reference.log_prob(x))


def test_an_unbounded_gaussian_loc_is_the_density_and_its_mean_image_stays_in_range(gen):
    loc = torch.tensor([[[[-0.3, 0.4], [1.2, 0.9]]]])
    log_std = torch.full_like(loc, math.log(0.2))
    p = GaussianLikelihood(loc, log_std)
    torch.testing.assert_close(p.mean, torch.tensor([[[[0.0, 0.4], [1.0, 0.9]]]]))
    x = torch.rand(1, 1, 2, 2, generator=gen)
    reference = td.Independent(td.Normal(loc, 0.2), 3)
    torch.testing.assert_close(p.log_prob(x), reference.log_prob(x))


def test_bernoulli_likelihood_matches_torch(gen):
    logits = torch.randn(3, 2, 4, 4, generator=gen)
    x = torch.bernoulli(torch.full((3, 2, 4, 4), 0.5), generator=gen)
    reference = td.Independent(td.Bernoulli(logits=logits), 3)
    torch.testing.assert_close(BernoulliLikelihood(logits).log_prob(x), reference.log_prob(x))


def test_likelihood_samples_come_from_the_distribution_not_the_mean(gen):
    shape = (1, 1, 50, 50)
    p = GaussianLikelihood(torch.full(shape, 0.5), torch.full(shape, math.log(0.1)))
    sample = p.sample(gen)
    assert not torch.equal(sample, p.mean)
    assert abs(sample.std().item() - 0.1) < 0.02
    bern = BernoulliLikelihood(torch.zeros(1, 1, 50, 50))
    values = bern.sample(gen)
    assert set(values.unique().tolist()) == {0.0, 1.0}
