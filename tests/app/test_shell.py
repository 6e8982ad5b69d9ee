"""The app's shell: navigation, the sidebar's model picker and card, checkpoint upload."""

import pickle

from streamlit.testing.v1 import AppTest

from tests.conftest import (
    PROJECT_DIR,
    checkpoint_files,
    checkpoint_uploader,
    make_tiny_checkpoint,
    upload_checkpoint,
)


def _app() -> AppTest:
    return AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=60)


def test_app_starts_on_the_default_model_with_its_card(app_env):
    at = _app().run()
    assert not at.exception
    picker = at.sidebar.selectbox(key="model_picker")
    assert picker.value == "asset:mnist32"
    assert set(picker.options) >= {"mnist32 (shipped)", "mnist2d (shipped)", "shapes (shipped)"}
    card = at.sidebar.markdown[0].value
    assert "mnist5k" in card and "latent 4" in card and "543.2" in card and "540.1" in card


def test_switching_model_updates_the_card(app_env):
    at = _app().run()
    at.sidebar.selectbox(key="model_picker").set_value("asset:shapes").run()
    assert not at.exception
    assert "shapes" in at.sidebar.markdown[0].value and "latent 3" in at.sidebar.markdown[0].value


def test_a_session_sees_only_its_own_choice(app_env):
    first, second = _app().run(), _app().run()
    first.sidebar.selectbox(key="model_picker").set_value("asset:shapes").run()
    second.run()
    assert second.sidebar.selectbox(key="model_picker").value == "asset:mnist32"


def test_uploading_a_checkpoint_makes_it_the_active_model(app_env, tmp_path):
    make_tiny_checkpoint(tmp_path / "mine", "shapes", seed=3)
    at = upload_checkpoint(_app().run(), checkpoint_files(tmp_path / "mine"))
    assert not at.exception and not at.sidebar.error
    picker = at.sidebar.selectbox(key="model_picker")
    assert picker.value.startswith("upload:")
    assert "shapes" in at.sidebar.markdown[0].value
    label = picker.format_func(picker.value)
    assert label.startswith("uploaded: shapes · latent 3 (")  # named by its card
    assert "loaded and active" in at.sidebar.success[0].value
    assert label in at.sidebar.success[0].value


def test_a_loaded_checkpoint_leaves_the_uploader_empty_for_the_next(app_env, tmp_path):
    make_tiny_checkpoint(tmp_path / "first", "shapes", seed=3)
    make_tiny_checkpoint(tmp_path / "second", "shapes", seed=4)
    at = upload_checkpoint(_app().run(), checkpoint_files(tmp_path / "first"))
    assert checkpoint_uploader(at).value == []
    at = upload_checkpoint(at, checkpoint_files(tmp_path / "second"))
    assert not at.exception and not at.sidebar.error
    picker = at.sidebar.selectbox(key="model_picker")
    assert len([label for label in picker.options if label.startswith("uploaded:")]) == 2
    assert checkpoint_uploader(at).value == []


def test_the_upload_message_stays_true_after_switching_model(app_env, tmp_path):
    make_tiny_checkpoint(tmp_path / "mine", "shapes", seed=3)
    at = upload_checkpoint(_app().run(), checkpoint_files(tmp_path / "mine"))
    at.sidebar.selectbox(key="model_picker").set_value("asset:mnist32").run()
    assert not at.exception and not at.sidebar.success
    assert "pick it in the Model box" in at.sidebar.info[0].value


def test_an_upload_outcome_is_also_a_toast_once(app_env, tmp_path):
    """The uploader is below the fold at 1280x800: the toast is seen wherever one looks."""
    make_tiny_checkpoint(tmp_path / "mine", "shapes", seed=3)
    weights, config = checkpoint_files(tmp_path / "mine")
    at = upload_checkpoint(_app().run(), [weights, config])
    assert [t.value for t in at.toast] == [at.sidebar.success[0].value]
    at.run()
    assert not at.toast  # said once, not on every rerun
    at = upload_checkpoint(at, [weights])
    assert [t.value for t in at.toast] == [at.sidebar.error[0].value]
    assert "Upload both files" in at.toast[0].value


def test_a_pickle_or_half_a_checkpoint_is_refused_with_a_message(app_env, tmp_path):
    make_tiny_checkpoint(tmp_path / "mine", "shapes")
    weights, config = checkpoint_files(tmp_path / "mine")
    at = upload_checkpoint(_app().run(), [weights])
    assert "Upload both files" in at.sidebar.error[0].value
    pickled = ("model.safetensors", pickle.dumps({"w": [1, 2]}), "application/octet-stream")
    at = upload_checkpoint(_app().run(), [pickled, config])
    assert not at.exception
    assert "cannot be used" in at.sidebar.error[0].value
    assert at.sidebar.selectbox(key="model_picker").value == "asset:mnist32"


def test_a_deleted_run_in_use_is_named_when_the_default_takes_its_place(app_env):
    import shutil

    from tests.app.conftest import write_run_checkpoint

    write_run_checkpoint(app_env)  # a run named "mine"
    at = _app().run()
    at.sidebar.selectbox(key="model_picker").set_value("run:mine").run()
    shutil.rmtree(app_env / "mine")  # as another session's Delete would
    at.run()
    assert not at.exception
    assert at.sidebar.selectbox(key="model_picker").value == "asset:mnist32"
    assert "The run mine you were using is no longer here" in at.sidebar.warning[0].value
    at.sidebar.selectbox(key="model_picker").set_value("asset:shapes").run()
    assert not at.sidebar.warning  # said until another model is chosen


def test_the_card_names_importance_sampling_only_when_it_has_that_figure(tmp_path, monkeypatch):
    from tests.conftest import TINY_VAE, VAE_TEST_FIGURES, save_untrained

    assets = tmp_path / "assets"
    for name, samples in (("sampled", 1000), ("unsampled", 0), ("unrecorded", None)):
        figures = {**VAE_TEST_FIGURES, "data": "binarized", "iw_samples": samples}
        save_untrained(assets / name, TINY_VAE, {k: v for k, v in figures.items()
                                                if v is not None})
    monkeypatch.setenv("LATENT_LAB_ASSETS", str(assets))
    monkeypatch.setenv("LATENT_LAB_RUNS", str(tmp_path / "runs"))
    captions = {}
    for name in ("sampled", "unsampled", "unrecorded"):
        at = _app()
        at.session_state["model_key"] = f"asset:{name}"
        at.run()
        captions[name] = " ".join(c.value for c in at.sidebar.caption)
    assert "importance sampling, k = 1000" in captions["sampled"]
    for name in ("unsampled", "unrecorded"):
        assert "On the binarized test images (1000)." in captions[name]
        assert "importance sampling" not in captions[name] and "k =" not in captions[name]
