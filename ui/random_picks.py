"""Random buttons that repeat: the n-th click of a session draws from a generator seeded n."""

from __future__ import annotations

import numpy as np
import streamlit as st


def next_pick_rng(counter_key: str) -> np.random.Generator:
    """A generator seeded by how many picks this session made under `counter_key`, then counted.

    A fresh session clicking "Random ..." gets the same sequence every time: reproducible pages,
    testable buttons.
    """
    draw = st.session_state.get(counter_key, 0)
    st.session_state[counter_key] = draw + 1
    return np.random.default_rng(draw)
