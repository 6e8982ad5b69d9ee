"""Latent-map figure builders and helpers, as plain unit tests (no Streamlit runtime)."""

import base64
import io

import numpy as np
import pytest
import torch
from PIL import Image

from ui.figures_latent import (
    CATEGORY_COLOURS,
    Colouring,
    PlacedImage,
    latent_scatter,
    selected_example,
)
from ui.latent_helpers import MapView, colourings, manifold_extent, sigma_ellipses
from ui.thumbnails import thumbnail_uri
from vae_core.data import ImageDataset
from vae_core.latent import Encoded

COORDS = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0]])
EXAMPLES = np.array([10, 11, 12, 13])


def test_categories_become_one_trace_each_with_example_indices():
    colouring = Colouring("label", np.array([1, 0, 1, 1]), ("zero", "one", "two"))
    fig = latent_scatter(COORDS, EXAMPLES, colouring, ("a", "b"))
    assert [t.name for t in fig.data] == ["zero", "one"]  # no empty trace for "two"
    one = fig.data[1]
    assert list(one.x) == [0.0, 4.0, 6.0]
    assert [list(c) for c in one.customdata] == [[10, "one"], [12, "one"], [13, "one"]]
    assert fig.layout.xaxis.title.text == "a" and fig.layout.yaxis.scaleanchor == "x"


def _contrast_with_white(hex_colour: str) -> float:
    """WCAG 2 contrast ratio of a #rrggbb colour against white."""
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)


def test_ten_categories_get_ten_distinct_colours_that_stand_out_on_white():
    labels = Colouring("label", np.arange(10), tuple(str(d) for d in range(10)))
    fig = latent_scatter(np.zeros((10, 2)), np.arange(10), labels, ("a", "b"))
    colours = [trace.marker.color for trace in fig.data]
    assert len(set(colours)) == 10 and set(colours) <= set(CATEGORY_COLOURS)
    assert min(_contrast_with_white(c) for c in colours) >= 3.0


def test_a_selected_example_is_ringed_and_the_others_keep_their_colour():
    colouring = Colouring("label", np.array([1, 0, 1, 1]), ("zero", "one"))
    plain = latent_scatter(COORDS, EXAMPLES, colouring, ("a", "b"))
    fig = latent_scatter(COORDS, EXAMPLES, colouring, ("a", "b"), selected=12)
    (ring,) = fig.data[len(plain.data):]
    assert (ring.x[0], ring.y[0]) == (4.0, 5.0) and ring.marker.symbol == "circle-open"
    assert all(trace.unselected.marker.opacity == trace.marker.opacity for trace in plain.data)
    assert fig.layout.legend.y <= 1.0 and fig.layout.margin.t >= 30  # toolbar above the legend


def test_a_continuous_factor_is_one_trace_with_a_colour_bar():
    colouring = Colouring("scale", np.array([0.5, 0.6, 0.7, 1.0]))
    (trace,) = latent_scatter(COORDS, EXAMPLES, colouring, ("a", "b")).data
    assert list(trace.marker.color) == [0.5, 0.6, 0.7, 1.0]
    assert trace.marker.colorbar.title.text == "scale"
    assert trace.customdata[3][1] == "scale 1.00"


def test_ellipses_are_one_gapped_line_trace_and_images_are_layered():
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 0.0]])
    thumb = PlacedImage("data:image/png;base64,AA==", 2.0, 3.0, 0.5)
    back = PlacedImage("data:image/png;base64,BB==", 0.0, 0.0, 6.4)
    fig = latent_scatter(COORDS, EXAMPLES, Colouring("x", np.zeros(4)), ("a", "b"),
                         ellipses=[square, square + 5], images=[thumb], background=back)
    lines = fig.data[-1]
    assert lines.mode == "lines" and lines.hoverinfo == "skip"
    assert list(lines.x).count(None) == 2 and len(lines.x) == 10
    below, above = fig.layout.images
    assert (below.layer, below.sizex, below.x) == ("below", 6.4, 0.0)
    assert (above.layer, above.x, above.y, above.xanchor) == ("above", 2.0, 3.0, "center")


def test_selected_example_reads_customdata_and_skips_points_without_it():
    event = {"selection": {"points": [{"x": 1.0}, {"customdata": [42, "seven"]}]}}
    assert selected_example(event) == 42
    assert selected_example({"selection": {"points": []}}) is None
    assert selected_example(None) is None


def test_sigma_ellipses_follow_the_posterior_std_in_the_view():
    encoded = Encoded(mean=np.zeros((3, 3)), std=np.array([[1.0, 2.0, 9.0]] * 3))
    view = MapView(np.array([[0.0, 0.0], [5.0, 5.0], [1.0, 1.0]]), np.arange(3),
                   np.eye(3)[[1, 0]], ("z1", "z0"))
    outlines = sigma_ellipses(view, encoded, count=2)
    assert len(outlines) == 2
    offsets = outlines[1] - [5.0, 5.0]
    assert np.abs(offsets).max(axis=0) == pytest.approx([2.0, 1.0], abs=1e-3)  # (z1, z0) stds
    with pytest.raises(ValueError, match="t-SNE"):
        sigma_ellipses(MapView(view.coords, view.rows, None, ("", "")), encoded)


def _dataset(factors: dict, label_names=("a", "b")) -> ImageDataset:
    y = torch.tensor([0, 1, 1, 0])
    x = torch.zeros(4, 1, 2, 2)
    return ImageDataset("t", x, y, x, y, label_names=label_names, test_factors=factors)


def test_colourings_prefer_factors_and_name_the_one_equal_to_the_labels():
    data = _dataset({"shape": torch.tensor([0.0, 1, 1, 0]), "size": torch.tensor([1.0, 2, 3, 4])})
    options = colourings(data, 3)
    assert list(options) == ["shape", "size"]
    assert options["shape"].names == ("a", "b") and not options["size"].names
    assert list(options["size"].values) == [1.0, 2.0, 3.0]
    assert list(colourings(_dataset({}), 4)) == ["label"]
    assert list(colourings(_dataset({}, label_names=()), 4)) == ["nothing"]


def test_thumbnail_uri_is_a_png_of_the_image():
    image = np.zeros((1, 4, 4), np.float32)
    image[0, 1, 2] = 1.0
    uri = thumbnail_uri(image, scale=2)
    assert uri.startswith("data:image/png;base64,")
    decoded = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    pixels = np.asarray(decoded)
    assert pixels.shape == (8, 8) and pixels[2:4, 4:6].min() == 255 and pixels.sum() == 4 * 255


def test_manifold_extent_covers_the_grid_plus_half_a_cell_each_side():
    assert manifold_extent() == pytest.approx(6.0 + 6.0 / 14)
