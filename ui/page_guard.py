"""An unexpected error on a page becomes a short message with a reference; its traceback goes
to the server log, where the reference finds it, and never to the visitor's page.

Streamlit's st.stop, st.rerun and st.switch_page raise ScriptControlException, a
BaseException (streamlit 1.67), so `except Exception` lets them through untouched.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterator

import streamlit as st

_LOGGER = logging.getLogger(__name__)
MESSAGE = ("Something went wrong on this page; reference {reference}. "
           "The details are in the server log.")


@contextlib.contextmanager
def page_guard(where: str) -> Iterator[None]:
    """Run the block; an Exception from it is logged with a fresh reference and shown briefly."""
    try:
        yield
    except Exception as error:
        reference = uuid.uuid4().hex[:8]
        _LOGGER.error("Unexpected error in %s; reference %s", where, reference, exc_info=error)
        st.error(MESSAGE.format(reference=reference), icon=":material/error:")
