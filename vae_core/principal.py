"""A model seen through a few directions of its latent space: sliders for latents too large for
one slider a dimension (over MAX_SLIDERS, or a spatial latent C x h x w flattened).

As GANSpace does for GANs (Härkönen et al. 2020), the directions are the top principal axes of
the data's posterior means: the view's coordinate c_k moves z along axis k in units of the data's
spread along it, from the means' centre, z = center + sum_k c_k * scale_k * v_k. The view offers
the model interface (encode, decode, latent_dim), so Explore's sliders, strips, pad and samples
run on it unchanged. Without data there are no axes: the view is then the first MAX_SLIDERS
coordinates of z, the others held at 0.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from torch import nn

from .decoder_export import DecoderSpec, export_decoder
from .distributions import DiagonalGaussian, PointCode
from .imported import ImportedModel
from .latent import encode_images
from .projection import pca

MAX_SLIDERS = 64
PCA_IMAGES = 2000  # posterior means the axes are fitted to


class PrincipalView(nn.Module):
    """`model` with the K-dimensional latent c; `shares` are each axis's fraction of the total
    variance of the posterior means (None for the plain first-coordinates view)."""

    def __init__(self, model: nn.Module, center: np.ndarray, axes: np.ndarray,
                 scales: np.ndarray, shares: np.ndarray | None) -> None:
        super().__init__()
        self.model = model
        self.center = torch.as_tensor(center, dtype=torch.float32)  # (D,)
        self.basis = torch.as_tensor(axes * scales[:, None], dtype=torch.float32)  # (K, D)
        self.shares = shares
        self.config = dataclasses.replace(model.config, latent_dim=len(axes))

    is_variational = property(lambda self: self.model.is_variational)
    latent_dim = property(lambda self: self.basis.shape[0])

    def to_z(self, c: torch.Tensor) -> torch.Tensor:
        """(B, K) view coordinates -> (B, D) latent codes."""
        return self.center + c @ self.basis

    def encode(self, x: torch.Tensor) -> DiagonalGaussian | PointCode:
        """The posterior's projection on the axes: its mean's coordinates, and the variance of
        each coordinate under q(z|x) (the marginal; correlations between axes are dropped)."""
        posterior = self.model.encode(x)
        inverse = torch.linalg.pinv(self.basis)  # (D, K): exact on the axes, orthogonal to them
        mean = (posterior.mean - self.center) @ inverse
        if isinstance(posterior, PointCode):
            return PointCode(mean)
        variance = posterior.stddev**2 @ inverse**2
        return DiagonalGaussian(mean, torch.log(variance.clamp_min(1e-12)))

    def decode(self, c: torch.Tensor):
        return self.model.decode(self.to_z(c))

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None):
        posterior = self.encode(x)
        c = posterior.rsample(generator)
        return posterior, c, self.decode(c)

    def sample_prior(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """c ~ N(0, I): codes spread as the data's means are along the axes, not the prior."""
        return torch.randn(n, self.latent_dim, generator=generator)

    def label(self, k: int) -> str:
        if self.shares is None:
            return f"z{k}"
        return f"PC{k + 1} · {100 * self.shares[k]:.1f}%"

    def decoder_spec(self, spec: DecoderSpec) -> DecoderSpec:
        """The model's page decoder `spec` with the map c -> z as its first layer, so the page
        decodes the view's coordinates. Value k of the old graph becomes value k + 1."""
        arrays = [*spec.arrays, self.basis.T.numpy().copy(), self.center.numpy().copy()]
        first = {"op": "linear", "in": self.latent_dim, "out": self.basis.shape[1],
                 "weight": len(arrays) - 2, "bias": len(arrays) - 1}
        layers = [first] + [{**layer, "inputs": [i + 1 for i in layer["inputs"]]}
                            if "inputs" in layer else layer for layer in spec.layers]
        return dataclasses.replace(spec, latent_dim=self.latent_dim, layers=layers,
                                   arrays=arrays)


def needs_view(latent_dim: int) -> bool:
    return latent_dim > MAX_SLIDERS


def principal_view(model: nn.Module, x: torch.Tensor | None,
                   k: int = MAX_SLIDERS) -> PrincipalView:
    """The top-k axes of the posterior means of images x (N, C, H, W), or without x the first k
    coordinates of z."""
    latent_dim = model.latent_dim
    if x is None or len(x) < 2:
        axes = np.eye(latent_dim)[:k]
        return PrincipalView(model, np.zeros(latent_dim), axes, np.ones(len(axes)), None)
    means = encode_images(model, x[:PCA_IMAGES]).mean
    k = min(k, len(means) - 1, latent_dim)
    view = pca(means, k)
    scales = np.sqrt(np.maximum((view.coords**2).mean(axis=0), 1e-12))  # data std per axis
    return PrincipalView(model, view.center, view.components, scales, view.explained)


def page_spec(model: nn.Module) -> DecoderSpec:
    """The in-page decoder's op list for a vae_core model, an imported one, or a view of either;
    raises ValueError (UnsupportedLayerError is one) naming what the page cannot run."""
    if isinstance(model, PrincipalView):
        return model.decoder_spec(page_spec(model.model))
    if isinstance(model, ImportedModel):
        return model.decoder_spec()
    return export_decoder(model)
