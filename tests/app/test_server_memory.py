"""A long-running server keeps no closed session's objects: reruns never freeze the collector.

The RSS over 50 real browser sessions is in benchmarks/session_memory.py.
"""

import gc
import weakref

from streamlit.testing.v1 import AppTest

from tests.conftest import PROJECT_DIR


class _Probe:
    """A reference cycle (like most of a session's state): only the cyclic collector frees it."""

    def __init__(self):
        self.me = self


def _app() -> AppTest:
    return AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=60)


def test_reruns_freeze_nothing(app_env):
    at = _app().run()
    frozen = gc.get_freeze_count()
    at.run()
    at.run()
    assert not at.exception
    assert gc.get_freeze_count() <= frozen  # frozen objects may die (refcounts); none added


def test_a_cycle_alive_during_a_rerun_is_collected_once_dropped(app_env):
    at = _app().run()
    probe = _Probe()
    at.session_state["probe"] = probe
    gone = weakref.ref(probe)
    del probe
    at.run()  # the probe is alive (in session state) during this run
    at.session_state["probe"] = None
    at.run()
    gc.collect()
    assert gone() is None
