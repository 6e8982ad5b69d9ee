"""A checkpoint overwritten in place (a re-export, a run deleted and re-created under its name)
is a new model for every cache: no stale decodes, no stale latent size."""

import os
import shutil

import torch
from streamlit.testing.v1 import AppTest

from tests.app.conftest import write_run_checkpoint
from tests.conftest import PROJECT_DIR, TINY_MODELS
from ui import model_registry
from ui.model_registry import checkpoint_identity
from ui.train_figures import latest_checkpoint
from vae_core.checkpoint import CONFIG_FILE, WEIGHTS_FILE, save_checkpoint, save_run_checkpoint
from vae_core.config import TrainConfig
from vae_core.decoder_export import read_envelope
from vae_core.models import VAE

RUN = "run:mine"


def _explore_on_the_run() -> AppTest:
    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=60).run()
    at.sidebar.selectbox(key="model_picker").set_value(RUN).run()
    return at.switch_page("app_pages/explore.py").run()


def _latent_labels(at: AppTest) -> list[str]:
    (sliders,) = at.get("bidi_component")
    control, _ = read_envelope(sliders.proto.bytes)
    return control["labels"]


def test_a_run_re_created_under_its_name_is_decoded_with_the_new_weights(app_env):
    write_run_checkpoint(app_env, seed=0)
    at = _explore_on_the_run()
    before = at.image[0].value
    shutil.rmtree(app_env / "mine")
    write_run_checkpoint(app_env, seed=1)  # same name, same shapes, same config text: other weights
    at.run()
    assert not at.exception
    assert at.image[0].value != before


def test_a_run_re_created_with_another_latent_size_shows_that_many_sliders(app_env):
    write_run_checkpoint(app_env, "mnist32")  # latent 4
    at = _explore_on_the_run()
    assert len(_latent_labels(at)) == 4
    shutil.rmtree(app_env / "mine")
    write_run_checkpoint(app_env, "mnist2d")  # latent 2, same run name and epoch folder
    at.run()
    assert not at.exception
    assert len(_latent_labels(at)) == 2
    assert "latent 2" in at.sidebar.markdown[0].value


def test_files_overwritten_in_place_give_the_new_model(app_env, tmp_path):
    checkpoint = write_run_checkpoint(app_env, seed=0)
    at = _explore_on_the_run()
    before = at.image[0].value
    model_config, data_config = TINY_MODELS["mnist32"]
    torch.manual_seed(2)
    other = save_checkpoint(tmp_path / "other", VAE(model_config), data_config,
                            TrainConfig(epochs=1), metadata={"epoch": 1})
    for name in (WEIGHTS_FILE, CONFIG_FILE):  # same inodes, sizes and mtimes: only the bytes
        _rewrite_keeping_mtime(checkpoint / name, (other / name).read_bytes())
    at.run()
    assert not at.exception
    assert at.image[0].value != before


def _rewrite_keeping_mtime(path, data: bytes) -> None:
    """Overwrite a file in place and put its modification time back (as `cp -p`/`rsync -a`)."""
    info = path.stat()
    path.write_bytes(data)
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))


def test_identity_changes_with_the_files_not_with_time(tmp_path):
    checkpoint = write_run_checkpoint(tmp_path, seed=0)
    first = checkpoint_identity(checkpoint)
    assert checkpoint_identity(checkpoint) == first
    (checkpoint / CONFIG_FILE).write_bytes((checkpoint / CONFIG_FILE).read_bytes())
    assert checkpoint_identity(checkpoint) != first  # rewritten, even with the same bytes


def test_a_run_preview_key_changes_when_weights_are_copied_in_with_their_old_mtime(tmp_path):
    checkpoint = write_run_checkpoint(tmp_path, seed=0)
    key = latest_checkpoint(tmp_path / "mine")
    other = write_run_checkpoint(tmp_path / "other", seed=1)
    _rewrite_keeping_mtime(checkpoint / WEIGHTS_FILE, (other / WEIGHTS_FILE).read_bytes())
    assert latest_checkpoint(tmp_path / "mine") != key


def test_a_run_checkpoint_replaced_during_its_load_is_loaded_from_the_newer_one(
        app_env, monkeypatch):
    # A training run deletes its older checkpoints as epochs finish; a load can lose that race.
    model_config, data_config = TINY_MODELS["mnist32"]
    run = app_env / "mine"
    for epoch in (1, 2):
        save_run_checkpoint(run, epoch, model=VAE(model_config), data_config=data_config,
                            train_config=TrainConfig(epochs=2), metadata={"epoch": epoch})
    older = run / "checkpoints" / "epoch-0001"
    (run / "checkpoints" / "latest").write_text(older.name)
    real_load = model_registry._load_cached

    def pruned_under_the_load(directory, identity, trusted):
        if directory == str(older):
            shutil.rmtree(older)
            (run / "checkpoints" / "latest").write_text("epoch-0002")
        return real_load(directory, identity, trusted)

    monkeypatch.setattr(model_registry, "_load_cached", pruned_under_the_load)
    checkpoint, _ = model_registry.load_entry(model_registry.ModelEntry("run:mine", "mine", run))
    assert checkpoint.metadata["epoch"] == 2
