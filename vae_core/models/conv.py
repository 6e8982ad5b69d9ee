"""Convolutional encoder and decoder for any image size and channel count.

Each stage halves the spatial size (kernel 4, stride 2, padding 1); the decoder mirrors the
encoder and passes the encoder's recorded sizes to its transposed convolutions, so odd sizes
(7x7, 3x3) come back exactly instead of being cropped or interpolated.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .ops import RELU, Op, Reshape, SizedConvTranspose2d, run_ops


def _stage_sizes(height: int, width: int, n_stages: int) -> list[tuple[int, int]]:
    """Spatial size before each stage and after the last: [(H, W), (H/2, W/2), ...]."""
    sizes = [(height, width)]
    for _ in range(n_stages):
        h, w = sizes[-1]
        sizes.append((max(h // 2, 1), max(w // 2, 1)))
    return sizes


def _usable_stages(height: int, width: int, wanted: int) -> int:
    """No more halvings than the image has room for (an 8x8 image takes at most 2)."""
    return max(1, min(wanted, int(math.log2(max(min(height, width), 2))) - 1))


class ConvEncoder(nn.Module):
    """(B, C, H, W) -> (B, stats * latent_dim): mean and log-variance (2) or a code (1)."""

    def __init__(
        self, image_shape: tuple[int, int, int], channels: tuple[int, ...], latent_dim: int,
        dense: int, stats: int = 2,
    ):
        super().__init__()
        in_channels, height, width = image_shape
        channels = channels[: _usable_stages(height, width, len(channels))]
        self.sizes = _stage_sizes(height, width, len(channels))
        layers: list[nn.Module] = []
        for c_in, c_out in zip((in_channels, *channels[:-1]), channels, strict=True):
            layers += [nn.Conv2d(c_in, c_out, 4, stride=2, padding=1), nn.ReLU()]
        self.features = nn.Sequential(*layers)
        h, w = self.sizes[-1]
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(channels[-1] * h * w, dense), nn.ReLU(),
            nn.Linear(dense, stats * latent_dim),
        )
        self.channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class ConvDecoder(nn.Module):
    """(B, latent_dim) -> (B, n_params * C, H, W), mirroring a ConvEncoder's shapes."""

    def __init__(
        self, image_shape: tuple[int, int, int], channels: tuple[int, ...], latent_dim: int,
        dense: int, n_params: int,
    ):
        super().__init__()
        out_channels, height, width = image_shape
        channels = channels[: _usable_stages(height, width, len(channels))]
        self.sizes = _stage_sizes(height, width, len(channels))
        h, w = self.sizes[-1]
        self.first_shape = (channels[-1], h, w)
        self.head = nn.Sequential(
            nn.Linear(latent_dim, dense), nn.ReLU(), nn.Linear(dense, math.prod(self.first_shape)),
            nn.ReLU(),
        )
        reversed_channels = tuple(reversed(channels))
        targets = (*reversed_channels[1:], n_params * out_channels)
        self.upsample = nn.ModuleList(
            nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1)
            for c_in, c_out in zip(reversed_channels, targets, strict=True)
        )

    def ops(self) -> list[Op]:
        """The layers forward() runs, in order (vae_core.decoder_export ships the same list)."""
        ops: list[Op] = [*self.head, Reshape(self.first_shape)]  # (B, C_last, h, w)
        out_sizes = list(reversed(self.sizes[:-1]))
        for i, (layer, size) in enumerate(zip(self.upsample, out_sizes, strict=True)):
            ops.append(SizedConvTranspose2d(layer, size))
            if i < len(self.upsample) - 1:
                ops.append(RELU)
        return ops

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return run_ops(self.ops(), z)
