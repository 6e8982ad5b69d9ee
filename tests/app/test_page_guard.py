"""An unexpected error on a page: a short message with a reference on the page, the traceback
in the server log; Streamlit's own control flow (st.switch_page) passes untouched."""

import logging
import re

import streamlit as st

import ui.reconstruct_helpers
from tests.conftest import open_app_page

SECRET_PATH = "/srv/latent-lab/secret/weights.bin"


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
