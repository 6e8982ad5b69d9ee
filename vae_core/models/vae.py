"""The VAE: encode(x) -> q(z|x), decode(z) -> p(x|z), prior N(0, I)."""

from __future__ import annotations

import torch
from torch import nn

from ..config import ModelConfig
from ..distributions import DiagonalGaussian, Likelihood
from .conv import ConvDecoder, ConvEncoder
from .heads import Head, likelihood_head
from .mlp import MLPDecoder, MLPEncoder

LOG_VAR_MIN, LOG_VAR_MAX = -30.0, 20.0


def _build_networks(config: ModelConfig, n_params: int) -> tuple[nn.Module, nn.Module]:
    """Encoder and decoder; the decoder gives `n_params` raw outputs per pixel and channel."""
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
        self.likelihood_head: Head = likelihood_head(config)
        self.encoder, self.decoder = _build_networks(config, self.likelihood_head.n_params)

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def encode(self, x: torch.Tensor) -> DiagonalGaussian:
        """x (B, C, H, W) in [0, 1] -> q(z|x) with (B, D) parameters."""
        mean, log_var = self.encoder(x).chunk(2, dim=1)
        # exp(log_var) overflows float32 above ~88 and a std of e^-15 is already a point:
        # the clamp keeps a diverging encoder finite (diffusers' VAE does the same).
        return DiagonalGaussian(mean, log_var.clamp(LOG_VAR_MIN, LOG_VAR_MAX))

    def decode(self, z: torch.Tensor) -> Likelihood:
        """z (B, D) -> p(x|z) over (B, C, H, W) images."""
        return self.likelihood_head(self.decoder(z))

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None):
        """One reparameterized pass: (q(z|x), z, p(x|z))."""
        posterior = self.encode(x)
        z = posterior.rsample(generator)
        return posterior, z, self.decode(z)

    def sample_prior(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n latent vectors z ~ N(0, I), (n, D), on the model's device."""
        device = next(self.parameters()).device
        return torch.randn(n, self.latent_dim, generator=generator, device=device)
