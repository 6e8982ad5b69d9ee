"""LATENT_LAB_MODE=shared: visitors explore but change no runs and upload no checkpoints,
unless LATENT_LAB_ALLOW lists it; a misspelt setting stops the app with a message."""

import json

import pytest
import torch
from streamlit.testing.v1 import AppTest

from tests.app.conftest import train_page
from tests.conftest import PROJECT_DIR, TINY_MODELS, checkpoint_uploader
from vae_core.checkpoint import save_run_checkpoint
from vae_core.config import RunConfig, TrainConfig
from vae_core.models import VAE
from vae_core.runs import RUN_CONFIG_FILE, write_status

MANAGE = {"Cancel", "Resume", "Delete"}


def _run(runs, name: str, state: str, checkpoint: bool) -> None:
    """A run folder as the Train page lists it: its config, a status, maybe a checkpoint."""
    model_config, data_config = TINY_MODELS["mnist2d"]
    config = RunConfig(data=data_config, model=model_config, train=TrainConfig(epochs=2))
    (runs / name).mkdir()
    (runs / name / RUN_CONFIG_FILE).write_text(json.dumps(config.to_dict()))
    write_status(runs / name, state, epoch=1, epochs=2)
    if checkpoint:
        torch.manual_seed(0)
        save_run_checkpoint(runs / name, 1, model=VAE(model_config), data_config=data_config,
                            train_config=config.train, metadata={"epoch": 1})


@pytest.fixture
def two_runs(app_env):
    _run(app_env, "stopped", "cancelled", checkpoint=True)  # Resume, Delete, Use this model
    _run(app_env, "queued", "starting", checkpoint=False)  # Cancel (a run still starting)
    return app_env


def _labels(at: AppTest) -> set[str]:
    return {button.label for button in at.button}


def test_locally_every_action_is_there(two_runs, monkeypatch):
    monkeypatch.delenv("LATENT_LAB_MODE", raising=False)
    at = train_page()
    assert not at.exception
    assert _labels(at) >= MANAGE | {"Use this model"}
    assert at.form_submit_button[0].label == "Start training"
    assert checkpoint_uploader(at) is not None


def test_shared_train_page_shows_runs_but_no_start_cancel_or_delete(two_runs, monkeypatch):
    monkeypatch.setenv("LATENT_LAB_MODE", "shared")
    monkeypatch.delenv("LATENT_LAB_ALLOW", raising=False)
    at = train_page()
    assert not at.exception
    assert not at.form_submit_button and not at.get("file_uploader")
    assert not _labels(at) & MANAGE
    assert "Use this model" in _labels(at)
    assert any("**stopped**" in m.value for m in at.markdown)
    assert "LATENT_LAB_ALLOW=training" in at.info[0].value


def test_shared_sidebar_has_no_checkpoint_uploader(app_env, monkeypatch):
    monkeypatch.setenv("LATENT_LAB_MODE", "shared")
    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert not at.sidebar.get("file_uploader")
    assert not [e for e in at.sidebar.get("expander") if "checkpoint" in e.label.lower()]
    assert at.sidebar.selectbox(key="model_picker").value == "asset:mnist32"


def test_the_admin_can_allow_training_and_checkpoint_uploads(two_runs, monkeypatch):
    monkeypatch.setenv("LATENT_LAB_MODE", "shared")
    monkeypatch.setenv("LATENT_LAB_ALLOW", "training, checkpoint-upload")
    at = train_page()
    assert not at.exception
    assert _labels(at) >= MANAGE
    assert at.form_submit_button[0].label == "Start training"
    assert checkpoint_uploader(at) is not None


@pytest.mark.parametrize("variable, value", [("LATENT_LAB_MODE", "public"),
                                             ("LATENT_LAB_ALLOW", "training,everything")])
def test_a_misspelt_setting_stops_the_app_with_a_message(app_env, monkeypatch, variable, value):
    monkeypatch.setenv("LATENT_LAB_MODE", "shared")
    monkeypatch.setenv(variable, value)
    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert "misconfigured" in at.error[0].value and variable in at.error[0].value
    assert not at.sidebar.get("selectbox")
