"""The Latent map page: scatter views, colourings, ellipses, the decoded plane, opening in Explore.

Plotly charts are UnknownElements in AppTest; their proto carries the figure JSON, which is what
these tests read. Clicking a point needs a browser; here the click's result (the selected
example in session state) is set directly.
"""

import base64
import io
import json
import re

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

import ui.active_model
import ui.latent_helpers
from tests.conftest import PROJECT_DIR, open_app_page
from vae_core.config import DataConfig
from vae_core.data import load_dataset
from vae_core.decoder_export import read_envelope

PAGE = "app_pages/latent_map.py"


def _page(model: str = "asset:mnist32") -> AppTest:
    at = open_app_page("latent_map", model)
    assert not at.exception
    return at


def _figure(at: AppTest) -> dict:
    charts = at.get("plotly_chart")
    assert len(charts) == 1
    return json.loads(charts[0].proto.spec)


def _array(value) -> np.ndarray:
    """Plotly sends numpy arrays as base64 typed arrays: {"dtype": "f8", "bdata": "..."}."""
    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return np.asarray(value)


def _n_points(figure: dict) -> int:
    return sum(len(_array(t["x"])) for t in figure["data"] if t["mode"] == "markers")


def test_pca_map_of_a_4d_model_shows_every_test_point_by_label(app_env):
    at = _page()
    assert at.radio(key="map_method").value == "PCA"
    figure = _figure(at)
    assert _n_points(figure) == 1000  # mnist5k's test set
    assert figure["layout"]["xaxis"]["title"]["text"].startswith("PC 1")
    assert {t["name"] for t in figure["data"]} == {str(d) for d in range(10)}
    assert not at.image  # the decoded plane belongs to 2-D views only


def test_projections_and_ellipses(app_env, monkeypatch):
    monkeypatch.setattr(ui.latent_helpers, "TSNE_POINTS", 80)  # t-SNE on 1,000 takes ~10 s
    at = _page()
    at.toggle(key="map_ellipses").set_value(True).run()
    ellipses = [t for t in _figure(at)["data"] if t["mode"] == "lines"]
    assert len(ellipses) == 1 and ellipses[0]["x"].count(None) == 50

    at.radio(key="map_method").set_value("t-SNE").run()
    assert not at.exception
    figure = _figure(at)
    assert _n_points(figure) == 80
    assert all(t["mode"] == "markers" for t in figure["data"])  # no ellipses for t-SNE
    assert any("No ellipses for t-SNE" in c.value for c in at.caption)

    monkeypatch.setattr(ui.latent_helpers, "UMAP_POINTS", 80)
    at.radio(key="map_method").set_value("UMAP").run()
    assert not at.exception
    assert _n_points(_figure(at)) == 80
    assert _figure(at)["layout"]["xaxis"]["title"]["text"] == "UMAP 1"
    assert any(re.match(r"UMAP of 80 posterior means took \d+\.\d s", c.value) for c in at.caption)

    at.radio(key="map_method").set_value("Two chosen dimensions").run()
    assert not at.exception
    x_dim, y_dim = at.selectbox(key="map_dim_x").value, at.selectbox(key="map_dim_y").value
    assert x_dim != y_dim
    assert _figure(at)["layout"]["xaxis"]["title"]["text"] == f"z{x_dim}"
    assert len(at.image) >= 1  # the decoded plane under the map


def test_shapes_can_be_coloured_by_a_continuous_factor(app_env):
    at = _page("asset:shapes")
    colour = at.selectbox(key="map_colour")
    assert colour.options == ["shape", "scale", "rotation", "x", "y"]
    assert {t["name"] for t in _figure(at)["data"]} == {"square", "ellipse", "heart"}
    colour.set_value("rotation").run()
    assert not at.exception
    (trace,) = _figure(at)["data"]
    assert trace["marker"]["colorbar"]["title"]["text"] == "rotation"
    assert len(_array(trace["marker"]["color"])) == 60  # shapes' tiny test set


def test_a_2d_model_plots_z_and_shows_the_manifold_grid(app_env):
    at = _page("asset:mnist2d")
    assert not at.radio  # nothing to project
    figure = _figure(at)
    assert figure["layout"]["xaxis"]["title"]["text"] == "z0"
    assert "15 x 15 grid" in " ".join(c.value for c in at.caption)
    (plane,) = at.image
    assert len(plane.proto.imgs) == 1
    at.toggle(key="map_grid_behind").set_value(True).run()
    (background,) = _figure(at)["layout"]["images"]
    assert background["source"].startswith("data:image/png;base64,")
    assert background["sizex"] == pytest.approx(6 * 15 / 14)


def _picture_map(at: AppTest):
    (component,) = [c for c in at.get("bidi_component") if c.key == "latent_picture_map"]
    return component


def test_images_on_the_map_send_the_test_images_once_and_a_click_shows_one(app_env):
    at = _page("asset:mnist2d")
    at.toggle(key="map_thumbnails").set_value(True).run()
    assert not at.exception and not at.get("plotly_chart")
    control, blobs = read_envelope(_picture_map(at).proto.bytes)
    coords = np.frombuffer(blobs["coords"], np.float32).reshape(-1, 2)
    examples = np.frombuffer(blobs["examples"], np.int32)
    assert len(coords) == len(examples) == 1000 and np.array_equal(examples, np.arange(1000))
    assert control["axes"] == ["z0", "z1"] and control["legend"]["kind"] == "categories"
    test_x = load_dataset(DataConfig(name="mnist5k")).test_x.numpy()
    atlas = np.asarray(Image.open(io.BytesIO(blobs["atlas"])))
    side, columns = control["atlas"]["tile_width"], control["atlas"]["columns"]
    row, column = divmod(123, columns)
    tile = atlas[row * side:(row + 1) * side, column * side:(column + 1) * side]
    assert np.array_equal(tile, np.round(test_x[123, 0] * 255).astype(np.uint8))

    at.session_state["latent_picture_map"] = {
        "atlas": {"id": control["atlas"]["id"], "ok": True, "error": None},
        "clicked": {"example": 42, "at": 1}}
    at.run()
    assert "atlas" not in read_envelope(_picture_map(at).proto.bytes)[1]  # sent once
    assert any("Example #42" in m.value for m in at.markdown)
    assert at.toggle(key="map_grid_behind").disabled


def test_selected_example_opens_in_explore_with_its_posterior_mean(app_env):
    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=120)
    at.session_state["latent_map_selected"] = 7
    at.switch_page(PAGE).run()
    assert any("Example #7" in m.value for m in at.markdown)
    captions = [c for img in at.image for c in img.captions]
    assert {"original", "reconstruction"} <= set(captions)
    shown = next(c.value for c in at.caption if c.value.startswith("posterior mean z ="))
    at.button(key="open_in_explore").click().run()
    assert not at.exception
    z = at.session_state["explore_z"]
    assert len(z) == 4 and all(isinstance(v, float) for v in z)
    sent = [float(v) for v in shown.removeprefix("posterior mean z = ").split(", ")]
    assert z == pytest.approx(sent, abs=0.031)  # Explore snaps z to its sliders' 0.05 step
    assert not any(t.value == "Latent map" for t in at.title)  # we left the page


def test_without_the_dataset_only_the_decoded_plane_is_shown(app_env, monkeypatch):
    monkeypatch.setattr(ui.active_model, "active_dataset", lambda active: None)
    at = _page("asset:mnist2d")
    assert "no points to plot" in at.info[0].value
    assert not at.get("plotly_chart")
    assert len(at.image) == 1


def test_a_2d_model_gets_its_decoder_in_the_page_to_scrub_the_plane(app_env):
    at = _page("asset:mnist2d")
    assert not at.exception
    (plane,) = at.get("bidi_component")
    control, blobs = read_envelope(plane.proto.bytes)
    assert control["dims"] == [0, 1] and control["latent_dim"] == 2 and blobs == {}
    assert control["weights"]["url"].endswith(f"/{control['weights']['sha256']}.bin")
    at.session_state[plane.key] = {"decoder": {"version": control["version"], "ok": True,
                                               "error": None}}
    at.run()
    (plane,) = at.get("bidi_component")
    assert read_envelope(plane.proto.bytes)[0]["in_page"]
