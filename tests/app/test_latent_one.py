"""A model with one latent dimension on every page (the Latent map crashed on it).

Two tiny untrained models, like the shipped ones but with latent_dim = 1: a conv Gaussian on
MNIST and an MLP Bernoulli on the shapes (which have factors to colour by).
"""

import base64
import json

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

import ui.active_model
from tests.conftest import open_app_page
from vae_core.checkpoint import save_checkpoint
from vae_core.config import DataConfig, ModelConfig, TrainConfig
from vae_core.models import VAE

LATENT_ONE = {
    "mnist1d": (ModelConfig(image_shape=(1, 28, 28), arch="conv", hidden=(4, 8), dense=16,
                            latent_dim=1, likelihood="gaussian"), DataConfig(name="mnist5k")),
    "shapes1d": (ModelConfig(image_shape=(1, 32, 32), arch="mlp", hidden=(16,), latent_dim=1,
                             likelihood="bernoulli"), DataConfig(name="shapes", n_samples=300)),
}
PAGES = ["explore", "latent_map", "sampling", "reconstruct", "train"]


@pytest.fixture(scope="module")
def latent_one_assets(tmp_path_factory):
    root = tmp_path_factory.mktemp("latent-one")
    torch.manual_seed(0)
    for name, (model_config, data_config) in LATENT_ONE.items():
        save_checkpoint(root / name, VAE(model_config), data_config, TrainConfig(epochs=1),
                        metadata={"epoch": 1, "test": {"neg_elbo": 500.0, "kl": 0.5,
                                                       "recon": 499.5}})
    return root


@pytest.fixture
def latent_one_env(latent_one_assets, tmp_path, monkeypatch):
    (tmp_path / "runs").mkdir()
    monkeypatch.setenv("LATENT_LAB_ASSETS", str(latent_one_assets))
    monkeypatch.setenv("LATENT_LAB_RUNS", str(tmp_path / "runs"))


def _page(model: str, page: str, **state) -> AppTest:
    return open_app_page(page, f"asset:{model}", **state)


def _problems(at: AppTest) -> list[str]:
    return [e.value for e in at.exception] + [e.value for e in at.error]


@pytest.mark.parametrize("model", list(LATENT_ONE))
@pytest.mark.parametrize("page", PAGES)
def test_every_page_serves_a_one_dimensional_model(latent_one_env, model, page):
    at = _page(model, page)
    assert not _problems(at), _problems(at)
    assert at.title[0].value


@pytest.mark.parametrize("model", list(LATENT_ONE))
def test_the_latent_map_of_one_dimension_has_every_toggle_working(latent_one_env, model):
    state = {"map_ellipses": True, "map_thumbnails": True, "map_grid_behind": True}
    at = _page(model, "latent_map", **state)
    assert not _problems(at), _problems(at)


def _figure(at: AppTest) -> dict:
    (chart,) = at.get("plotly_chart")
    return json.loads(chart.proto.spec)


def _values(value) -> np.ndarray:
    """Plotly sends numpy arrays as base64 typed arrays: {"dtype": "f8", "bdata": "..."}."""
    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return np.asarray(value, dtype=float)


def test_the_latent_map_of_one_dimension_plots_mean_against_std_with_segments(latent_one_env):
    at = _page("shapes1d", "latent_map", map_ellipses=True)
    assert not _problems(at) and not at.radio  # nothing to project or choose
    figure = _figure(at)
    assert figure["layout"]["xaxis"]["title"]["text"] == "z0 (posterior mean)"
    assert figure["layout"]["yaxis"]["title"]["text"] == "posterior std of z0"
    stds = np.concatenate([_values(t["y"]) for t in figure["data"] if t["mode"] == "markers"])
    assert len(stds) == 60 and (stds > 0).all()  # shapes' tiny test set
    (outlines,) = [t for t in figure["data"] if t["mode"] == "lines"]
    heights = _values([v for v in outlines["y"] if v is not None])
    # A 1-sigma outline in one dimension is a flat segment at the point's own height.
    segments = heights.reshape(50, -1)
    assert np.allclose(segments, segments[:, :1])
    assert "15 points over [-3, 3] in z0" in " ".join(c.value for c in at.caption)
    (line,) = at.image
    assert len(line.proto.imgs) == 1


def test_without_the_dataset_a_one_dimensional_model_shows_its_decoded_line(latent_one_env,
                                                                            monkeypatch):
    monkeypatch.setattr(ui.active_model, "active_dataset", lambda active: None)
    at = _page("mnist1d", "latent_map")
    assert not _problems(at)
    assert "no points to plot" in at.info[0].value
    assert "15 points over [-3, 3] in z0" in " ".join(c.value for c in at.caption)
