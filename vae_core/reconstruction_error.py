"""How well a model gives its images back, comparable across model kinds.

Both kinds are scored at their single best guess of z, the posterior mean (a VAE) or the code
(a plain autoencoder), so the figure measures the decoder and the encoder, not sampling noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .models import LatentModel


@dataclass(frozen=True)
class ReconstructionError:
    nats: float  # -log p(x|z) at z = the mode, nats per image
    mse: float  # mean squared error of the decoder mean, per pixel (images in [0, 1])
    n_images: int


@torch.no_grad()
def reconstruction_error(model: LatentModel, x: torch.Tensor,
                         batch_size: int = 500) -> ReconstructionError:
    """Average reconstruction error over images x (N, C, H, W) in [0, 1]."""
    device = next(model.parameters()).device
    nats = squared = 0.0
    for start in range(0, x.shape[0], batch_size):
        batch = x[start : start + batch_size].to(device)
        likelihood = model.decode(model.encode(batch).mode())
        nats += -likelihood.log_prob(batch).sum().item()
        squared += ((likelihood.mean - batch) ** 2).mean(dim=(1, 2, 3)).sum().item()
    n = max(x.shape[0], 1)
    return ReconstructionError(nats / n, squared / n, x.shape[0])
