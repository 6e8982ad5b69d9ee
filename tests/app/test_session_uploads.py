"""Uploaded checkpoints belong to their session: no other session can load them, and the sweep
deletes them once the session has ended (and what exited servers left behind)."""

import subprocess

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import PROJECT_DIR, checkpoint_files, make_tiny_checkpoint, upload_checkpoint
from ui import session_uploads
from ui.active_model import MODEL_KEY


@pytest.fixture
def upload_root(tmp_path, monkeypatch):
    root = tmp_path / "uploads"
    monkeypatch.setattr(session_uploads, "UPLOAD_ROOT", root)
    return root


def _app() -> AppTest:
    return AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=60)


def _uploaded(app_env, tmp_path) -> AppTest:
    make_tiny_checkpoint(tmp_path / "mine", "shapes", seed=3)
    at = upload_checkpoint(_app().run(), checkpoint_files(tmp_path / "mine"))
    assert at.sidebar.selectbox(key="model_picker").value.startswith("upload:")
    return at


def test_an_upload_lives_in_its_session_folder(app_env, tmp_path, upload_root):
    at = _uploaded(app_env, tmp_path)
    (session,) = (upload_root / str(session_uploads.os.getpid())).iterdir()
    digest = at.session_state[MODEL_KEY].removeprefix("upload:")
    assert (session / digest / "model.safetensors").is_file()


def test_another_session_cannot_use_that_upload_even_with_its_key(app_env, tmp_path,
                                                                  upload_root):
    key = _uploaded(app_env, tmp_path).session_state[MODEL_KEY]
    other = _app().run()
    other.session_state[MODEL_KEY] = key  # as if it had guessed the key
    other.run()
    assert not other.exception
    assert "latent 4" in other.sidebar.markdown[0].value  # the default model, not the upload
    assert key not in other.sidebar.selectbox(key="model_picker").options


def test_the_sweep_deletes_ended_sessions_and_keeps_live_ones(app_env, tmp_path, upload_root):
    at = _uploaded(app_env, tmp_path)
    (session,) = session_uploads.server_dir().iterdir()
    assert session_uploads.sweep({session.name}) == []
    assert session.is_dir()
    assert session_uploads.sweep(set()) == [session]
    assert not session.exists()
    at.run()  # the session, if it were still there, falls back to a model it can load
    assert not at.exception and "latent 4" in at.sidebar.markdown[0].value


def test_the_sweep_deletes_what_exited_servers_left(upload_root):
    dead_pid = subprocess.Popen(["true"])  # its pid is free once it has exited
    dead_pid.wait()
    left = upload_root / str(dead_pid.pid) / "some-session"
    left.mkdir(parents=True)
    mine = session_uploads.session_dir("live-session")
    mine.mkdir(parents=True)
    assert session_uploads.sweep({"live-session"}) == [left.parent]
    assert mine.is_dir() and not left.parent.exists()
