"""Latent Lab: explore what a Variational Autoencoder has learned.

`streamlit run app.py` serves the pages in app_pages/ around a shared sidebar that says which
model is active.
"""

import gc

import streamlit as st
import torch

from ui.sidebar import render_sidebar

# One thread decodes a 28x28 image in ~0.4 ms; two threads stall whenever a training run is
# busy on the other core (the machine has two).
torch.set_num_threads(1)

st.set_page_config(page_title="Latent Lab", page_icon=":material/explore:", layout="wide")

PAGES = [
    st.Page("app_pages/explore.py", title="Explore", icon=":material/tune:", default=True),
    st.Page("app_pages/latent_map.py", title="Latent map", icon=":material/scatter_plot:"),
    st.Page("app_pages/sampling.py", title="Sampling", icon=":material/casino:"),
    st.Page("app_pages/reconstruct.py", title="Reconstruct", icon=":material/image:"),
    st.Page("app_pages/train.py", title="Train", icon=":material/model_training:"),
]

page = st.navigation(PAGES)
render_sidebar()
# Heavy imports are done: keep their objects out of every later garbage collection pass.
gc.freeze()
page.run()
