"""A long-running server keeps no closed session's objects: reruns never freeze the collector;
and a session holds the name of the decoder's weights file, not a copy of its bytes.

The RSS over 50 real browser sessions is in benchmarks/session_memory.py.
"""

import gc
import weakref

from streamlit.testing.v1 import AppTest

from tests.app.conftest import open_explore, sliders_component, sliders_data
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


def test_sessions_share_one_weights_file_and_hold_none_of_its_bytes(app_env):
    sessions = [open_explore(), open_explore()]
    files = [sliders_data(at)["weights"] for at in sessions]
    sizes = [len(sliders_component(at).proto.bytes) for at in sessions]
    assert files[0] == files[1]
    assert max(sizes) < files[0]["bytes"] / 20  # a few hundred bytes against the weights' 46 kB
