"""An unexpected error on a page: a short message with a reference on the page, the traceback
in the server log; Streamlit's own control flow (st.switch_page) passes untouched."""

import ast
import logging
import re

import streamlit as st

import ui.explore_state
import ui.random_picks
import ui.reconstruct_helpers
import ui.sidebar
from tests.conftest import PROJECT_DIR, open_app_page, upload_checkpoint

SECRET_PATH = "/srv/latent-lab/secret/weights.bin"
CALLBACK_ARGUMENTS = {"on_click", "on_change", "on_select", "on_submit"}


def _raise(*args, **kwargs):
    raise RuntimeError(f"cannot read {SECRET_PATH}")


def _page_text(at) -> str:
    return " ".join(str(getattr(element, "value", "")) for element in at.main)


def test_an_unexpected_error_shows_a_reference_and_logs_the_traceback(
    app_env, monkeypatch, caplog
):
    monkeypatch.setattr(ui.reconstruct_helpers, "analyse", _raise)
    with caplog.at_level(logging.ERROR, logger="ui.page_guard"):
        at = open_app_page("reconstruct", "asset:mnist32")
    assert not at.exception
    (error,) = at.error
    reference = re.fullmatch(r"Something went wrong on this page; reference ([0-9a-f]{8})\. "
                             r"The details are in the server log\.", error.value).group(1)
    assert at.title[0].value == "Reconstruct"  # what the page drew before the error stays
    assert SECRET_PATH not in _page_text(at) and "RuntimeError" not in _page_text(at)
    (record,) = [r for r in caplog.records if reference in r.getMessage()]
    assert "Reconstruct" in record.getMessage()
    assert record.exc_info[0] is RuntimeError and SECRET_PATH in str(record.exc_info[1])


def test_streamlit_control_flow_is_not_an_error(app_env, monkeypatch):
    """st.switch_page raises a BaseException; a guard that caught it would keep the page."""
    monkeypatch.setattr(ui.reconstruct_helpers, "analyse",
                        lambda *args, **kwargs: st.switch_page("app_pages/sampling.py"))
    at = open_app_page("reconstruct", "asset:mnist32")
    assert not at.exception and not at.error
    assert at.title[0].value.startswith("Sampling")


def _assert_guarded(at, caplog, where: str) -> None:
    """One short message with a reference on the page, the traceback in the log under it."""
    assert not at.exception, at.exception[0].value
    messages = [e.value for e in (*at.error, *at.sidebar.error) if e.value.startswith("Someth")]
    reference = re.search(r"reference ([0-9a-f]{8})", messages[0]).group(1)
    (record,) = [r for r in caplog.records if reference in r.getMessage()]
    assert where in record.getMessage() and record.exc_info[0] is RuntimeError


def test_an_error_in_a_fragment_is_guarded(app_env, monkeypatch, caplog):
    """Explore's sliders are a fragment, which shows its own traceback before any outer guard."""
    monkeypatch.setattr(ui.explore_state, "record_sliders", _raise)
    with caplog.at_level(logging.ERROR, logger="ui.page_guard"):
        at = open_app_page("explore", "asset:mnist32")
    _assert_guarded(at, caplog, "Explore's sliders")
    assert at.title[0].value.startswith("Explore")


def test_an_error_in_a_widget_callback_is_guarded(app_env, monkeypatch, caplog):
    """Callbacks run before the page, outside its guard."""
    monkeypatch.setattr(ui.random_picks, "next_pick_rng", _raise)
    at = open_app_page("sampling", "asset:mnist32")
    with caplog.at_level(logging.ERROR, logger="ui.page_guard"):
        at.button[0].click().run()
    _assert_guarded(at, caplog, "the Sampling page")


def test_an_error_in_the_sidebar_upload_callback_is_guarded(app_env, monkeypatch, caplog):
    monkeypatch.setattr(ui.sidebar, "save_upload", _raise)
    at = open_app_page("explore", "asset:mnist32")
    with caplog.at_level(logging.ERROR, logger="ui.page_guard"):
        upload_checkpoint(at, [("model.safetensors", b"x", "application/octet-stream"),
                               ("config.json", b"{}", "application/json")])
    _assert_guarded(at, caplog, "the sidebar's upload")


def _decorator_names(function: ast.FunctionDef) -> list[str]:
    """@st.fragment(run_every=2) -> 'st.fragment', top to bottom."""
    return [ast.unparse(d.func if isinstance(d, ast.Call) else d) for d in function.decorator_list]


def _wrapped_in_guard(callback: ast.expr) -> bool:
    """on_click=guarded("the Explore page")(next_sample_seed)"""
    return (isinstance(callback, ast.Call) and isinstance(callback.func, ast.Call)
            and ast.unparse(callback.func.func) == "guarded")


def _unguarded(path) -> list[str]:
    """Fragments and widget callbacks in one file that Streamlit would run without a guard."""
    tree = ast.parse(path.read_text())
    functions = {f.name: _decorator_names(f) for f in ast.walk(tree)
                 if isinstance(f, ast.FunctionDef)}
    found = [f"fragment {name}" for name, decorators in functions.items()
             if "st.fragment" in decorators and decorators[-1] != "guarded"]
    for keyword in ast.walk(tree):
        if (isinstance(keyword, ast.keyword) and keyword.arg in CALLBACK_ARGUMENTS
                and not isinstance(keyword.value, ast.Constant)  # "rerun", "ignore"
                and not _wrapped_in_guard(keyword.value)
                and "guarded" not in functions.get(ast.unparse(keyword.value), [])):
            found.append(f"callback {ast.unparse(keyword.value)}")
    return found


def test_every_fragment_and_widget_callback_is_guarded():
    """A guard on the page does not reach them, so each must carry its own (`guarded`)."""
    files = [*PROJECT_DIR.glob("app_pages/*.py"), *PROJECT_DIR.glob("ui/*.py")]
    unguarded = {path.name: found for path in files if (found := _unguarded(path))}
    assert not unguarded


def test_the_coverage_check_finds_an_unguarded_fragment_and_callback(tmp_path):
    page = tmp_path / "page.py"
    page.write_text("@st.fragment\ndef view(): pass\n\n"
                    "def pick(): pass\n\nst.button('x', on_click=pick)\n")
    assert _unguarded(page) == ["fragment view", "callback pick"]
