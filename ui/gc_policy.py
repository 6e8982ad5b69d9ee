"""Garbage collection for a long-running server: the heavy imports frozen once per process.

Streamlit's gc.collect(2) after every script run is off (`runner.postScriptGC = false` in
.streamlit/config.toml): with torch and plotly loaded it cost ~140 ms per slider change. Python's
own collector still runs; freezing what the imports created keeps its full passes cheap.
Freeze only here, once: `gc.freeze()` also freezes everything alive at that moment, and a frozen
reference cycle is never collected, so freezing at every rerun kept each closed session's state
in memory for good. (The first session's objects alive at this import are frozen with the
libraries: a one-off cost, not a growth.) Just before freezing, the server's connections get
TCP_NODELAY (ui/tcp_nodelay.py), which finds those already open among the unfrozen objects.
"""

from __future__ import annotations

import gc

import plotly.graph_objects  # noqa: F401  the heavy modules the pages use, loaded before freezing
import torch  # noqa: F401

import vae_core  # noqa: F401

from . import tcp_nodelay

tcp_nodelay.install()  # first: it finds the open connections by gc.get_objects(), blind to frozen
gc.collect()
gc.freeze()
