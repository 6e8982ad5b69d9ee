"""The reference the Explore page is held to: a bare page, one slider, a cached decoder.

Served by slider_latency.py beside the real app, so both are measured on the same machine
in the same state. It decodes z = (v, 0, ..., 0) with the shipped mnist32 model.
"""

import io
import sys
from pathlib import Path

import streamlit as st
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vae_core.checkpoint import load_checkpoint
from vae_core.images import to_pil

torch.set_num_threads(1)


@st.cache_resource
def model():
    return load_checkpoint(Path(__file__).resolve().parents[1] / "assets" / "mnist32").model


@st.cache_data
def decode(value: float) -> bytes:
    z = torch.zeros(1, model().latent_dim)
    z[0, 0] = value
    with torch.no_grad():
        image = to_pil(model().decode(z).mean[0], scale=8)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


value = st.slider("z0", -3.0, 3.0, 0.0, 0.05)
st.image(decode(value), output_format="PNG")
