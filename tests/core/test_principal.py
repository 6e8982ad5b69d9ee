"""vae_core.principal: sliders for latents too large for one slider a dimension."""

from __future__ import annotations

import numpy as np
import torch

from vae_core.config import DataConfig, ModelConfig
from vae_core.data import load_dataset
from vae_core.models import VAE
from vae_core.principal import MAX_SLIDERS, needs_view, principal_view


def _model(latent_dim: int = 100) -> VAE:
    torch.manual_seed(0)
    return VAE(ModelConfig(image_shape=(1, 8, 8), arch="mlp", hidden=(32,),
                           latent_dim=latent_dim)).eval().requires_grad_(False)


def _images() -> torch.Tensor:
    return load_dataset(DataConfig(name="digits")).test_x[:300]


def test_only_latents_over_the_slider_limit_need_a_view():
    assert not needs_view(MAX_SLIDERS) and needs_view(MAX_SLIDERS + 1)


def test_the_axes_are_the_means_principal_directions_in_units_of_their_spread():
    model, x = _model(), _images()
    view = principal_view(model, x, k=10)
    assert view.latent_dim == 10 and view.config.latent_dim == 10
    coords = view.encode(x).mean.double()
    # The fitted means' coordinates: centred, uncorrelated, unit spread along every axis.
    assert np.allclose(coords.mean(0), 0, atol=1e-4)
    assert np.allclose(np.cov(coords.T.numpy(), bias=True), np.eye(10), atol=1e-3)
    assert np.all(np.diff(view.shares) <= 1e-12) and 0 < view.shares.sum() <= 1
    assert view.label(0).startswith("PC1 · ")


def test_decoding_a_coordinate_decodes_its_latent_code():
    model, x = _model(), _images()
    view = principal_view(model, x, k=5)
    c = torch.randn(3, 5, generator=torch.Generator().manual_seed(1))
    z = view.to_z(c)
    with torch.no_grad():
        assert torch.allclose(view.decode(c).mean, model.decode(z).mean)
        assert torch.allclose(view.decode(torch.zeros(1, 5)).mean,
                              model.decode(view.center[None]).mean)
    # Codes on the axes' plane come back exactly; the view is the posterior's projection.
    assert torch.allclose(view.to_z(c) @ torch.linalg.pinv(view.basis) - view.center @
                          torch.linalg.pinv(view.basis), c, atol=1e-4)


def test_without_data_the_view_is_the_first_coordinates():
    model = _model(80)
    view = principal_view(model, None)
    assert view.latent_dim == MAX_SLIDERS and view.shares is None and view.label(3) == "z3"
    c = torch.randn(2, MAX_SLIDERS, generator=torch.Generator().manual_seed(2))
    expected = torch.cat([c, torch.zeros(2, 80 - MAX_SLIDERS)], dim=1)
    assert torch.allclose(view.to_z(c), expected)


def test_a_posterior_projects_its_variance_onto_the_axes():
    model, x = _model(), _images()
    view = principal_view(model, x, k=4)
    posterior, projected = model.encode(x[:2]), view.encode(x[:2])
    inverse = torch.linalg.pinv(view.basis)
    expected = posterior.stddev**2 @ inverse**2
    assert torch.allclose(projected.stddev**2, expected, rtol=1e-4)
