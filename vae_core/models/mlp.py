"""Fully connected encoder and decoder; hidden=(400,), latent 20 is pytorch/examples' VAE."""

from __future__ import annotations

import itertools
import math

import torch
from torch import nn

from .ops import Op, Reshape, run_ops


def _mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers with ReLU between them, none after the last."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class MLPEncoder(nn.Module):
    """(B, C, H, W) -> (B, stats * latent_dim): a VAE's mean and log-variance side by side
    (stats=2), or an autoencoder's code (stats=1)."""

    def __init__(self, image_shape: tuple[int, int, int], hidden: tuple[int, ...], latent_dim: int,
                 stats: int = 2):
        super().__init__()
        self.net = _mlp([math.prod(image_shape), *hidden, stats * latent_dim])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(start_dim=1))


class MLPDecoder(nn.Module):
    """(B, latent_dim) -> (B, n_params * C, H, W): the likelihood's raw parameters."""

    def __init__(
        self, image_shape: tuple[int, int, int], hidden: tuple[int, ...], latent_dim: int,
        n_params: int,
    ):
        super().__init__()
        channels, height, width = image_shape
        self.out_shape = (n_params * channels, height, width)
        self.net = _mlp([latent_dim, *reversed(hidden), math.prod(self.out_shape)])

    def ops(self) -> list[Op]:
        """The layers forward() runs, in order (vae_core.decoder_export ships the same list)."""
        return [*self.net, Reshape(self.out_shape)]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return run_ops(self.ops(), z)
