"""The Disentanglement page: the active model's scores and heat map, the shipped sweep, and the
note for a model without known factors; the sidebar card's active-units count.

Plotly charts are UnknownElements in AppTest; the proto carries the figure JSON, read here.
"""

import json

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import PROJECT_DIR, make_tiny_checkpoint, open_app_page
from vae_core.active_units import count_active
from vae_core.checkpoint import load_checkpoint, save_checkpoint
from vae_core.data import load_dataset
from vae_core.disentanglement_report import disentanglement_report


def _with_report(directory, beta: float) -> None:
    """Give a tiny shapes checkpoint the metadata export writes: variances and a report."""
    checkpoint = load_checkpoint(directory)
    report = disentanglement_report(checkpoint.model, load_dataset(checkpoint.data_config))
    metadata = {**checkpoint.metadata, "disentanglement": report.as_dict(),
                "posterior_mean_variance": report.posterior_mean_variance}
    train = checkpoint.train_config.__class__(epochs=1, beta=beta)
    save_checkpoint(directory, checkpoint.model, checkpoint.data_config, train, metadata)


@pytest.fixture(scope="module")
def sweep_assets(tiny_assets, tmp_path_factory):
    """The tiny assets plus a two-member sweep in assets/shapes-sweep/beta-N."""
    root = tmp_path_factory.mktemp("sweep-assets")
    for name in ("mnist32", "shapes"):
        make_tiny_checkpoint(root / name, name)
    for beta, seed in ((4.0, 2), (1.0, 1)):
        member = root / "shapes-sweep" / f"beta-{beta:g}"
        make_tiny_checkpoint(member, "shapes", seed=seed)
        _with_report(member, beta)
    return root


def _page(monkeypatch, assets, runs, model: str) -> AppTest:
    monkeypatch.setenv("LATENT_LAB_ASSETS", str(assets))
    monkeypatch.setenv("LATENT_LAB_RUNS", str(runs))
    at = open_app_page("disentanglement", model, timeout=180)
    assert not at.exception
    return at


def _markdown(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)


def test_a_shapes_model_gets_scores_a_heat_map_and_the_sweep(monkeypatch, sweep_assets,
                                                            tmp_path):
    at = _page(monkeypatch, sweep_assets, tmp_path, "asset:shapes")
    labels = [m.label for m in at.metric]
    assert labels[:5] == ["MIG", "DCI disentanglement", "DCI completeness",
                          "DCI informativeness", "active units"]
    assert "linear probe: shape" in labels
    charts = at.get("plotly_chart")
    assert len(charts) == 1
    heat = json.loads(charts[0].proto.spec)["data"][0]
    assert heat["type"] == "heatmap"
    assert heat["y"] == ["shape", "scale", "rotation", "x", "y"]
    assert [x.split()[0] for x in heat["x"]] == ["z0", "z1", "z2"]  # tiny: 3 dimensions
    # Columns of dimensions whose posterior mean does not move are marked as such.
    inactive = [x.endswith("(inactive)") for x in heat["x"]]
    assert labels.count("active units") == 1
    active_units = int(at.metric[4].value.split()[0])
    assert inactive.count(False) == active_units

    factors, sweep = at.dataframe[0].value, at.dataframe[1].value
    assert list(factors["factor"]) == ["shape", "scale", "rotation", "x", "y"]
    assert list(sweep["beta"]) == [1.0, 4.0]  # sorted by beta, not by folder name
    assert "beta = 1" in _markdown(at) and "beta = 4" in _markdown(at)
    # The sweep stays out of the sidebar's model list.
    assert all("sweep" not in option for option in at.selectbox(key="model_picker").options)


def test_a_model_without_factors_gets_a_note_and_still_the_sweep(monkeypatch, sweep_assets,
                                                                 tmp_path):
    at = _page(monkeypatch, sweep_assets, tmp_path, "asset:mnist32")
    assert any("has no known generative factors" in i.value for i in at.info)
    assert not at.metric and len(at.get("plotly_chart")) == 0
    assert list(at.dataframe[0].value["beta"]) == [1.0, 4.0]


def test_no_sweep_shipped_is_said(monkeypatch, tiny_assets, tmp_path):
    at = _page(monkeypatch, tiny_assets, tmp_path, "asset:mnist32")
    assert any("No sweep is shipped here" in i.value for i in at.info)


def test_the_sidebar_card_counts_active_units_by_posterior_mean_variance(monkeypatch,
                                                                         sweep_assets, tmp_path):
    at = _page(monkeypatch, sweep_assets, tmp_path, "asset:mnist32")
    assert "active units: not recorded" in " ".join(m.value for m in at.sidebar.markdown)

    member = sweep_assets / "shapes-sweep" / "beta-1"
    shapes = tmp_path / "assets"
    shapes.mkdir()
    (shapes / "shapes").symlink_to(member, target_is_directory=True)
    at = _page(monkeypatch, shapes, tmp_path, "asset:shapes")
    variance = load_checkpoint(member).metadata["posterior_mean_variance"]
    expected = f"active units **{count_active(variance)} of 3**"
    assert expected in " ".join(m.value for m in at.sidebar.markdown)


def test_the_active_model_is_named_without_nested_parentheses(monkeypatch, sweep_assets,
                                                              tmp_path):
    at = _page(monkeypatch, sweep_assets, tmp_path, "asset:mnist32")
    headings = [h.value for h in at.subheader]
    assert "The active model: mnist32 (shipped)" in headings
    assert not any("((" in h or "))" in h for h in headings)


def test_the_page_says_how_long_the_shipped_models_trained(monkeypatch, tmp_path):
    """The shipped sweep: 20 epochs each; shapes: 30 (its weights are epoch 27's)."""
    at = _page(monkeypatch, PROJECT_DIR / "assets", tmp_path, "asset:shapes")
    assert ("Trained 30 epochs; the weights are epoch 27's, the best on validation."
            in [c.value for c in at.caption])
    sweep = at.dataframe[1].value
    assert list(sweep["epochs"]) == [20, 20, 20, 20]
    assert list(sweep["weights of epoch"]) == [20, 18, 18, 19]
