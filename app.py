"""Latent Lab: explore what a Variational Autoencoder has learned.

`streamlit run app.py` serves the pages in app_pages/ around a shared sidebar that says which
model is active.
"""

import os
from pathlib import Path

# One torch thread per script thread, set before torch loads so that every thread inherits it:
# Streamlit runs fragment reruns in fresh threads, where torch.set_num_threads(1) called from
# another thread does not hold, and a two-thread decode then took ~56 ms instead of ~1 ms
# whenever a training run kept the other core busy (measured on this two-core machine).
os.environ.setdefault("OMP_NUM_THREADS", "1")

import streamlit as st

import ui.gc_policy  # noqa: F401  TCP_NODELAY on the connections, the heavy imports frozen
from ui.deployment import DeploymentError, check_settings
from ui.page_guard import page_guard
from ui.session_uploads import start_sweeper
from ui.sidebar import render_sidebar

# A local favicon: a Material page_icon makes the browser fetch it from fonts.gstatic.com.
FAVICON = Path(__file__).parent / "ui" / "favicon.png"
st.set_page_config(page_title="Latent Lab", page_icon=str(FAVICON), layout="wide")

try:
    check_settings()
except DeploymentError as error:
    st.error(f"Latent Lab is misconfigured: {error} See README, Reliability and deployment.")
    st.stop()
start_sweeper()  # deletes the uploads of sessions that have ended

PAGES = [
    st.Page("app_pages/explore.py", title="Explore", icon=":material/tune:", default=True),
    st.Page("app_pages/latent_map.py", title="Latent map", icon=":material/scatter_plot:"),
    st.Page("app_pages/disentanglement.py", title="Disentanglement",
            icon=":material/grid_view:"),
    st.Page("app_pages/sampling.py", title="Sampling", icon=":material/casino:"),
    st.Page("app_pages/reconstruct.py", title="Reconstruct", icon=":material/image:"),
    st.Page("app_pages/ae_vs_vae.py", title="AE vs VAE", icon=":material/compare:"),
    st.Page("app_pages/train.py", title="Train", icon=":material/model_training:"),
]

page = st.navigation(PAGES)
with page_guard("the sidebar"):
    render_sidebar()
with page_guard(f"the {page.title} page"):
    page.run()
