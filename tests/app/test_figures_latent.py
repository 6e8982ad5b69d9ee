"""Latent-map figure builders and helpers, as plain unit tests (no Streamlit runtime)."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

import ui.picture_map
from ui.figures_latent import (
    CATEGORY_COLOURS,
    Colouring,
    PlacedImage,
    latent_scatter,
    selected_example,
)
from ui.latent_helpers import MapView, colourings, manifold_extent, sigma_ellipses
from ui.picture_map import (
    SCALE_COLOURS,
    MapPoints,
    atlas_report,
    map_payload,
    new_click,
    palette_of,
)
from ui.thumbnails import Atlas, atlas_layout, thumbnail_atlas
from vae_core.data import ImageDataset
from vae_core.decoder_export import read_envelope
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


def _tiles(atlas: Atlas) -> np.ndarray:
    """The atlas PNG cut back into its tiles: (count, tile_height, tile_width[, 3]) uint8."""
    pixels = np.asarray(Image.open(io.BytesIO(atlas.png)))
    h, w = atlas.tile_height, atlas.tile_width
    return np.stack([pixels[(k // atlas.columns) * h:(k // atlas.columns + 1) * h,
                            (k % atlas.columns) * w:(k % atlas.columns + 1) * w]
                     for k in range(atlas.count)])


def test_the_atlas_holds_each_image_in_its_tile_as_uint8():
    images = np.random.default_rng(0).random((7, 1, 5, 4)).astype(np.float32)
    atlas = thumbnail_atlas(images)
    assert (atlas.count, atlas.columns, atlas.tile_height, atlas.tile_width) == (7, 3, 5, 4)
    assert np.array_equal(_tiles(atlas), np.round(images[:, 0] * 255).astype(np.uint8))
    rgb = thumbnail_atlas(images.repeat(3, axis=1) * np.array([1, 0.5, 0], "f4")[:, None, None])
    assert _tiles(rgb).shape == (7, 5, 4, 3) and _tiles(rgb)[..., 2].max() == 0


def test_a_large_atlas_shrinks_its_tiles_to_fit_the_side_limit():
    assert atlas_layout(2000, 28, 28) == (45, 28, 28)  # 1,260 px: unshrunk
    assert atlas_layout(10_000, 64, 64) == (100, 40, 40)  # 6,400 px would pass 4,096
    columns, height, width = atlas_layout(10, 8, 8, max_side=12)
    assert columns * width <= 12 and -(-10 // columns) * height <= 12
    images = np.ones((10, 1, 8, 8), np.float32)
    images[:, :, :4] = 0.0  # top half black: a 4-row black band survives the shrink
    tiles = _tiles(thumbnail_atlas(images, max_side=12))
    assert tiles.shape[1:] == (height, width) and (tiles[:, : height // 2] == 0).all()
    with pytest.raises(ValueError, match="at least one image"):
        atlas_layout(0, 8, 8)


def test_categories_keep_their_colours_and_a_scale_gets_viridis_steps():
    labels = Colouring("label", np.array([2, 0, 2]), ("a", "b", "c"))
    indices, palette, legend = palette_of(labels)
    assert list(indices) == [2, 0, 2] and palette == list(CATEGORY_COLOURS[:3])
    assert legend == {"kind": "categories", "names": ["a", "b", "c"]}
    indices, palette, legend = palette_of(Colouring("scale", np.array([1.0, 2.0, 3.0])))
    assert list(indices) == [0, SCALE_COLOURS // 2, SCALE_COLOURS - 1]
    assert len(palette) == SCALE_COLOURS and palette[0] == "rgb(68, 1, 84)"  # Viridis' ends
    assert legend == {"kind": "scale", "name": "scale", "low": 1.0, "high": 3.0}


def test_the_map_payload_sends_the_atlas_until_the_page_reports_holding_it(monkeypatch):
    atlas = thumbnail_atlas(np.zeros((4, 1, 2, 2), np.float32))
    points = MapPoints(COORDS, EXAMPLES, Colouring("x", np.arange(4.0)), ("a", "b"))
    control, blobs = read_envelope(map_payload(points, atlas, "id1", None))
    assert blobs["atlas"] == atlas.png and control["atlas"]["in_page"] is False
    assert np.array_equal(np.frombuffer(blobs["coords"], np.float32).reshape(-1, 2), COORDS)
    assert np.array_equal(np.frombuffer(blobs["examples"], np.int32), EXAMPLES)
    held = {"id": "id1", "ok": True, "error": None}
    control, blobs = read_envelope(map_payload(points, atlas, "id1", held))
    assert "atlas" not in blobs and control["atlas"]["in_page"] is True
    unreadable = {"id": "id1", "ok": False, "error": "bad PNG"}
    assert "atlas" not in read_envelope(map_payload(points, atlas, "id1", unreadable))[1]
    lost = {"id": "id1", "ok": False, "error": None}  # the page had it and lost it
    assert "atlas" in read_envelope(map_payload(points, atlas, "id1", lost))[1]
    monkeypatch.setattr(ui.picture_map.st, "session_state", {"map": {"atlas": held}})
    assert atlas_report("map", "id1") == held and atlas_report("map", "id2") is None


def test_each_click_is_given_once_even_on_the_same_example(monkeypatch):
    state = {"map": {"clicked": {"example": 7, "at": 1}}}
    monkeypatch.setattr(ui.picture_map.st, "session_state", state)
    assert new_click("map") == 7 and new_click("map") is None and new_click("other") is None
    state["map"] = {"clicked": {"example": 7, "at": 2}}  # clicked again later
    assert new_click("map") == 7
    state["map"] = {"clicked": {"example": "7", "at": 3}}
    assert new_click("map") is None


def test_manifold_extent_covers_the_grid_plus_half_a_cell_each_side():
    assert manifold_extent() == pytest.approx(6.0 + 6.0 / 14)
