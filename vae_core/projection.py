"""2-D views of latent codes and of their posterior uncertainty; numpy in, numpy out.

A linear view maps z (D,) to (z - center) @ components.T, components (2, D): PCA and "two
chosen dimensions" are both linear, so posterior covariances project through the same matrix.
t-SNE and UMAP are not linear: they give coordinates only, and no covariance can follow them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LinearView:
    """coords (N, 2) of the points; components (2, D) and center (D,) define the map."""

    coords: np.ndarray
    components: np.ndarray
    center: np.ndarray
    explained: np.ndarray  # (2,) fraction of the total variance along each axis


def pca(points: np.ndarray, n_components: int = 2) -> LinearView:
    """Principal axes of points (N, D) from the SVD of the centred data, largest first."""
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[0] < 2 or points.shape[1] < n_components:
        raise ValueError(f"PCA needs (N >= 2, D >= {n_components}) points, got {points.shape}")
    center = points.mean(axis=0)
    _, singular, vt = np.linalg.svd(points - center, full_matrices=False)
    components = vt[:n_components] * _sign(vt[:n_components])
    variance = singular**2
    explained = variance[:n_components] / max(variance.sum(), 1e-12)
    return LinearView((points - center) @ components.T, components, center, explained)


def _sign(components: np.ndarray) -> np.ndarray:
    """+1/-1 per row so its largest entry is positive: SVD signs are arbitrary, views stay put."""
    largest = np.take_along_axis(components, np.abs(components).argmax(1)[:, None], axis=1)
    return np.where(largest < 0, -1.0, 1.0)


def axes_view(points: np.ndarray, dims: tuple[int, int]) -> LinearView:
    """The plane of two latent dimensions, uncentred so the axes read as z values."""
    points = np.asarray(points, dtype=np.float64)
    components = np.eye(points.shape[1])[list(dims)]
    variance = points.var(axis=0)
    explained = variance[list(dims)] / max(variance.sum(), 1e-12)
    return LinearView(points @ components.T, components, np.zeros(points.shape[1]), explained)


def line_view(points: np.ndarray, std: np.ndarray) -> LinearView:
    """One latent dimension: x = the posterior mean, y = the posterior std (N, 1) each.

    y is not a projection of z: it spreads the points so they do not all lie on one line, and
    shows where the encoder is unsure. components [[1], [0]] carry each posterior's variance
    onto the horizontal axis only, so a 1-sigma "ellipse" is the segment mean +- std.
    """
    points, std = np.asarray(points, dtype=np.float64), np.asarray(std, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 1 or std.shape != points.shape:
        raise ValueError(f"a line view needs (N, 1) means and stds: {points.shape}, {std.shape}")
    coords = np.column_stack([points[:, 0], std[:, 0]])
    return LinearView(coords, np.array([[1.0], [0.0]]), np.zeros(1), np.array([1.0, 0.0]))


def tsne(points: np.ndarray, seed: int = 0, max_iter: int = 500) -> np.ndarray:
    """t-SNE embedding (N, 2) of points (N, D); the same seed gives the same map.

    Cost grows with N (Barnes-Hut, ~10 s for 1,000 points here): callers pass a subset.
    """
    from sklearn.manifold import TSNE  # imported lazily: only this view needs it

    points = np.asarray(points, dtype=np.float32)
    if points.shape[0] < 5:
        raise ValueError(f"t-SNE needs at least 5 points, got {points.shape[0]}")
    perplexity = min(30.0, (points.shape[0] - 1) / 3)  # must stay below N
    model = TSNE(2, perplexity=perplexity, init="pca", random_state=seed, max_iter=max_iter)
    return model.fit_transform(points).astype(np.float64)


def umap(points: np.ndarray, seed: int = 0, n_neighbors: int = 15) -> np.ndarray:
    """UMAP embedding (N, 2) of points (N, D) (umap-learn); the same seed gives the same map.

    Here 2,000 16-D points take ~4 s on one core; the first call in a process adds ~6 s of
    numba compiling, and the first import ~15 s more while numba fills its on-disk cache.
    """
    with warnings.catch_warnings():  # it warns that ParametricUMAP needs TensorFlow: unused here
        warnings.simplefilter("ignore", ImportWarning)
        from umap import UMAP  # imported lazily: numba's import is slow; only this view needs it

    points = np.asarray(points, dtype=np.float32)
    if points.shape[0] < 5:
        raise ValueError(f"UMAP needs at least 5 points, got {points.shape[0]}")
    model = UMAP(n_components=2, n_neighbors=min(n_neighbors, points.shape[0] - 1),
                 random_state=seed, n_jobs=1)
    return model.fit_transform(points).astype(np.float64)


def subset_indices(n: int, limit: int, seed: int = 0) -> np.ndarray:
    """At most `limit` sorted indices of range(n), chosen at random with a fixed seed."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))


def project_covariance(components: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Diagonal posteriors std (N, D) seen through components (2, D): (N, 2, 2) covariances.

    Sigma_2d = P diag(sigma^2) P^T for each point.
    """
    return np.einsum("id,nd,jd->nij", components, np.asarray(std, dtype=np.float64) ** 2,
                     components)


def ellipse(center: np.ndarray, cov: np.ndarray, n_sigma: float = 1.0, n: int = 41) -> np.ndarray:
    """(n, 2) points on the n_sigma contour of N(center, cov), closed (first == last)."""
    eigenvalues, eigenvectors = np.linalg.eigh(cov)
    radii = n_sigma * np.sqrt(np.clip(eigenvalues, 0.0, None))
    angle = np.linspace(0.0, 2.0 * np.pi, n)
    circle = np.stack([np.cos(angle), np.sin(angle)])  # (2, n)
    return (eigenvectors @ (radii[:, None] * circle)).T + center


def line_grid(latent_dim: int, dim: int, n: int = 15, limit: float = 3.0) -> np.ndarray:
    """Latents at n points over [-limit, limit] in `dim`, left to right, other dims 0: (n, D)."""
    grid = np.zeros((n, latent_dim), dtype=np.float32)
    grid[:, dim] = np.linspace(-limit, limit, n, dtype=np.float32)
    return grid


def plane_grid(latent_dim: int, dims: tuple[int, int], n: int = 15, limit: float = 3.0):
    """Latents on an n x n grid over [-limit, limit]^2 in `dims`, other dims 0: (n * n, D).

    Row-major with the top row at +limit on the vertical axis, so tiled images read like the
    scatter plot (up is larger).
    """
    values = np.linspace(-limit, limit, n, dtype=np.float32)
    vertical, horizontal = np.meshgrid(values[::-1], values, indexing="ij")
    grid = np.zeros((n * n, latent_dim), dtype=np.float32)
    grid[:, dims[0]] = horizontal.ravel()
    grid[:, dims[1]] = vertical.ravel()
    return grid
