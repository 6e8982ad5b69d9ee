"""The AE vs VAE page's computations: the same inputs through both models, cached per pair.

Each function takes the two models' versions (their cache keys) and the models themselves as
underscore arguments, so a rerun with the same pair and inputs costs a lookup.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from vae_core.config import DataConfig
from vae_core.data import ImageDataset
from vae_core.latent import decode_mean, encode_images, interpolate
from vae_core.prior_decodes import DigitClassifier, PriorDecodeScore, prior_decode_score
from vae_core.projection import ellipse, pca
from vae_core.reconstruction_error import ReconstructionError, reconstruction_error

N_PRIOR_SCORE = 1000  # prior draws behind the headline figure


@st.cache_data(max_entries=8, show_spinner="Decoding the same z through both models...")
def prior_decodes(versions: tuple[str, str], n: int, seed: int, _models) -> list[np.ndarray]:
    """The same n draws z ~ N(0, I) (seeded) decoded by each model: [(n, C, H, W), ...]."""
    z = np.random.default_rng(seed).standard_normal((n, _models[0].latent_dim))
    return [decode_mean(model, z.astype(np.float32)) for model in _models]


@st.cache_data(max_entries=8, show_spinner="Interpolating through both models...")
def interpolations(versions: tuple[str, str], pair: tuple[int, int], steps: int, _models,
                   _images: np.ndarray) -> list[np.ndarray]:
    """Decoder means on the straight path between two images' codes (posterior means for the
    VAE), in each model: [(steps, C, H, W), ...]."""
    paths = []
    for model in _models:
        codes = encode_images(model, _images[list(pair)]).mean  # (2, D)
        paths.append(decode_mean(model, interpolate(codes[0], codes[1], steps)))
    return paths


@st.cache_data(max_entries=8, show_spinner="Scoring reconstructions...")
def reconstruction_errors(versions: tuple[str, str], _models,
                          _data: ImageDataset) -> list[ReconstructionError]:
    return [reconstruction_error(model, _data.test_x) for model in _models]


@st.cache_resource(max_entries=2, show_spinner="Training a small digit classifier on the "
                   "training images (once per server, about 15 s)...")
def _classifier(data_key: str, _data: ImageDataset) -> DigitClassifier:
    return DigitClassifier(_data)


@st.cache_data(max_entries=8, show_spinner="Classifying the decodes of 1,000 prior draws...")
def prior_scores(versions: tuple[str, str], data_config: DataConfig, _models,
                 _data: ImageDataset) -> list[PriorDecodeScore]:
    """The headline figure for each model, with one classifier and the same z for both."""
    classifier = _classifier(repr(data_config), _data)
    return [prior_decode_score(model, classifier, N_PRIOR_SCORE) for model in _models]


@st.cache_data(max_entries=8, show_spinner="Encoding the test set with both models...")
def pca_maps(versions: tuple[str, str], _models, _data: ImageDataset, limit: int = 2000):
    """For each model: the PCA coordinates (N, 2) of its codes (posterior means for the VAE) of
    the first `limit` test images, and where z = 0 lands in that plane."""
    maps = []
    for model in _models:
        view = pca(encode_images(model, _data.test_x[:limit]).mean)
        maps.append((view.coords, -view.center @ view.components.T))
    return maps


def add_prior_circles(figure: go.Figure, origin: np.ndarray,
                      radii: tuple[float, ...] = (1.0, 2.0)) -> go.Figure:
    """The prior N(0, I)'s 1 and 2 sigma circles around z = 0 (`origin` in the plane). PCA's
    orthonormal axes carry N(0, I) in any dimension to N(0, I) in the plane, so these are the
    prior's true contours there."""
    for radius in radii:
        outline = ellipse(origin, np.eye(2), n_sigma=radius, n=73)
        figure.add_scatter(x=outline[:, 0], y=outline[:, 1], mode="lines", hoverinfo="skip",
                           name=f"prior N(0, I): {radius:g}σ", line=dict(color="#111", width=2,
                                                                       dash="dash"))
    return figure
