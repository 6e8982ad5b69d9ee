"""AE vs VAE: the same inputs through a plain autoencoder and a VAE with the same networks.

Latent maps with the prior's circles, the same z ~ N(0, I) decoded by both, the same
interpolation, reconstruction errors, and the share of prior draws that decode to a digit.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from ui.active_model import ActiveModel, active_dataset, active_key
from ui.ae_vs_vae import (
    N_PRIOR_SCORE,
    add_prior_circles,
    interpolations,
    pca_maps,
    prior_decodes,
    prior_scores,
    reconstruction_errors,
)
from ui.figures_latent import latent_scatter
from ui.latent_helpers import colourings
from ui.model_pairs import autoencoders, matching_vaes
from ui.model_registry import ModelEntry, load_entry
from ui.render import display_scale, grid_image
from vae_core.data import ImageDataset

N_DRAWS, STEPS = 16, 10
SEED_KEY = "ae_vs_vae_seed"
SCORE_KEY = "ae_vs_vae_scored"  # the pair whose headline figure this session asked for
NAMES = ("Plain autoencoder", "VAE")
SHORT_NAMES = ("AE", "VAE")  # where a third of the page's width must hold the label


def _load(entry: ModelEntry) -> ActiveModel | None:
    try:
        return ActiveModel(entry, *load_entry(entry))
    except (ValueError, OSError) as error:
        st.error(f"Could not load {entry.label}: {error}.")
        return None


def choose_pair() -> tuple[ActiveModel, ActiveModel] | None:
    """An autoencoder (the active model when it is one) and a VAE with the same networks."""
    aes = {entry.key: entry for entry in autoencoders()}
    if not aes:
        st.info("No plain autoencoder is available to compare. Train one on the Train page "
                "(Model: plain autoencoder) or with `python -m vae_core train --model ae ...`.")
        return None
    keys = list(aes)
    left, right = st.columns(2)
    ae_key = left.selectbox("Plain autoencoder", keys, format_func=lambda k: aes[k].label,
                            index=keys.index(active_key()) if active_key() in aes else 0,
                            key="pair_ae")
    vaes = {entry.key: entry for entry in matching_vaes(aes[ae_key])}
    if not vaes:
        right.info("No VAE has this autoencoder's networks, likelihood and data. Train one with "
                   "the same settings and Model: VAE.")
        return None
    vae_key = right.selectbox("VAE with the same networks", list(vaes),
                              format_func=lambda k: vaes[k].label, key="pair_vae")
    ae, vae = _load(aes[ae_key]), _load(vaes[vae_key])
    return (ae, vae) if ae is not None and vae is not None else None


def _side_by_side(images: list[np.ndarray], captions: list[str], ncols: int) -> None:
    scale = display_scale(images[0].shape[-2], 56)
    for column, grid, caption in zip(st.columns(2, gap="large"), images, captions, strict=True):
        column.image(grid_image(grid, ncols, scale), caption=caption, output_format="PNG")


def latent_maps(pair, data: ImageDataset) -> None:
    st.header("Latent maps")
    st.caption("Each point is one test image: its code (AE) or its posterior mean (VAE), on its "
               "model's first two principal axes (PCA for both); dashed: the prior N(0, I) at "
               "1σ and 2σ. The VAE's KL term pulls every q(z|x) towards N(0, I), so its means "
               "fill the prior's circles. Nothing pulls the AE's codes anywhere: they spread on "
               "a scale of their own, with empty space between and around the clusters, where "
               "the decoder was never trained.")
    versions = tuple(m.version for m in pair)
    maps = pca_maps(versions, tuple(m.model for m in pair), data)
    colouring = next(iter(colourings(data, len(maps[0][0])).values()))
    for column, (coords, origin), name in zip(st.columns(2), maps, NAMES, strict=True):
        rows = np.arange(len(coords))
        figure = latent_scatter(coords, rows, colouring.subset(rows), ("PC 1", "PC 2"))
        add_prior_circles(figure, origin).update_layout(height=460, title=name)
        column.plotly_chart(figure, key=f"map_{name}")


def same_prior_draws(pair) -> None:
    st.header("The same z ~ N(0, I) through both")
    seed = st.session_state.setdefault(SEED_KEY, 0)
    if st.button("New draws", key="ae_vs_vae_new_draws"):
        seed = st.session_state[SEED_KEY] = seed + 1
    images = prior_decodes(tuple(m.version for m in pair), N_DRAWS, seed,
                           tuple(m.model for m in pair))
    _side_by_side(images, [f"{name}: decoder means" for name in NAMES], N_DRAWS // 2)
    st.caption(f"The same {N_DRAWS} draws z ~ N(0, I) (seed {seed}) through each decoder. The "
               "VAE was trained so that the prior is where its codes live, and most draws decode "
               "to digits. The AE has no prior: these z lie where it put no code, and many "
               "decode to blots and hybrids.")


def same_interpolation(pair, data: ImageDataset) -> None:
    st.header("The same interpolation through both")
    count = data.test_x.shape[0]
    left, right = st.columns(2)
    start = left.number_input("From test image", 0, count - 1, 0, key="ae_vs_vae_from")
    end = right.number_input("To test image", 0, count - 1, 1, key="ae_vs_vae_to")
    paths = interpolations(tuple(m.version for m in pair), (int(start), int(end)), STEPS,
                           tuple(m.model for m in pair), data.test_x.numpy())
    _side_by_side(paths, [f"{name}: from #{start} to #{end}" for name in NAMES], STEPS)
    st.caption("Decoder means on the straight line between the two images' codes. The VAE's "
               "path stays in the region the prior covers and passes through digit-like "
               "images; the AE's path may cross the gaps between its clusters.")


def errors(pair, data: ImageDataset) -> None:
    st.header("Reconstruction error")
    results = reconstruction_errors(tuple(m.version for m in pair), tuple(m.model for m in pair),
                                    data)
    for column, result, name in zip(st.columns(2), results, NAMES, strict=True):
        column.metric(f"{name}: -log p(x|z)", f"{result.nats:.1f} nats/image",
                      help="At z = the code (AE) or the posterior mean (VAE)")
        column.caption(f"mean squared error {result.mse:.4f} per pixel, {result.n_images} test "
                       "images")
    st.caption("The AE spends everything on reconstruction, so it usually reconstructs a little "
               "better; the VAE gives some of that up (the KL term) for a latent space its prior "
               "covers.")


def headline(pair, data: ImageDataset) -> None:
    st.header("How much of the prior decodes to a digit?")
    st.caption(f"A small classifier (a one-hidden-layer MLP, scikit-learn) is trained on the real "
               f"training digits, then labels the decodes of {N_PRIOR_SCORE:,} draws z ~ N(0, I), "
               "the same draws for both models. The figure is the share it labels with "
               "probability ≥ 0.9; the same share on real test digits is the ceiling.")
    versions = tuple(m.version for m in pair)
    if not data.label_names:
        st.info("This data set has no labels, so there is no digit classifier to ask.")
        return
    if st.session_state.get(SCORE_KEY) != versions:
        if not st.button("Compute it (trains the classifier once, about 15 s)",
                         key="ae_vs_vae_score"):
            return
        st.session_state[SCORE_KEY] = versions
    scores = prior_scores(versions, pair[0].checkpoint.data_config,
                          tuple(m.model for m in pair), data)
    columns = st.columns(3)
    for column, score, name in zip(columns, scores, SHORT_NAMES, strict=False):
        column.metric(f"{name}: prior draws recognised", f"{100 * score.share:.1f}%",
                      help="Labelled with probability ≥ 0.9 by the classifier.")
    accuracy = 100 * scores[0].classifier_accuracy
    columns[2].metric("Real test digits (ceiling)", f"{100 * scores[0].real_share:.1f}%",
                      help=f"The classifier's accuracy on them: {accuracy:.1f}%")


def main() -> None:
    st.title("AE vs VAE")
    st.caption("A plain autoencoder maps each image to one code and is trained only to give the "
               "image back. A VAE maps it to a distribution q(z|x) and also pays a KL term that "
               "keeps those distributions near the prior N(0, I). Below, the same inputs through "
               "both: same networks, same data, same seed.")
    pair = choose_pair()
    if pair is None:
        return
    data = active_dataset(pair[0])
    if data is not None:
        latent_maps(pair, data)
    same_prior_draws(pair)
    if data is not None:
        same_interpolation(pair, data)
        errors(pair, data)
        headline(pair, data)


main()
