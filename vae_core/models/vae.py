"""The VAE: encode(x) -> q(z|x), decode(z) -> p(x|z), prior N(0, I)."""

from __future__ import annotations

import math

import torch
from torch import nn

from ..config import ModelConfig
from ..distributions import BernoulliLikelihood, DiagonalGaussian, GaussianLikelihood, Likelihood
from .conv import ConvDecoder, ConvEncoder
from .mlp import MLPDecoder, MLPEncoder

# Raw decoder outputs per pixel: Gaussian with learned std needs a mean and a std.
_PARAMS_PER_PIXEL = {"gaussian": 2, "gaussian_fixed": 1, "bernoulli": 1}


def _build_networks(config: ModelConfig) -> tuple[nn.Module, nn.Module]:
    n_params = _PARAMS_PER_PIXEL[config.likelihood]
    shape, hidden, latent = config.image_shape, config.hidden, config.latent_dim
    if config.arch == "mlp":
        return MLPEncoder(shape, hidden, latent), MLPDecoder(shape, hidden, latent, n_params)
    return (
        ConvEncoder(shape, hidden, latent, config.dense),
        ConvDecoder(shape, hidden, latent, config.dense, n_params),
    )


class VAE(nn.Module):
    """Kingma & Welling's VAE with a choice of network and decoder likelihood."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder, self.decoder = _build_networks(config)
        self._log_min_std = math.log(config.min_std)
        self._log_std_range = math.log(config.max_std) - self._log_min_std

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def encode(self, x: torch.Tensor) -> DiagonalGaussian:
        """x (B, C, H, W) in [0, 1] -> q(z|x) with (B, D) parameters."""
        mean, log_var = self.encoder(x).chunk(2, dim=1)
        return DiagonalGaussian(mean, log_var)

    def decode(self, z: torch.Tensor) -> Likelihood:
        """z (B, D) -> p(x|z) over (B, C, H, W) images."""
        raw = self.decoder(z)
        likelihood = self.config.likelihood
        if likelihood == "bernoulli":
            return BernoulliLikelihood(raw)
        if likelihood == "gaussian_fixed":
            log_std = torch.full_like(raw, math.log(self.config.fixed_std))
            return GaussianLikelihood(torch.sigmoid(raw), log_std)
        mean_raw, std_raw = raw.chunk(2, dim=1)
        # A bounded std keeps the density finite on constant pixels (an all-black border).
        log_std = self._log_min_std + self._log_std_range * torch.sigmoid(std_raw)
        return GaussianLikelihood(torch.sigmoid(mean_raw), log_std)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None):
        """One reparameterized pass: (q(z|x), z, p(x|z))."""
        posterior = self.encode(x)
        z = posterior.rsample(generator)
        return posterior, z, self.decode(z)

    def sample_prior(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n latent vectors z ~ N(0, I), (n, D), on the model's device."""
        device = next(self.parameters()).device
        return torch.randn(n, self.latent_dim, generator=generator, device=device)
