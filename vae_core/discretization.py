"""What a likelihood is a likelihood of: binary images for Bernoulli, 8-bit images otherwise.

A Bernoulli density of a grey value in (0, 1) is not normalised, and a Gaussian density of
continuous pixels is a density, not a probability, so neither is -log p(x) of an image. The
figures become honest by fixing what x is:
- Bernoulli: binary pixels. Training draws x ~ Bernoulli(pixel) afresh for every batch (dynamic
  binarization); evaluation uses one binarized copy drawn with EVALUATION_SEED, so every figure
  is nats per binary image and repeats exactly.
- Continuous likelihoods (Gaussian): 8-bit pixels, uniformly dequantized, y = (v + u) / 256 with
  v in 0..255 and u ~ U[0, 1) (Theis et al. 2016). -log p(y) + D log 256 is then an upper bound
  on -log P(v) of the discrete 8-bit image, in nats per image; divided by D ln 2 it is bits/dim.
"""

from __future__ import annotations

import math

import torch

PIXEL_LEVELS = 256
EVALUATION_SEED = 0  # the one binarized / dequantized copy every evaluation uses


def is_binary_likelihood(likelihood: str) -> bool:
    return likelihood == "bernoulli"


def data_kind(likelihood: str) -> str:
    """How figures name their data: 'binarized' or 'dequantized 8-bit'."""
    return "binarized" if is_binary_likelihood(likelihood) else "dequantized 8-bit"


def discretize(x: torch.Tensor, likelihood: str,
               generator: torch.Generator | None = None) -> torch.Tensor:
    """One random draw of the data the likelihood models, from images x in [0, 1]."""
    if is_binary_likelihood(likelihood):
        return torch.bernoulli(x, generator=generator)
    levels = torch.round(x.clamp(0, 1) * (PIXEL_LEVELS - 1))
    noise = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return (levels + noise) / PIXEL_LEVELS


def evaluation_copy(x: torch.Tensor, likelihood: str) -> torch.Tensor:
    """The fixed draw evaluations use: the same images give the same copy on every device."""
    generator = torch.Generator().manual_seed(EVALUATION_SEED)
    return discretize(x.cpu(), likelihood, generator).to(x.device)


def offset_nats(likelihood: str, n_dims: int) -> float:
    """Nats to add to -log p(y) of dequantized data to get -log P of the 8-bit image (bound)."""
    return 0.0 if is_binary_likelihood(likelihood) else n_dims * math.log(PIXEL_LEVELS)


def bits_per_dim(nats_per_image: float, n_dims: int) -> float:
    return nats_per_image / (n_dims * math.log(2))
