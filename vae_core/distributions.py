"""The distributions a VAE is made of: the diagonal Gaussian posterior and the decoder likelihoods.

Every log-density here is summed over an example's dimensions, so it is in nats per example:
(B, ...) parameters give (B,) log-probs. One protocol for all likelihoods keeps the loss, the
importance-weighted bound and the app's sampling code free of `if likelihood == ...` branches.
"""

from __future__ import annotations

import functools
import math
from typing import Protocol

import torch
import torch.nn.functional as F

LOG_2PI = math.log(2.0 * math.pi)


def _sum_per_example(values: torch.Tensor) -> torch.Tensor:
    """(B, ...) -> (B,): sum everything but the batch axis."""
    return values.flatten(start_dim=1).sum(dim=1)


def _normal_log_density(x: torch.Tensor, mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    return -0.5 * (LOG_2PI + log_var + (x - mean) ** 2 * torch.exp(-log_var))


class DiagonalGaussian:
    """q(z|x) = N(mean, diag(exp(log_var))), parameters of shape (B, D)."""

    def __init__(self, mean: torch.Tensor, log_var: torch.Tensor) -> None:
        self.mean = mean
        self.log_var = log_var

    @property
    def stddev(self) -> torch.Tensor:
        return torch.exp(0.5 * self.log_var)

    def mode(self) -> torch.Tensor:
        return self.mean

    def reparameterize(self, eps: torch.Tensor) -> torch.Tensor:
        """z = mean + sigma * eps for given eps ~ N(0, I) (any shape that broadcasts to (..., D)).

        The reparameterization trick (Kingma & Welling, 2014, section 2.4): z is differentiable
        in mean and log_var. rsample draws eps itself; a caller that shows eps passes its own.
        """
        return self.mean + self.stddev * eps

    def rsample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """z = mean + sigma * eps, eps ~ N(0, I): differentiable in mean and log_var."""
        return self.reparameterize(self._standard_normal(self.mean.shape, generator))

    def rsample_n(self, k: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """k samples per example: (k, B, D)."""
        return self.reparameterize(self._standard_normal((k, *self.mean.shape), generator))

    def _standard_normal(self, shape, generator: torch.Generator | None) -> torch.Tensor:
        return torch.randn(
            shape, generator=generator, device=self.mean.device, dtype=self.mean.dtype
        )

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log q(z|x) summed over D; z is (..., B, D), the result (..., B)."""
        return _normal_log_density(z, self.mean, self.log_var).sum(dim=-1)

    def pairwise_log_density(self, z: torch.Tensor) -> torch.Tensor:
        """log q(z_i,d | x_j) for every sample i, example j and dimension d: z (B, D) gives
        (B, B, D). What a minibatch estimate of the aggregate posterior q(z) is made of."""
        return _normal_log_density(z.unsqueeze(1), self.mean.unsqueeze(0),
                                   self.log_var.unsqueeze(0))

    def kl_per_dim(self) -> torch.Tensor:
        """KL(q || N(0, I)) per latent dimension, (B, D).

        Closed form from Kingma & Welling (2014), appendix B:
        -1/2 * (1 + log sigma^2 - mu^2 - sigma^2).
        """
        return -0.5 * (1.0 + self.log_var - self.mean**2 - torch.exp(self.log_var))

    def kl(self) -> torch.Tensor:
        """KL(q || N(0, I)) in nats per example, (B,)."""
        return self.kl_per_dim().sum(dim=-1)


class PointCode:
    """An autoencoder's encoder output: one code per input, a point mass at `mean`, (B, D).

    It offers DiagonalGaussian's sampling interface (every draw is the code; its std is 0), so
    the code that encodes and decodes serves both kinds. It has no density: there is no
    log q(z|x) and no KL to a prior, and asking for either raises NotApplicable.
    """

    def __init__(self, mean: torch.Tensor) -> None:
        self.mean = mean

    @property
    def stddev(self) -> torch.Tensor:
        return torch.zeros_like(self.mean)

    def mode(self) -> torch.Tensor:
        return self.mean

    def rsample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.mean

    def rsample_n(self, k: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.mean.expand(k, *self.mean.shape)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        raise NotApplicable("a plain autoencoder's code has no density log q(z|x)")

    def kl_per_dim(self) -> torch.Tensor:
        raise NotApplicable("a plain autoencoder has no posterior, so no KL to the prior")

    def kl(self) -> torch.Tensor:
        return self.kl_per_dim()


class NotApplicable(ValueError):
    """A figure that does not exist for this kind of model (a KL or log p(x) of an autoencoder)."""


def standard_normal_log_prob(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I) summed over the last axis."""
    return (-0.5 * (LOG_2PI + z**2)).sum(dim=-1)


class Likelihood(Protocol):
    """p(x|z) for a batch: parameters (B, C, H, W); log_prob gives nats per image (B,)."""

    mean: torch.Tensor

    @property
    def stddev(self) -> torch.Tensor: ...

    def log_prob(self, x: torch.Tensor) -> torch.Tensor: ...

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor: ...


class GaussianLikelihood:
    """Per-pixel Gaussian N(loc, std^2) with its own std (learned or fixed); log_prob is the
    continuous density. `mean` is the image it stands for: loc within the pixel range [0, 1]
    (an unbounded loc may step outside it), as samples are clipped by `sample(..., clip=True)`.
    """

    def __init__(self, loc: torch.Tensor, log_std: torch.Tensor) -> None:
        self.loc = loc
        self.log_std = log_std.expand_as(loc)

    @property
    def mean(self) -> torch.Tensor:
        return self.loc.clamp(0.0, 1.0)

    @property
    def stddev(self) -> torch.Tensor:
        return torch.exp(self.log_std)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return _sum_per_example(_normal_log_density(x, self.loc, 2.0 * self.log_std))

    def sample(self, generator: torch.Generator | None = None, clip: bool = True) -> torch.Tensor:
        eps = torch.randn(
            self.loc.shape, generator=generator, device=self.loc.device, dtype=self.loc.dtype
        )
        x = self.loc + self.stddev * eps
        return x.clamp(0.0, 1.0) if clip else x


class BernoulliLikelihood:
    """Per-pixel Bernoulli parameterised by logits; for images in [0, 1] the log-prob is the
    (negative) binary cross-entropy, as in pytorch/examples' VAE."""

    def __init__(self, logits: torch.Tensor) -> None:
        self.logits = logits

    @functools.cached_property
    def mean(self) -> torch.Tensor:
        """Pixel probabilities; computed on first use (training needs only the logits)."""
        return torch.sigmoid(self.logits)

    @property
    def stddev(self) -> torch.Tensor:
        return torch.sqrt(self.mean * (1.0 - self.mean))

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        bce = F.binary_cross_entropy_with_logits(self.logits, x, reduction="none")
        return -_sum_per_example(bce)

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.bernoulli(self.mean, generator=generator)


class MeanImage:
    """A decoder that gives only the image it means (an imported model whose output is a mean
    in [0, 1], or a tanh in [-1, 1] mapped there): p(x|z) is not named, so there is no density
    and no spread. Draws are the mean itself; log_prob raises NotApplicable."""

    def __init__(self, mean: torch.Tensor) -> None:
        self.mean = mean

    @property
    def stddev(self) -> torch.Tensor:
        return torch.zeros_like(self.mean)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        raise NotApplicable("this model's decoder gives a mean image and names no likelihood "
                            "p(x|z), so there is no log-density")

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.mean
