"""The latent map's data: the encoded test set, its 2-D views and the decoded latent plane.

Everything heavy is cached per model version (and view), so changing the colouring or a toggle
redraws from arrays already computed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch
from PIL import Image

from vae_core.data import ImageDataset
from vae_core.images import make_grid
from vae_core.latent import Encoded, decode_mean, encode_images
from vae_core.projection import (
    axes_view,
    ellipse,
    line_grid,
    line_view,
    pca,
    plane_grid,
    project_covariance,
    subset_indices,
    tsne,
    umap,
)

from .active_model import ActiveModel
from .figures_latent import Colouring

MAP_POINTS = 2000  # test examples on the map
TSNE_POINTS = 1000  # t-SNE's random subset: its cost grows quickly with N
UMAP_POINTS = MAP_POINTS  # UMAP's: ~4 s for 2,000 here
GRID_N, GRID_LIMIT = 15, 3.0
PCA, TSNE, UMAP, DIMS = "PCA", "t-SNE", "UMAP", "Two chosen dimensions"
LINE = "The only dimension"  # latent size 1: z0 across, its posterior std up


@dataclass(frozen=True)
class MapView:
    """coords (M, 2) of encoded rows `rows` (M,); components (2, D) when the view is linear."""

    coords: np.ndarray
    rows: np.ndarray
    components: np.ndarray | None
    axis_titles: tuple[str, str]
    seconds: float | None = None  # how long a nonlinear view (t-SNE, UMAP) took to compute


@st.cache_data(max_entries=8, show_spinner="Encoding the test set...")
def encoded_test_set(version: str, _active: ActiveModel, _data: ImageDataset) -> Encoded:
    """Posterior mean and std of the first MAP_POINTS test images, (N, D) each."""
    return encode_images(_active.model, _data.test_x[:MAP_POINTS])


@st.cache_data(max_entries=16, show_spinner="Projecting...")
def map_view(version: str, method: str, dims: tuple[int, ...], _encoded: Encoded) -> MapView:
    """The 2-D view `method` of the posterior means; `dims` is used by DIMS only."""
    mean = _encoded.mean
    if method == LINE:
        view = line_view(mean, _encoded.std)
        return MapView(view.coords, np.arange(len(mean)), view.components,
                       ("z0 (posterior mean)", "posterior std of z0"))
    if method in (TSNE, UMAP):
        embed, limit = (tsne, TSNE_POINTS) if method == TSNE else (umap, UMAP_POINTS)
        rows = subset_indices(len(mean), limit)
        started = time.perf_counter()
        coords = embed(mean[rows])
        return MapView(coords, rows, None, (f"{method} 1", f"{method} 2"),
                       time.perf_counter() - started)
    rows = np.arange(len(mean))
    if method == PCA:
        view = pca(mean)
        share = [f"{100 * e:.0f}%" for e in view.explained]
        return MapView(view.coords, rows, view.components,
                       (f"PC 1 ({share[0]} of variance)", f"PC 2 ({share[1]})"))
    view = axes_view(mean, dims)
    return MapView(view.coords, rows, view.components, (f"z{dims[0]}", f"z{dims[1]}"))


def sigma_ellipses(view: MapView, encoded: Encoded, count: int = 50) -> list[np.ndarray]:
    """1-sigma outlines of the first `count` points' posteriors, projected into a linear view."""
    if view.components is None:
        raise ValueError("a nonlinear view (t-SNE) has no projected covariance")
    covariances = project_covariance(view.components, encoded.std[view.rows[:count]])
    centers = view.coords[:count]
    return [ellipse(c, cov) for c, cov in zip(centers, covariances, strict=True)]


def colourings(data: ImageDataset, count: int) -> dict[str, Colouring]:
    """The ways to colour the first `count` test points: known factors, else labels.

    A factor equal to the labels (the shapes' "shape") is shown by the label names.
    """
    labels = data.test_y[:count].numpy()
    labelled = bool(data.label_names) and bool((labels >= 0).all())
    options = {}
    for name, values in data.test_factors.items():
        values = values[:count].numpy()
        same = labelled and np.array_equal(values, labels)
        options[name] = Colouring(name, values, data.label_names if same else ())
    if labelled and not any(c.names for c in options.values()):
        options = {"label": Colouring("label", labels, data.label_names), **options}
    return options or {"nothing": Colouring("nothing", np.zeros(len(labels)), ("example",))}


@st.cache_data(max_entries=16, show_spinner="Decoding the latent plane...")
def manifold_image(
    version: str, dims: tuple[int, ...], _active: ActiveModel, scale: int = 1
) -> Image.Image:
    """GRID_N x GRID_N decoded means over [-GRID_LIMIT, GRID_LIMIT]^2 in `dims`, no gaps, so
    the image can lie under the scatter with each tile centred on its grid point; one row of
    GRID_N along the line when `dims` holds one dimension."""
    if len(dims) == 1:
        latents = line_grid(_active.latent_dim, dims[0], GRID_N, GRID_LIMIT)
    else:
        latents = plane_grid(_active.latent_dim, dims, GRID_N, GRID_LIMIT)
    images = torch.from_numpy(decode_mean(_active.model, latents))
    return make_grid(images, ncols=GRID_N, padding=0, scale=scale)


def manifold_extent() -> float:
    """Side of the manifold image in z units: the grid's span plus half a cell at each edge."""
    return 2 * GRID_LIMIT * GRID_N / (GRID_N - 1)


def reconstruction(active: ActiveModel, mean: np.ndarray) -> np.ndarray:
    """The decoder's mean image (C, H, W) at one posterior mean (D,)."""
    return decode_mean(active.model, mean[None, :])[0]
