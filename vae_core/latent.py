"""Latent-space operations the app and notebooks share; numpy in, numpy out.

Models given here are read-only (eval mode, no grads); every function runs under no_grad.
Images come back as (N, C, H, W) float32 arrays in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .models import VAE


@dataclass(frozen=True)
class Encoded:
    """Posterior parameters for N images: mean and std, (N, D) each."""

    mean: np.ndarray
    std: np.ndarray


def _device(model: VAE) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def encode_images(model: VAE, x: torch.Tensor | np.ndarray, batch_size: int = 500) -> Encoded:
    """q(z|x) for images (N, C, H, W) in [0, 1]."""
    x = torch.as_tensor(x, dtype=torch.float32)
    means, stds = [], []
    for start in range(0, x.shape[0], batch_size):
        posterior = model.encode(x[start : start + batch_size].to(_device(model)))
        means.append(posterior.mean.cpu())
        stds.append(posterior.stddev.cpu())
    return Encoded(torch.cat(means).numpy(), torch.cat(stds).numpy())


@torch.no_grad()
def sample_posterior(model: VAE, x: torch.Tensor | np.ndarray, n: int, seed: int) -> np.ndarray:
    """n draws z ~ q(z|x) for one image x (C, H, W), by the reparameterization: (n, D)."""
    x = torch.as_tensor(x, dtype=torch.float32)[None].to(_device(model))
    generator = torch.Generator(device=_device(model)).manual_seed(seed)
    return model.encode(x).rsample_n(n, generator)[:, 0].cpu().numpy()


@torch.no_grad()
def decode_mean(model: VAE, z: np.ndarray) -> np.ndarray:
    """The decoder's mean image for each latent vector, z (N, D) -> (N, C, H, W)."""
    z_tensor = torch.as_tensor(np.asarray(z, dtype=np.float32)).to(_device(model))
    return model.decode(z_tensor.reshape(-1, model.latent_dim)).mean.cpu().numpy()


@torch.no_grad()
def decode_distribution(
    model: VAE, z: np.ndarray, n_samples: int = 0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For one z (D,): the mean (C, H, W), the std (C, H, W) and n_samples samples of p(x|z)."""
    z_tensor = torch.as_tensor(np.asarray(z, dtype=np.float32)).to(_device(model)).view(1, -1)
    likelihood = model.decode(z_tensor)
    generator = torch.Generator(device=_device(model)).manual_seed(seed)
    samples = [likelihood.sample(generator)[0] for _ in range(n_samples)]
    empty = np.empty((0, *likelihood.mean.shape[1:]), dtype=np.float32)
    stacked = torch.stack(samples).cpu().numpy() if samples else empty
    return likelihood.mean[0].cpu().numpy(), likelihood.stddev[0].cpu().numpy(), stacked


@torch.no_grad()
def kl_per_dim(
    model: VAE, x: torch.Tensor | np.ndarray, batch_size: int = 500
) -> np.ndarray:
    """Average KL(q(z_j|x) || N(0, 1)) per latent dimension over the images, (D,) nats.

    A dimension whose average KL is near 0 carries no information about x: it has collapsed
    to the prior, and moving it barely changes the decoded image.
    """
    x = torch.as_tensor(x, dtype=torch.float32)
    total = torch.zeros(model.latent_dim)
    for start in range(0, x.shape[0], batch_size):
        posterior = model.encode(x[start : start + batch_size].to(_device(model)))
        total += posterior.kl_per_dim().sum(dim=0).cpu()
    return (total / max(x.shape[0], 1)).numpy()


def dimension_order(kl_per_dim: np.ndarray | None, latent_dim: int) -> list[int]:
    """Latent dimensions, most used (largest average KL) first; index order without the KL."""
    if kl_per_dim is None:
        return list(range(latent_dim))
    return [int(j) for j in np.argsort(-np.asarray(kl_per_dim), kind="stable")]


def nearest_codes(codes: np.ndarray, z: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k codes (N, D) closest to z (D,) in Euclidean distance, nearest first."""
    distances = np.linalg.norm(np.asarray(codes) - np.asarray(z)[None, :], axis=1)
    k = min(k, len(distances))
    nearest = np.argpartition(distances, k - 1)[:k] if k else np.empty(0, dtype=int)
    return nearest[np.argsort(distances[nearest], kind="stable")]


def traversal_latents(z: np.ndarray, dim: int, values: np.ndarray) -> np.ndarray:
    """Copies of z (D,) with dimension `dim` set to each value: (len(values), D)."""
    grid = np.repeat(np.asarray(z, dtype=np.float32)[None, :], len(values), axis=0)
    grid[:, dim] = values
    return grid


def interpolate(z0: np.ndarray, z1: np.ndarray, steps: int, mode: str = "linear") -> np.ndarray:
    """`steps` latents from z0 to z1, (steps, D). mode 'spherical' follows the great circle,
    which keeps intermediate points at a norm typical of N(0, I) samples (White, 2016)."""
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
    z0, z1 = np.asarray(z0, dtype=np.float32), np.asarray(z1, dtype=np.float32)
    if mode == "linear":
        return (1 - t) * z0 + t * z1
    if mode != "spherical":
        raise ValueError(f"mode must be 'linear' or 'spherical', got {mode!r}")
    cos = np.dot(z0, z1) / max(np.linalg.norm(z0) * np.linalg.norm(z1), 1e-8)
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    if omega < 1e-4:  # nearly parallel: slerp degenerates to lerp
        return (1 - t) * z0 + t * z1
    return (np.sin((1 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)
