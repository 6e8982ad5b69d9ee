"""The two model kinds: the VAE (encode(x) -> q(z|x), prior N(0, I)) and a plain autoencoder
(encode(x) -> one code). Both decode z -> p(x|z) with the same networks and likelihood head."""

from __future__ import annotations

import torch
from torch import nn

from ..config import ModelConfig
from ..distributions import DiagonalGaussian, Likelihood, PointCode
from .conv import ConvDecoder, ConvEncoder
from .heads import Head, likelihood_head
from .mlp import MLPDecoder, MLPEncoder

LOG_VAR_MIN, LOG_VAR_MAX = -30.0, 20.0


def _build_networks(config: ModelConfig, n_params: int, stats: int) -> tuple[nn.Module, nn.Module]:
    """Encoder (`stats` outputs per latent dimension) and decoder (`n_params` raw outputs per
    pixel and channel)."""
    shape, hidden, latent = config.image_shape, config.hidden, config.latent_dim
    if config.arch == "mlp":
        return (MLPEncoder(shape, hidden, latent, stats),
                MLPDecoder(shape, hidden, latent, n_params))
    return (
        ConvEncoder(shape, hidden, latent, config.dense, stats),
        ConvDecoder(shape, hidden, latent, config.dense, n_params),
    )


class LatentModel(nn.Module):
    """What both kinds share: the decoder, its likelihood head and N(0, I) draws of z."""

    is_variational: bool
    encoder_stats: int  # encoder outputs per latent dimension

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.likelihood_head: Head = likelihood_head(config)
        self.encoder, self.decoder = _build_networks(config, self.likelihood_head.n_params,
                                                     self.encoder_stats)

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def decode(self, z: torch.Tensor) -> Likelihood:
        """z (B, D) -> p(x|z) over (B, C, H, W) images."""
        return self.likelihood_head(self.decoder(z))

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None):
        """One (reparameterized) pass: (the encoder's output, z, p(x|z))."""
        posterior = self.encode(x)
        z = posterior.rsample(generator)
        return posterior, z, self.decode(z)

    def sample_prior(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n latent vectors z ~ N(0, I), (n, D), on the model's device. For a VAE this is its
        prior; an autoencoder has none, and these are points it was never trained to decode."""
        device = next(self.parameters()).device
        return torch.randn(n, self.latent_dim, generator=generator, device=device)


class VAE(LatentModel):
    """Kingma & Welling's VAE with a choice of network and decoder likelihood."""

    is_variational = True
    encoder_stats = 2  # mean and log-variance

    def encode(self, x: torch.Tensor) -> DiagonalGaussian:
        """x (B, C, H, W) in [0, 1] -> q(z|x) with (B, D) parameters."""
        mean, log_var = self.encoder(x).chunk(2, dim=1)
        # exp(log_var) overflows float32 above ~88 and a std of e^-15 is already a point:
        # the clamp keeps a diverging encoder finite (diffusers' VAE does the same).
        return DiagonalGaussian(mean, log_var.clamp(LOG_VAR_MIN, LOG_VAR_MAX))


class Autoencoder(LatentModel):
    """A plain autoencoder: the VAE's networks, but the encoder gives one code per input and
    nothing ties the codes to a prior (no KL term), so N(0, I) draws need not decode to data."""

    is_variational = False
    encoder_stats = 1  # the code itself

    def encode(self, x: torch.Tensor) -> PointCode:
        """x (B, C, H, W) in [0, 1] -> its code, (B, D), as a point mass."""
        return PointCode(self.encoder(x))


def build_model(config: ModelConfig) -> LatentModel:
    """The model `config.kind` names, untrained."""
    return VAE(config) if config.is_variational else Autoencoder(config)
