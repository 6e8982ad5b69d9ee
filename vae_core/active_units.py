"""Active units (Burda et al. 2016, "Importance Weighted Autoencoders", section 5.2).

Latent dimension j is active when Var_x(E_q[z_j | x]) > 0.01: its posterior mean moves with the
image. An inactive dimension's mean is the same for every image, so the decoder cannot read
anything from it. This replaces the earlier "average KL > 0.01 nats" count; the two mostly agree,
but a dimension can have KL > 0.01 from a posterior std below 1 while its mean never moves.
"""

from __future__ import annotations

import numpy as np
import torch

from .latent import encode_images
from .models import VAE

ACTIVE_UNIT_VARIANCE = 0.01


def posterior_mean_variance(codes: np.ndarray) -> np.ndarray:
    """Var over the images of each dimension's posterior mean; codes (N, D) -> (D,)."""
    return np.asarray(codes, dtype=np.float64).var(axis=0)


def active_units(codes: np.ndarray, threshold: float = ACTIVE_UNIT_VARIANCE) -> int:
    """How many dimensions have Var_x(E_q[z_j | x]) > threshold; codes (N, D)."""
    return count_active(posterior_mean_variance(codes), threshold)


def count_active(variance, threshold: float = ACTIVE_UNIT_VARIANCE) -> int:
    """Active units from stored per-dimension variances (D,)."""
    return int((np.asarray(variance) > threshold).sum())


def model_posterior_mean_variance(model: VAE, x: torch.Tensor, chunk: int = 500) -> list[float]:
    """Var_x(E_q[z_j | x]) of the model over the images x (N, C, H, W), rounded for JSON.
    x may be a streamed image set (sliceable, not in memory): it is read `chunk` at a time."""
    means = np.concatenate([encode_images(model, x[start : start + chunk]).mean
                            for start in range(0, len(x), chunk)])
    return [round(float(v), 6) for v in posterior_mean_variance(means)]
