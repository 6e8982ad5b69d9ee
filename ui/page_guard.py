"""An unexpected error on a page becomes a short message with a reference; its traceback goes
to the server log, where the reference finds it, and never to the visitor's page.

app.py guards the sidebar and the page. Fragments and widget callbacks need `guarded` too:
Streamlit runs a fragment's rerun and a callback outside the page's run, and a fragment shows
its own exception (then raises FragmentHandledException) before any guard around it hears of it.

Streamlit's st.stop, st.rerun and st.switch_page raise ScriptControlException, a
BaseException (streamlit 1.67), so `except Exception` lets them through untouched.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import uuid
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

import streamlit as st

_LOGGER = logging.getLogger(__name__)
MESSAGE = ("Something went wrong on this page; reference {reference}. "
           "The details are in the server log.")

P = ParamSpec("P")
R = TypeVar("R")


@contextlib.contextmanager
def page_guard(where: str) -> Iterator[None]:
    """Run the block; an Exception from it is logged with a fresh reference and shown briefly."""
    try:
        yield
    except Exception as error:
        reference = uuid.uuid4().hex[:8]
        _LOGGER.error("Unexpected error in %s; reference %s", where, reference, exc_info=error)
        st.error(MESSAGE.format(reference=reference), icon=":material/error:")


def guarded(where: str) -> Callable[[Callable[P, R]], Callable[P, R | None]]:
    """Decorate a fragment (below @st.fragment) or a widget callback with `page_guard`."""
    def decorate(function: Callable[P, R]) -> Callable[P, R | None]:
        @functools.wraps(function)
        def run(*args: P.args, **kwargs: P.kwargs) -> R | None:
            with page_guard(where):
                return function(*args, **kwargs)
            return None  # the guard swallowed an error
        return run
    return decorate
