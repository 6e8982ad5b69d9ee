"""Explore: one slider per latent dimension, the decoder's distribution redrawn while dragging."""

from __future__ import annotations

import contextlib

import streamlit as st

from ui.active_model import (
    ActiveModel,
    explored_model,
    kl_per_dim,
    model_page,
)
from ui.directions import direction_z, left_behind
from ui.explore_state import (
    RANDOM_DRAWS_KEY,
    Z_KEY,
    Z_LIMIT,
    Z_STEP,
    choose_z,
    dimension_label,
    example_z,
    is_collapsed,
    next_sample_seed,
    record_sliders,
    sample_seed,
    scoped_key,
    sliders_key,
    snap,
    sync_z,
    upload_z,
    z_revision,
    z_source,
)
from ui.latent_sliders import PageSamples, latent_sliders
from ui.neighbours import page_strip, show_neighbours
from ui.page_decoder import PageDecoder, decodes_in_page, page_decoder, page_decoder_error
from ui.page_guard import guarded
from ui.random_picks import next_pick_rng
from ui.render import decoder_view, samples_scale, traversal_png
from vae_core.data import ImageDataset, ImageInputError
from vae_core.latent import dimension_order
from vae_core.model_kinds import NO_LIKELIHOOD, NOT_FOR_AE, names_likelihood
from vae_core.principal import MAX_SLIDERS, PrincipalView

N_SAMPLES = 4
TRAVERSAL_STEPS = 9
UPLOAD_KEY = "explore_upload_applied"  # (model version, file id): an upload sets z only once
GAUSSIAN = ("gaussian", "gaussian_fixed")


def _example_buttons(active: ActiveModel, data: ImageDataset, columns) -> str | None:
    """Returns a refusal to show for a number outside the test set. The input has no bounds of
    its own: a bound in the browser dropped 99999 silently, and 'Use example' used example 0."""
    count = data.test_x.shape[0]
    index = columns[0].number_input("Test example", value=0, step=1,
                                    key=scoped_key("example", active.version))
    in_range = 0 <= index < count
    if columns[1].button("Use example", width="stretch", disabled=not in_range,
                         help="z = the posterior mean of this test example"):
        choose_z(example_z(active, data.test_x, index), f"posterior mean of test example {index}")
    if columns[2].button("Random example", width="stretch",
                         help="z = the posterior mean of a random test example"):
        pick = int(next_pick_rng(RANDOM_DRAWS_KEY).integers(count))
        choose_z(example_z(active, data.test_x, pick), f"posterior mean of test example {pick}")
    if not in_range:
        return f"There is no test example {index}: pick one from 0 to {count - 1}."
    return None


def _upload(active: ActiveModel) -> str | None:
    """Set z from an uploaded image (once per file and model); returns an error to show."""
    file = st.file_uploader("z = the posterior mean of your image", key="explore_upload")
    marker = (active.version, file.file_id if file else None)
    if file is None or st.session_state.get(UPLOAD_KEY) == marker:
        return None
    try:
        z = upload_z(active, file.getvalue())
    except ImageInputError as error:
        return f"{file.name}: {error}"
    st.session_state[UPLOAD_KEY] = marker
    choose_z(z, f"posterior mean of your image {file.name}")
    return None


def _z_sources(active: ActiveModel, data: ImageDataset | None) -> str | None:
    """The buttons that set z. They run before the sliders are drawn, which lets them move them."""
    columns = st.columns([0.8, 1, 1, 1.1, 1.3, 1.3], vertical_alignment="bottom")
    if columns[0].button("z = 0", width="stretch"):
        choose_z([0.0] * active.latent_dim, "z = 0, the prior's mean")
    if columns[1].button("Random z", width="stretch", help="Draw z ~ N(0, I), the prior"):
        z = next_pick_rng(RANDOM_DRAWS_KEY).standard_normal(active.latent_dim)
        choose_z(z, "a random draw from the prior")
    refusal = _example_buttons(active, data, columns[2:5]) if data is not None else None
    with columns[5].popover("Your image", width="stretch"):
        return _upload(active) or refusal


def _label(active: ActiveModel, dim: int, kl) -> str:
    if isinstance(active.model, PrincipalView):
        return active.model.label(dim)
    return dimension_label(dim, kl)


def _sliders(active: ActiveModel, kl, order: list[int], z: list[float],
             decoder: PageDecoder | None, seed: int, data: ImageDataset | None) -> None:
    """One element for all dimensions, in KL order; it sends z when a move ends or pauses.
    Where it decodes, it also draws the samples, the traversal and the nearest test images."""
    latent_sliders(
        [_label(active, dim, kl) for dim in order], [z[dim] for dim in order],
        sliders_key(active.version), Z_LIMIT, Z_STEP, revision=z_revision(),
        muted=[is_collapsed(dim, kl) for dim in order], order=order, decoder=decoder,
        samples=_page_samples(active, seed), traversal_steps=TRAVERSAL_STEPS,
        neighbours=None if data is None else page_strip(data, "the current z"),
        caption=f"z: {z_source(z) or 'set with the sliders'}",
    )


def _mean_caption(likelihood: str) -> str:
    if likelihood in GAUSSIAN:
        return "Decoder mean E[x|z]"
    if not names_likelihood(likelihood):
        return "Decoder output: the mean image it gives"
    return "Decoder mean: each pixel's probability p(x=1|z)"


def _samples_kind(active: ActiveModel) -> str:
    config = active.checkpoint.model_config
    if config.likelihood == "gaussian_fixed":
        return f"mean + std · noise (std {config.fixed_std:g} at every pixel), clipped to [0, 1]"
    if config.likelihood in GAUSSIAN:
        return "mean + std · noise, clipped to [0, 1]"
    return "binary (Bernoulli)"


def _page_samples(active: ActiveModel, seed: int) -> PageSamples | None:
    """The samples the page draws where it decodes; None for a decoder with no p(x|z)."""
    if not names_likelihood(active.checkpoint.model_config.likelihood):
        return None
    height = active.image_shape[-2]
    family = "gaussian" if active.checkpoint.model_config.likelihood in GAUSSIAN else "bernoulli"
    return PageSamples(seed, N_SAMPLES, samples_scale(height), _samples_kind(active), family)


def _decoder_images(active: ActiveModel, z: list[float], seed: int, mean_column,
                    side_column) -> None:
    """The server's images, where the page does not decode: the decoder's mean, its std map
    (Gaussian decoders) and samples x ~ p(x|z), the ones the page would draw."""
    likelihood = active.checkpoint.model_config.likelihood
    gaussian = likelihood in GAUSSIAN
    n_samples = N_SAMPLES if names_likelihood(likelihood) else 0
    view = decoder_view(active.version, tuple(z), n_samples, seed, active.model, gaussian)
    # At their own width: a browser rescale by a non-integer factor would blur the pixels.
    mean_column.image(view.mean_png, output_format="PNG", width=view.width,
                      caption=_mean_caption(likelihood))
    if gaussian:
        low, high = view.std_range
        side_column.image(view.std_png, output_format="PNG", width=view.width,
                          caption=f"Decoder std per pixel: {low:.3f} (black) to {high:.3f} (white)")
    if view.samples_png is None:
        side_column.caption(f"No samples x ~ p(x|z): {NO_LIKELIHOOD}.")
        return
    side_column.image(view.samples_png, output_format="PNG",
                      caption=f"{N_SAMPLES} draws x ~ p(x|z)")
    side_column.caption(f"Samples from the decoder distribution p(x|z), {_samples_kind(active)}; "
                        f"seed {seed}.")
    side_column.button("New samples", on_click=guarded("the Explore page")(next_sample_seed))


def _traversal(active: ActiveModel, z: list[float], order: list[int], kl) -> None:
    dim = st.selectbox("Traverse one dimension", order, key=scoped_key("traverse", active.version),
                       format_func=lambda j: _label(active, j, kl))
    png = traversal_png(active.version, tuple(z), dim, TRAVERSAL_STEPS, active.model)
    st.image(png, output_format="PNG", caption=(
        f"Decoder mean with z{dim} from -3 to +3 (prior standard deviations), "
        "the other dimensions at the current z"))


def _page_decoder(active: ActiveModel,
                  data: ImageDataset | None) -> tuple[PageDecoder | None, str | None]:
    """The decoder to send to the page, and a note when the page cannot (or could not) run it."""
    decoder = page_decoder(active, data, _mean_caption(active.checkpoint.model_config.likelihood))
    if isinstance(decoder, str):
        return None, decoder
    return decoder, page_decoder_error(sliders_key(active.version), active.version)




def _columns(in_page: bool) -> tuple:
    """(slider panel, mean column, side column); the page draws all the images where it decodes
    (the fragment's own container holds the panel then: one element less a move), the server
    until then."""
    if in_page:
        return contextlib.nullcontext(), None, None
    return tuple(st.columns([1.2, 1, 1], gap="medium"))


SLIDERS_FRAGMENT, DIRECTIONS_FRAGMENT = "explore_sliders", "explore_directions"


@st.fragment(key=SLIDERS_FRAGMENT)
@guarded("Explore's sliders")
def _explorer(active: ActiveModel, kl, data: ImageDataset | None) -> None:
    """Sliders and images: a slider move reruns only this, not the data, the KL or the
    attribute directions. Where the page decodes, a move's rerun sends only the sliders' data."""
    order = dimension_order(kl, active.latent_dim)
    z = record_sliders(active.version, order)
    if left_behind(active, data, z):  # the attribute sliders, another fragment, go back to 0
        st.rerun(scope="app")
    seed = sample_seed(active.version)
    decoder, problem = _page_decoder(active, data)
    in_page = decoder is not None and decodes_in_page(sliders_key(active.version), active.version)
    panel, mean_column, side_column = _columns(in_page)
    # The server's images before the sliders' data: fetched while the rest arrives, and the
    # sliders' data, last, tells the page that the server's answer is complete.
    if not in_page:
        _decoder_images(active, z, seed, mean_column, side_column)
        with st.container():  # below the columns
            show_neighbours(active, data, z, "the current z")
    with panel:
        _sliders(active, kl, order, z, decoder, seed, data)
        if problem and not in_page:
            st.warning(f"The decoder does not run in this page ({problem}), so the images "
                       "follow the sliders from the server when a move ends or pauses.")
        if in_page and _page_samples(active, seed) is None:
            st.caption(f"No samples x ~ p(x|z): {NO_LIKELIHOOD}.")
    if not in_page:  # else the page draws it, for the dimension chosen there
        _traversal(active, z, order, kl)


@st.fragment(key=DIRECTIONS_FRAGMENT)
@guarded("Explore's attribute directions")
def _directions(active: ActiveModel, data: ImageDataset | None) -> None:
    """The attribute sliders, after the latent ones: fitting them (seconds, once per model)
    does not delay the first image. A change of theirs reruns them and then the latent sliders
    (another fragment), which show the z they set."""
    st.subheader("Attribute directions")
    st.caption("Move z along directions fitted to the data's labels or known factors (on "
               "posterior means of training data; scored on held-out test data). The latent "
               "sliders follow; moving one of them, or setting z, starts these again at 0.")
    z = snap(st.session_state[Z_KEY])
    direction_z(active, data, z, (DIRECTIONS_FRAGMENT, SLIDERS_FRAGMENT))  # they set z; it shows


def _view_caption(view: PrincipalView, full_dim: int) -> None:
    if view.shares is None:
        st.caption(f"This model's latent has {full_dim} dimensions, more than {MAX_SLIDERS} "
                   f"sliders; without data to find its main directions, the sliders move the "
                   f"first {view.latent_dim} coordinates of z, the others held at 0.")
        return
    st.caption(
        f"This model's latent has {full_dim} dimensions, more than {MAX_SLIDERS} sliders, so "
        f"each slider moves z along one of the top {view.latent_dim} principal directions of "
        "the training images' posterior means (as GANSpace does for GANs), labelled with its share "
        f"of their variance ({100 * view.shares.sum():.0f}% in all), in units of the data's "
        "spread along it, from their centre. A test example or your image is shown by its "
        "position along these directions; the rest of its code is the centre's.")


def main() -> None:
    if (opened := model_page("Explore the latent space")) is None:
        return
    active, data = opened
    full_dim = active.latent_dim
    active = explored_model(active, data)
    kl = kl_per_dim(active, data)
    if isinstance(active.model, PrincipalView):
        _view_caption(active.model, full_dim)
    elif not active.is_variational:
        st.caption("Each slider moves one coordinate of z through the decoder p(x|z), in index "
                   "order: ordering by KL does not apply to a plain autoencoder (no posterior, "
                   "no prior), and 'Random z' and the ±3 range are not where its codes lie "
                   "(see AE vs VAE).")
        st.info(f"This is a plain autoencoder: {NOT_FOR_AE['prior']}. A test example or your "
                "image sets z to its code.", icon=":material/info:")
    else:
        st.caption("Each slider moves one coordinate of z through the decoder p(x|z). They are "
                   "sorted by how much the encoder uses each dimension (its average KL to the "
                   "prior on test data, in nats); a collapsed dimension barely changes the "
                   "image.")
    error = _z_sources(active, data)
    if error:
        st.error(error)
    sync_z(active.version, active.latent_dim)
    _explorer(active, kl, data)
    _directions(active, data)


main()
