"""How well a model gives its images back, comparable across model kinds.

Both kinds are scored at their single best guess of z, the posterior mean (a VAE) or the code
(a plain autoencoder), so the figure measures the decoder and the encoder, not sampling noise.
The nats are of the data the likelihood models, as in vae_core.evaluation (binarized pixels for
Bernoulli models, dequantized 8-bit ones otherwise); the squared error is of the grey images.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .discretization import evaluation_copy, offset_nats
from .models import LatentModel


@dataclass(frozen=True)
class ReconstructionError:
    nats: float  # -log p(x|z) at z = the mode, nats per (discretized) image
    mse: float  # mean squared error of the decoder mean, per pixel (images in [0, 1])
    n_images: int


@torch.no_grad()
def reconstruction_error(model: LatentModel, x: torch.Tensor,
                         batch_size: int = 500) -> ReconstructionError:
    """Average reconstruction error over images x (N, C, H, W) in [0, 1]."""
    device = next(model.parameters()).device
    kind = model.config.likelihood
    discrete = evaluation_copy(x, kind)
    nats = squared = 0.0
    for start in range(0, x.shape[0], batch_size):
        batch, data = (t[start : start + batch_size].to(device) for t in (x, discrete))
        nats += -model.decode(model.encode(data).mode()).log_prob(data).sum().item()
        mean = model.decode(model.encode(batch).mode()).mean  # what the pages show
        squared += ((mean - batch) ** 2).mean(dim=(1, 2, 3)).sum().item()
    n = max(x.shape[0], 1)
    offset = offset_nats(kind, x[0].numel()) if x.shape[0] else 0.0
    return ReconstructionError(nats / n + offset, squared / n, x.shape[0])
