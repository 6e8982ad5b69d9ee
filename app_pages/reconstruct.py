"""Reconstruct: one image through the VAE (input, reconstruction, posterior, samples, -ELBO,
log p(x)), the image changed along attribute directions, the latent path between two images
(linear and spherical) and z(A) - z(B) + z(C)."""

from __future__ import annotations

import functools

import numpy as np
import streamlit as st

from ui.active_model import ActiveModel, model_page
from ui.explore_state import choose_z
from ui.familiarity import familiarity_note, test_neg_elbos
from ui.page_guard import guarded
from ui.random_picks import next_pick_rng
from ui.reconstruct_edits import arithmetic_result, edit_section, input_png
from ui.reconstruct_helpers import (
    IW_SAMPLES,
    N_SAMPLES,
    Analysis,
    analyse,
    interpolation,
    posterior_figure,
    prepare_upload,
    preview,
    strip_gif,
    strip_layout,
)
from ui.render import display_scale, grid_image, to_image
from vae_core.data import ImageDataset, ImageInputError
from vae_core.discretization import bits_per_dim, data_kind
from vae_core.model_kinds import NO_LIKELIHOOD, NOT_FOR_AE

TEST, UPLOAD = "Test image", "Upload"
STRIP_PX = 900  # an interpolation strip's width on the page; longer strips wrap into rows
FRAME_PX = 84  # each interpolation frame at least this big (an integer upscale of the image)


@guarded("the Reconstruct page")
def _random_index(key: str, count: int) -> None:
    """Button callback: runs before the script, so the number input can still change."""
    st.session_state[key] = int(next_pick_rng(f"{key}_draws").integers(count))


def _test_image(prefix: str, data: ImageDataset, default: int) -> tuple[np.ndarray, str]:
    count, key = data.test_x.shape[0], f"{prefix}_index"
    left, right = st.columns([2, 1], vertical_alignment="bottom")
    index = left.number_input("Test image", 0, count - 1, default, key=key)
    right.button("Random", key=f"{prefix}_random", on_click=_random_index, args=(key, count))
    return data.test_x[index].numpy(), f"test image #{index}"


def pick_image(prefix: str, label: str | None, data: ImageDataset | None, active: ActiveModel,
               default: int = 0):
    """A test image or an upload -> (model input (C, H, W), the upload as sent or None, caption);
    (None, None, None) when there is nothing usable, with the reason on the page.

    Both sources sit in tabs and both are drawn on every run, so the uploader is mounted from
    the first paint on and its file survives a look at the test images (a widget left out of a
    run loses its value, and one created by the rerun a switch starts can miss a quick drop).
    """
    if label:
        st.markdown(f"**{label}**")
    if data is None:
        return _uploaded_image(prefix, active)
    test_tab, upload_tab = st.tabs([TEST, UPLOAD], key=f"{prefix}_source", on_change="rerun")
    with test_tab:
        x, caption = _test_image(prefix, data, default)
    with upload_tab:
        uploaded = _uploaded_image(prefix, active)
    return uploaded if upload_tab.open else (x, None, caption)


def _uploaded_image(prefix: str, active: ActiveModel):
    # No `type=` filter: the browser would refuse another format beside the previous file,
    # whose results stayed below; the server's check names the file and clears them.
    file = st.file_uploader("PNG, JPEG, BMP, GIF or WebP", key=f"{prefix}_upload")
    if file is None:
        st.info("Upload an image, e.g. a digit drawn on paper, for the model to reconstruct.")
        return None, None, None
    try:
        return prepare_upload(file.getvalue(), active), preview(file.getvalue()), file.name
    except ImageInputError as error:
        st.error(f"{file.name}: {error}")
        return None, None, None


def show_images(active: ActiveModel, result: Analysis, original, caption: str) -> None:
    scale = display_scale(active.image_shape[1], 200)
    shown = [(original, f"{caption}, as uploaded")] if original is not None else []
    shown += [(to_image(result.x, scale), f"model input ({caption})"),
              (to_image(result.reconstruction, scale), "reconstruction: decoder mean at μ")]
    for column, (image, text) in zip(st.columns(len(shown)), shown, strict=True):
        # At its own width: a browser rescale by a non-integer factor makes uneven pixels.
        column.image(image, caption=text, output_format="PNG", width=image.width)


def show_figures(result: Analysis, likelihood: str) -> None:
    if result.recon is None:  # a decoder without a likelihood
        if result.kl is not None:
            st.metric("KL(q(z|x) ‖ p(z))", f"{result.kl:.1f}", help="Closed form, nats")
        st.caption(f"The rest does not apply: {NO_LIKELIHOOD}.")
        return
    if result.neg_elbo is None:  # a plain autoencoder
        st.metric("Reconstruction (nats)", f"{result.recon:.1f}",
                  help="-log p(x|z) at the image's code z")
        st.caption(f"{NOT_FOR_AE['neg_elbo']}; {NOT_FOR_AE['log_px']}.")
        return
    columns = st.columns(5)
    columns[0].metric("-ELBO (nats)", f"{result.neg_elbo:.1f}",
                      help="KL + reconstruction, averaged over 64 posterior draws")
    columns[1].metric("KL(q(z|x) ‖ p(z))", f"{result.kl:.1f}", help="Closed form, nats")
    columns[2].metric("Reconstruction (nats)", f"{result.recon:.1f}",
                      help="-E_q[log p(x|z)]: how well decoded draws from q(z|x) explain x")
    columns[3].metric(f"log p(x) (IWAE, k={IW_SAMPLES})", f"{result.log_px:.1f}",
                      help="Importance-weighted estimate; a lower bound that tightens with k")
    columns[4].metric("Gap log p(x) - ELBO", f"{result.log_px + result.neg_elbo:.1f}",
                      help="≈ KL(q(z|x) ‖ p(z|x)): how far the encoder is from the true posterior")
    n_dims = int(np.prod(result.x.shape[-3:]))
    st.caption(f"Nats per image of the {data_kind(likelihood)} model input (one fixed draw, "
               f"as for the test figures): -log p(x) is "
               f"{bits_per_dim(-result.log_px, n_dims):.3f} bits/dim.")


def show_samples(active: ActiveModel, result: Analysis) -> None:
    scale = display_scale(active.image_shape[1], 84)
    if not active.is_variational:
        st.image(grid_image(result.likelihood_draws, N_SAMPLES, scale), output_format="PNG",
                 caption="samples x ~ p(x|z = the code): the decoder's own pixel noise")
        st.caption(f"No draws from q(z|x) and no μ ± σ chart: {NOT_FOR_AE['posterior_std']}.")
        return
    left, right = st.columns(2)
    left.image(grid_image(result.posterior_draws, N_SAMPLES, scale), output_format="PNG",
               caption="decoder means at z ~ q(z|x): what the encoder is unsure about")
    right.image(grid_image(result.likelihood_draws, N_SAMPLES, scale), output_format="PNG",
                caption="samples x ~ p(x|z = μ): the decoder's own pixel noise")
    st.plotly_chart(posterior_figure(result.mu, result.sigma), key="posterior_chart")


def reconstruction_section(active: ActiveModel, data: ImageDataset | None) -> None:
    x, original, caption = pick_image("recon", None, data, active)
    if x is None:
        return
    seed = st.columns([1, 2])[0].number_input("Sample seed", 0, 10_000, 0, key="recon_seed")
    result = analyse(active, x, seed)
    show_images(active, result, original, caption)
    show_figures(result, active.checkpoint.model_config.likelihood)
    if data is not None and result.neg_elbo is not None:  # the note compares -ELBOs
        far, text = familiarity_note(result.neg_elbo, test_neg_elbos(active.version, active, data))
        (st.warning if far else st.caption)(text)
    show_samples(active, result)
    st.divider()
    edit_section(active, data, result.x, result.mu, caption)


def interpolation_section(active: ActiveModel, data: ImageDataset | None) -> None:
    st.header("Interpolate")
    st.caption("Decoder means along the path between two posterior means (a plain "
               "autoencoder: two codes). Spherical paths keep the norm typical of N(0, I) draws; "
               "linear ones pass nearer the origin.")
    start, end = st.columns(2)
    with start:
        xa, _, _ = pick_image("interp_a", "From", data, active, 0)
    with end:
        xb, _, _ = pick_image("interp_b", "To", data, active, 1)
    steps = st.slider("Steps", 3, 16, 10, key="interp_steps")
    if xa is None or xb is None:
        return
    a, b = analyse(active, xa), analyse(active, xb)
    height, width = active.image_shape[1:]
    per_row, scale = strip_layout(steps, height, width, STRIP_PX, FRAME_PX)
    for mode in ("linear", "spherical"):
        images = interpolation(active, a, b, steps, mode)
        st.image(grid_image(images, per_row, scale), caption=mode, output_format="PNG")
        # Encoded when clicked, on its own thread: not in every run of the page.
        st.download_button(f"Download the {mode} path as a GIF", key=f"gif_{mode}",
                           data=functools.partial(strip_gif, images, display_scale(height, 160)),
                           file_name=f"interpolation-{mode}.gif", mime="image/gif",
                           on_click="ignore")


def arithmetic_section(active: ActiveModel, data: ImageDataset | None) -> None:
    st.header("Vector arithmetic")
    st.caption("z(A) - z(B) + z(C) with posterior means: C plus the way A differs from B "
               "(e.g. A a thick 7, B a thin 7, C a thin 3: a thick 3, if the model learned "
               "thickness as a direction).")
    columns = st.columns(3)
    images = []
    for column, (name, default) in zip(columns, (("A", 2), ("B", 3), ("C", 4)), strict=True):
        with column:
            x, _, _ = pick_image(f"arith_{name.lower()}", name, data, active, default)
            if x is not None:
                st.image(input_png(active, x), output_format="PNG", caption=f"{name}")
            images.append(x)
    if any(x is None for x in images):
        return
    z, png = arithmetic_result(active, images)
    left, right = st.columns([1, 2], vertical_alignment="center")
    left.image(png, output_format="PNG", caption="decoded z(A) - z(B) + z(C)")
    if right.button("Open this z in Explore", key="arith_explore"):
        choose_z(z, "z(A) - z(B) + z(C) from Reconstruct")
        st.switch_page("app_pages/explore.py")


def main() -> None:
    if (opened := model_page("Reconstruct")) is None:
        return
    active, data = opened
    reconstruction_section(active, data)
    st.divider()
    interpolation_section(active, data)
    st.divider()
    arithmetic_section(active, data)


main()
