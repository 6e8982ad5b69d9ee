"""Latent map: the test set's posterior means in 2-D, their uncertainty, and the decoded plane.

Two maps of the same points: Plotly's (hover gives the example's index and label; sigma ellipses,
the decoded grid behind) and, with "Images on the map", the page's picture map (ui/picture_map.py:
each point its own image once zoomed in, hover enlarges it, box or lasso selects). A click on
either shows the example and its reconstruction beside the map.
"""

import hashlib

import numpy as np
import streamlit as st

from ui.active_model import kl_per_dim, model_page
from ui.figures_latent import PlacedImage, latent_scatter, selected_example
from ui.latent_helpers import (
    DIMS,
    LINE,
    PCA,
    TSNE,
    UMAP,
    colourings,
    encoded_test_set,
    manifold_extent,
    manifold_image,
    map_view,
    reconstruction,
    sigma_ellipses,
)
from ui.latent_plane import latent_plane
from ui.page_decoder import page_decoder, page_decoder_error
from ui.picture_map import MapPoints, atlas_id, picture_map
from ui.render import display_scale, png_data_uri, to_image
from ui.thumbnails import cached_atlas
from vae_core.latent import dimension_order

SELECTED = "latent_map_selected"  # test-example index of the last clicked point
PICTURES = "map_thumbnails"  # the "Images on the map" toggle: the picture map
N_ELLIPSES = 50


def choose_dims(latent_dim: int, kl: np.ndarray | None) -> tuple[int, int] | None:
    """Two different latent dimensions, by default the two the model uses most."""
    order = dimension_order(kl, latent_dim)
    label = (lambda j: f"z{j} (KL {kl[j]:.2f})") if kl is not None else (lambda j: f"z{j}")
    dims = list(range(latent_dim))
    left, right = st.columns(2)
    x = left.selectbox("Horizontal axis", dims, index=int(order[0]), format_func=label,
                       key="map_dim_x")
    y = right.selectbox("Vertical axis", dims, index=int(order[1]), format_func=label,
                        key="map_dim_y")
    if x == y:
        st.warning("Pick two different dimensions.")
        return None
    return int(x), int(y)


def default_dims(latent_dim: int, kl: np.ndarray | None) -> tuple[int, ...] | None:
    """z itself when it has one or two dimensions, else two the person picks."""
    return tuple(range(latent_dim)) if latent_dim <= 2 else choose_dims(latent_dim, kl)


def show_manifold(active, dims: tuple[int, ...], data) -> None:
    if len(dims) == 1:
        st.subheader("The decoded latent line")
        st.caption(f"Decoder means at 15 points over [-3, 3] in z{dims[0]}, left to right.")
        st.image(manifold_image(active.version, dims, active, scale=2), output_format="PNG")
        return
    st.subheader("The decoded latent plane")
    grid, scrub = st.columns([1.3, 1], gap="medium")
    grid.caption(f"Decoder means on a 15 x 15 grid over [-3, 3]² in (z{dims[0]}, z{dims[1]}), "
                 "every other dimension held at 0; up is larger.")
    grid.image(manifold_image(active.version, dims, active, scale=2), output_format="PNG")
    with scrub:
        scrub_plane(active, dims, data)


def scrub_plane(active, dims: tuple[int, int], data) -> None:
    """The same plane, decoded in the page at the point under the mouse."""
    decoder = page_decoder(active, data, "")
    if isinstance(decoder, str):
        st.info(f"Scrubbing the plane needs the decoder in the page, and {decoder}.")
        return
    st.caption("Move the mouse over the plane (the test set's posterior means as dots): the "
               "page decodes the point under it, every frame.")
    key = f"latent_plane_{hashlib.sha1(active.version.encode()).hexdigest()[:10]}"
    latent_plane(key, dims, active.latent_dim, decoder)
    error = page_decoder_error(key, active.version)
    if error:
        st.warning(f"The decoder does not run in this page ({error}).")


def show_selected(active, data, encoded, index: int) -> None:
    mean = encoded.mean[index]
    scale = display_scale(active.image_shape[1], 120)
    st.markdown(f"**Example #{index}**")
    left, right = st.columns(2)
    left.image(to_image(data.test_x[index].numpy(), scale), caption="original",
               output_format="PNG")
    right.image(to_image(reconstruction(active, mean), scale), caption="reconstruction",
                output_format="PNG")
    st.caption("posterior mean z = " + ", ".join(f"{v:.2f}" for v in mean))
    if st.button("Open in Explore", key="open_in_explore", icon=":material/tune:"):
        st.session_state["explore_z"] = list(map(float, mean))
        st.switch_page("app_pages/explore.py")


def controls(active, data, kl):
    """Projection, dimensions, colouring and toggles -> (method, dims, colouring, flags)."""
    method, dims = (LINE, (0,)) if active.latent_dim == 1 else (DIMS, (0, 1))
    if active.latent_dim > 2:
        method = st.radio("Projection", [PCA, TSNE, UMAP, DIMS], horizontal=True,
                          key="map_method")
        if method == DIMS:
            dims = choose_dims(active.latent_dim, kl)
    options = colourings(data, len(data.test_y))
    left, middle, right = st.columns([2, 1, 1])
    colour = left.selectbox("Colour by", list(options), key="map_colour")
    pictures = bool(st.session_state.get(PICTURES))  # drawn below; the toggles above follow it
    plotly_only = "Drawn on the dot map: turn off 'Images on the map'." if pictures else None
    no_sigma = "Does not apply: a plain autoencoder has one code per image (σ = 0)."
    flags = {"ellipses": middle.toggle("1σ ellipses", key="map_ellipses",
                                       disabled=pictures or not active.is_variational,
                                       help=plotly_only or (None if active.is_variational
                                                            else no_sigma))
             and active.is_variational and not pictures,
             "pictures": right.toggle("Images on the map", key=PICTURES, help=(
                 "Each point drawn as its own image once zoomed in (wheel), dots while crowded; "
                 "hover enlarges one, a box or lasso selection shows them as a grid.")),
             "grid": method == DIMS and dims is not None
             and right.toggle("Decoded grid behind", key="map_grid_behind", disabled=pictures,
                              help=plotly_only)
             and not pictures}
    return method, dims, options[colour], flags


def projection_caption(method: str, view) -> None:
    """What a nonlinear view cost: it is computed once per model and kept."""
    if view.seconds is None:
        return
    first = (" The first UMAP after the server starts also compiles numba's code (~6 s of a "
             "quiet 2-core machine's time).") if method == UMAP else ""
    st.caption(f"{method} of {len(view.rows):,} posterior means took {view.seconds:.1f} s on "
               f"this server, once for this model; it is kept for later visits.{first}")


def dot_map(active, view, encoded, colouring, flags, dims) -> None:
    """Plotly's scatter, its ellipses and decoded grid; a click selects the example."""
    ellipses = None
    if flags["ellipses"] and view.components is None:
        st.caption("No ellipses for t-SNE or UMAP: they are nonlinear, so a posterior's "
                   "covariance has no shape in their plane. Use PCA or two dimensions to see "
                   "them.")
    elif flags["ellipses"]:
        ellipses = sigma_ellipses(view, encoded, N_ELLIPSES)
    background = None
    if flags["grid"]:
        uri = png_data_uri(manifold_image(active.version, dims, active))
        background = PlacedImage(uri, 0.0, 0.0, manifold_extent())
    # The click arrives in the chart's state before this run draws it: ring it in this figure.
    clicked = selected_example(st.session_state.get("latent_scatter"))
    if clicked is not None:
        st.session_state[SELECTED] = clicked
    fig = latent_scatter(view.coords, view.rows, colouring.subset(view.rows), view.axis_titles,
                         ellipses, [], background, selected=st.session_state.get(SELECTED))
    st.plotly_chart(fig, on_select="rerun", selection_mode=("points",), key="latent_scatter")


def image_map(active, data, encoded, view, colouring) -> None:
    """The picture map: its atlas holds the encoded test images, tile k = test example k."""
    atlas = cached_atlas(active.version, len(encoded.mean), data.test_x.numpy())
    points = MapPoints(view.coords, view.rows, colouring.subset(view.rows), view.axis_titles)
    clicked = picture_map("latent_picture_map", points, atlas, atlas_id(active.version, atlas))
    if clicked is not None:
        st.session_state[SELECTED] = clicked


def draw_map(active, data, encoded, method, dims, colouring, flags) -> None:
    view = map_view(active.version, method, dims or (0, 1), encoded)
    projection_caption(method, view)
    chart, side = st.columns([3, 1])
    with chart:
        if flags["pictures"]:
            image_map(active, data, encoded, view, colouring)
        else:
            dot_map(active, view, encoded, colouring, flags, dims)
    with side:
        index = st.session_state.get(SELECTED)
        if index is None or index >= len(encoded.mean):
            st.info("Click a point to see its image and reconstruction.")
        else:
            show_selected(active, data, encoded, index)


def main() -> None:
    if (opened := model_page("Latent map")) is None:
        return
    active, data = opened
    if data is None:
        st.info("Without the test set there are no points to plot; the decoded plane is below.")
        dims = default_dims(active.latent_dim, None)
        if dims:
            show_manifold(active, dims, None)
        return
    what = ("posterior mean" if active.is_variational
            else "code (a plain autoencoder: one point per image, no posterior spread)")
    st.caption(f"Each point is one test image's {what}. Hover for its label; click it to "
               "see it decoded and to open it in Explore. 'Images on the map' draws each point "
               "as its image.")
    encoded = encoded_test_set(active.version, active, data)
    method, dims, colouring, flags = controls(active, data, kl_per_dim(active, data))
    if method == DIMS and dims is None:
        return
    draw_map(active, data, encoded, method, dims, colouring, flags)
    if method in (DIMS, LINE):
        show_manifold(active, dims, data)


main()
