"""Sampling: the reparameterization trick z = mu + sigma ⊙ eps, animated for one input x."""

from __future__ import annotations

import numpy as np
import streamlit as st

from ui.active_model import ActiveModel, kl_per_dim, model_page
from ui.figures_sampling import (
    SamplingRun,
    draw_reparameterized,
    format_vector,
    plane_dims,
    sampling_figure,
)
from ui.page_guard import guarded
from ui.plotly_interrupts import quiet_plotly_interrupts
from ui.random_picks import next_pick_rng
from ui.render import display_scale, encode_gif, png_bytes, side_by_side, to_image
from vae_core.data import ImageDataset
from vae_core.latent import decode_mean, dimension_order, encode_images
from vae_core.model_kinds import NOT_FOR_AE

INDEX_KEY = "sampling_index"
RANDOM_DRAWS_KEY = "sampling_random_draws"
GIF_PX = 112  # side of each decoded image in the GIF


def _gif(posterior: np.ndarray, prior: np.ndarray) -> bytes:
    """Posterior (left) and prior (right) decoded means, one GIF frame per draw."""
    scale = display_scale(posterior.shape[-2], GIF_PX)
    return encode_gif([side_by_side([to_image(a, scale), to_image(b, scale)])
                       for a, b in zip(posterior, prior, strict=True)])


@st.cache_data(max_entries=16, show_spinner="Drawing samples...")
def _sampling_run(version: str, index: int, n: int, seed: int, dims: tuple[int, ...],
                  _active: ActiveModel, _data: ImageDataset) -> SamplingRun:
    """Encode test example `index`, draw n reparameterized samples, decode both sides."""
    encoded = encode_images(_active.model, _data.test_x[index : index + 1])
    mu, sigma = encoded.mean[0], encoded.std[0]  # (D,) each
    draws = draw_reparameterized(mu, sigma, n, seed)
    posterior = decode_mean(_active.model, draws.z_posterior)  # (n, C, H, W)
    prior = decode_mean(_active.model, draws.z_prior)
    plane = list(dims)
    figure = sampling_figure(mu[plane], sigma[plane], draws.on(plane), posterior, prior,
                             [f"z{j}" for j in dims])
    return SamplingRun(figure, _gif(posterior, prior), mu[plane], sigma[plane])


@guarded("the Sampling page")
def _pick_random_example(count: int) -> None:
    st.session_state[INDEX_KEY] = int(next_pick_rng(RANDOM_DRAWS_KEY).integers(count))


def _controls(data: ImageDataset) -> tuple[int, int, int]:
    """Which example, how many draws, which seed; shows the example itself."""
    count = data.test_x.shape[0]
    # Another model's dataset may be smaller: keep the remembered index inside this one.
    st.session_state[INDEX_KEY] = min(st.session_state.get(INDEX_KEY, 0), count - 1)
    picture, example, frames, seed = st.columns([1, 2, 3, 1.5], vertical_alignment="bottom")
    index = example.number_input("Test example x", 0, count - 1, key=INDEX_KEY)
    example.button("Random example", on_click=_pick_random_example, args=(count,))
    n = frames.slider("Frames (draws of ε)", 12, 60, 24, key="sampling_frames")
    seed_value = seed.number_input("Seed", 0, 2**31 - 1, 0, key="sampling_seed")
    image = data.test_x[index].numpy()  # (C, H, W)
    picture.image(png_bytes(to_image(image, display_scale(image.shape[-2], 84))),
                  caption=f"x = test example {index}", output_format="PNG")
    return int(index), int(n), int(seed_value)


def main() -> None:
    if (opened := model_page("Sampling: the reparameterization trick")) is None:
        return
    active, data = opened
    if not active.is_variational:
        st.info(f"The reparameterization trick does not apply here: {NOT_FOR_AE['posterior_std']}"
                ". The AE vs VAE page decodes the same z ~ N(0, I) through this model and a VAE.",
                icon=":material/info:")
        return
    if data is None:
        st.info("This page draws z for a test example of the model's own dataset: pick a model "
                "whose data is available here (the shipped ones are).")
        return
    index, n, seed = _controls(data)
    dims = plane_dims(dimension_order(kl_per_dim(active, data), active.latent_dim))
    run = _sampling_run(active.version, index, n, seed, dims, active, data)
    names = ", ".join(f"z{j}" for j in dims)
    st.plotly_chart(run.figure, config={"displayModeBar": False})
    quiet_plotly_interrupts()
    st.caption(f"q(z|x) on ({names}): μ = {format_vector(run.mu)}, σ = {format_vector(run.sigma)}. "
               f"Each of the {n} frames draws ε ~ N(0, I) (seed {seed}): left, z = μ + σ ⊙ ε "
               "lands inside the posterior's ellipses; right, the same ε is a draw from the "
               "prior. The images are the decoder means of the whole z.")
    st.download_button(f"Download GIF ({n} frames, {len(run.gif) / 1024:.0f} kB)", run.gif,
                       file_name=f"sampling-x{index}-seed{seed}.gif", mime="image/gif",
                       on_click="ignore")
    st.caption("The GIF shows each frame's decoded mean: from q(z|x) left, from the prior right.")


main()
