"""The AE vs VAE page, and every other page with a plain autoencoder as the active model."""

from __future__ import annotations

import shutil

import pytest
import torch
from streamlit.testing.v1 import AppTest

from tests.app.conftest import z_caption
from tests.conftest import (
    AE_TEST_FIGURES,
    PROJECT_DIR,
    TINY_AE,
    TINY_VAE,
    VAE_TEST_FIGURES,
    save_untrained,
)
from ui.train_figures import loss_curves
from vae_core.checkpoint import load_checkpoint, save_checkpoint
from vae_core.config import DataConfig, ModelConfig, TrainConfig
from vae_core.models import build_model

PAGE = "app_pages/ae_vs_vae.py"
@pytest.fixture
def assets_with(tiny_assets, tmp_path, monkeypatch, app_env):
    """A copy of the tiny assets plus the models named; returns the assets folder."""
    def make(*names: str):
        root = tmp_path / "assets"
        shutil.copytree(tiny_assets, root)
        other_vae = ModelConfig(**{**TINY_VAE.__dict__, "latent_dim": 4})
        made = {"mnist-ae": (TINY_AE, AE_TEST_FIGURES), "mnist-vae": (TINY_VAE, VAE_TEST_FIGURES),
                "other-vae": (other_vae, VAE_TEST_FIGURES)}
        for name in names:
            save_untrained(root / name, *made[name])
        monkeypatch.setenv("LATENT_LAB_ASSETS", str(root))
        return root
    return make


def _page(path: str = PAGE, model: str | None = None) -> AppTest:
    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=90).run()
    if model:
        at.sidebar.selectbox(key="model_picker").set_value(model).run()
    return at.switch_page(path).run()


def _texts(at: AppTest) -> str:
    parts = [e.value for kind in ("caption", "info", "markdown", "warning") for e in
             getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def test_the_page_compares_the_pair_on_the_same_inputs(assets_with):
    assets_with("mnist-ae", "mnist-vae", "other-vae")
    at = _page()
    assert not at.exception and not at.error
    assert at.selectbox(key="pair_ae").value == "asset:mnist-ae"
    # Only the VAE with the AE's exact networks and data is offered, not the latent-4 one.
    assert at.selectbox(key="pair_vae").options == ["mnist-vae (shipped)"]
    assert [h.value for h in at.header] == [
        "Latent maps", "The same z ~ N(0, I) through both", "The same interpolation through both",
        "Reconstruction error", "How much of the prior decodes to a digit?"]
    assert len(at.image) == 4  # prior draws and interpolations, one per model
    text = _texts(at)
    assert "KL term" in text and "The AE has no prior" in text
    labels = [m.label for m in at.metric]
    assert labels == ["Plain autoencoder: -log p(x|z)", "VAE: -log p(x|z)"]
    assert all(m.value.endswith("nats/image") for m in at.metric)


def test_new_draws_change_the_prior_decodes(assets_with):
    assets_with("mnist-ae", "mnist-vae")
    at = _page()
    before = [image.value for image in at.image]
    at.button(key="ae_vs_vae_new_draws").click().run()
    after = [image.value for image in at.image]
    assert not at.exception and "(seed 1)" in _texts(at)
    assert before[:2] != after[:2] and before[2:] == after[2:]  # the interpolations stay


def test_the_headline_figure_is_the_classifier_share_of_the_same_prior_draws(assets_with):
    root = assets_with("mnist-ae", "mnist-vae")
    at = _page()
    assert [m.label for m in at.metric][2:] == []  # computed on request only
    at.button(key="ae_vs_vae_score").click().run(timeout=240)
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    from ui.ae_vs_vae import _classifier
    from vae_core.data import load_dataset
    from vae_core.prior_decodes import prior_decode_score

    data_config = DataConfig(name="mnist5k")
    classifier = _classifier(repr(data_config), load_dataset(data_config))  # the page's, cached
    for name, label in (("mnist-ae", "AE"), ("mnist-vae", "VAE")):
        score = prior_decode_score(load_checkpoint(root / name).model, classifier, 1000)
        assert shown[f"{label}: prior draws recognised"] == \
            f"{100 * score.share:.1f}%"
    assert float(shown["Real test digits (ceiling)"].rstrip("%")) > 50


def test_without_an_autoencoder_the_page_says_how_to_get_one(app_env):
    at = _page()
    assert not at.exception
    assert "No plain autoencoder is available" in at.info[0].value


def test_an_autoencoder_without_a_matching_vae_is_named(assets_with):
    assets_with("mnist-ae", "other-vae")
    at = _page()
    assert not at.exception
    assert "No VAE has this autoencoder's networks" in at.info[0].value


# Every other page with the autoencoder active ------------------------------------------------


def test_the_sidebar_card_shows_reconstruction_and_says_what_does_not_apply(assets_with):
    assets_with("mnist-ae")
    at = _page("app_pages/explore.py", "asset:mnist-ae")
    card = at.sidebar.markdown[0].value
    assert "plain autoencoder" in card and "210.5" in card and "n/a" not in card
    assert "-ELBO, KL and log p(x) do not apply" in at.sidebar.caption[0].value


@pytest.mark.parametrize(("page", "expected"), [
    ("app_pages/explore.py", "plain autoencoder has no prior"),
    ("app_pages/latent_map.py", "code (a plain autoencoder"),
    ("app_pages/sampling.py", "The reparameterization trick does not apply here"),
    ("app_pages/reconstruct.py", "-ELBO does not apply to a plain autoencoder"),
    ("app_pages/train.py", "Train a new VAE (or a plain autoencoder)"),
])
def test_every_page_handles_an_autoencoder(assets_with, page, expected):
    assets_with("mnist-ae")
    at = _page(page, "asset:mnist-ae")
    assert not at.exception and not at.error
    assert expected in _texts(at)


def test_explore_says_when_a_code_lies_beyond_the_sliders_range(assets_with):
    root = assets_with("mnist-ae")
    model = build_model(TINY_AE)
    with torch.no_grad():
        model.encoder.net[-1].bias.fill_(10.0)  # every code coordinate near 10, beyond ±3
    save_checkpoint(root / "mnist-ae", model, DataConfig(name="mnist5k"), TrainConfig(epochs=1),
                    metadata={"epoch": 1, "test": AE_TEST_FIGURES})
    at = _page("app_pages/explore.py", "asset:mnist-ae")
    next(b for b in at.button if b.label == "Use example").click().run()
    assert not at.exception
    assert "3 of 3 coordinates clipped to ±3, the sliders' range" in z_caption(at)


def test_latent_map_turns_off_the_sigma_ellipses_for_an_autoencoder(assets_with):
    assets_with("mnist-ae")
    at = _page("app_pages/latent_map.py", "asset:mnist-ae")
    toggle = at.toggle(key="map_ellipses")
    assert toggle.disabled and "one code per image" in toggle.help


def test_reconstruct_shows_only_the_reconstruction_figure_for_an_autoencoder(assets_with):
    assets_with("mnist-ae")
    at = _page("app_pages/reconstruct.py", "asset:mnist-ae")
    assert [m.label for m in at.metric] == ["Reconstruction (nats)"]


def test_the_train_form_starts_an_autoencoder(assets_with, app_env):
    from tests.app.conftest import submit_train_form
    from tests.conftest import kill_live_runs

    assets_with()
    try:
        at = _page("app_pages/train.py")
        at.selectbox(key="train_dataset").set_value("digits").run()
        at.radio(key="train_kind").set_value("ae")
        at = submit_train_form(at, dataset=None, train_name="tiny-ae")
        assert not at.exception and not at.error
        config = (app_env / "tiny-ae" / "run.json").read_text()  # as asked, or as resolved
        assert '"kind": "ae"' in config
        assert any("plain autoencoder" in c.value for c in at.caption)
    finally:
        kill_live_runs(app_env)


def test_loss_curves_of_an_autoencoder_plot_its_reconstruction_only():
    steps = [{"kind": "step", "epoch": 1, "epoch_progress": 0.5, "neg_elbo": None, "kl": None,
              "recon": 200.0}]
    epochs = [{"kind": "epoch", "epoch": 1, "train_neg_elbo": None, "train_kl": None,
               "train_recon": 190.0, "test_neg_elbo": None, "test_kl": None, "test_recon": 195.0}]
    figure = loss_curves(steps + epochs)
    assert [a.text for a in figure.layout.annotations] == [
        "reconstruction (plain autoencoder: no KL, no -ELBO)"]
    assert [list(t.y) for t in figure.data] == [[200.0], [190.0], [195.0]]


def test_attribute_directions_are_fitted_on_an_autoencoders_codes(assets_with):
    assets_with("mnist-ae")
    at = _page("app_pages/explore.py", "asset:mnist-ae")
    assert not at.exception and not at.error
    assert any((s.key or "").startswith("explore_directions") for s in at.slider)
