"""The app's shell: navigation, the sidebar's model picker and card, checkpoint upload."""

from streamlit.testing.v1 import AppTest

from tests.conftest import PROJECT_DIR


def _app() -> AppTest:
    return AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=60)


def test_app_starts_on_the_default_model_with_its_card(app_env):
    at = _app().run()
    assert not at.exception
    picker = at.sidebar.selectbox(key="model_picker")
    assert picker.value == "asset:mnist16"
    assert set(picker.options) >= {"mnist16 (shipped)", "mnist2d (shipped)", "shapes (shipped)"}
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
    assert second.sidebar.selectbox(key="model_picker").value == "asset:mnist16"
