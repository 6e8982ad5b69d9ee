"""Explore page: one slider per latent dimension, the decoded image follows z, buttons set z.

The sliders are one custom component, an UnknownElement to AppTest: the tests read what it is
given from its JSON data and move it by writing the state the browser would send to its key.
"""

import io
import json
import re

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from tests.app.conftest import (
    EXPLORE_PAGE,
    dimension_of,
    move_slider,
    open_explore,
    set_sliders_state,
    sliders_data,
    sliders_payload,
    z_by_dim,
    z_caption,
)
from tests.conftest import PROJECT_DIR, make_tiny_checkpoint, upload_checkpoint
from tests.extreme_images import EXTREME_SIZES, strip_name, strip_png
from ui import weights_files
from ui.explore_state import dimension_label, snap
from ui.neighbours import POOL, pool_codes
from vae_core import latent
from vae_core.checkpoint import load_checkpoint
from vae_core.data import load_dataset
from vae_core.decoder_export import read_envelope
from vae_core.latent import dimension_order, encode_images


def _nats(label: str) -> float:
    found = re.search(r"([\d.]+) nats", label)
    return float(found.group(1)) if found else 0.0


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def _posterior_mean(tiny_assets, name: str, index: int) -> list[float]:
    checkpoint = load_checkpoint(tiny_assets / name)
    data = load_dataset(checkpoint.data_config)
    return snap(encode_images(checkpoint.model, data.test_x[index : index + 1]).mean[0])


# Pure helpers -----------------------------------------------------------------------------


def test_dimensions_are_ordered_by_kl_and_collapsed_ones_are_marked():
    kl_per_dim = np.array([0.5, 0.001, 2.41, 0.0])
    assert dimension_order(kl_per_dim, 4) == [2, 0, 1, 3]
    assert dimension_order(None, 3) == [0, 1, 2]
    assert dimension_label(2, kl_per_dim) == "z2 · 2.41 nats"
    assert dimension_label(1, kl_per_dim) == "z1 · collapsed"
    assert dimension_label(1, None) == "z1"


def test_snap_clips_to_the_slider_range_and_rounds_to_its_step():
    assert snap([3.7, -4.0, 0.123, -0.026]) == [3.0, -3.0, 0.1, -0.05]


# The page ---------------------------------------------------------------------------------


def test_one_slider_per_dimension_ordered_by_kl(app_env):
    at = open_explore()
    assert not at.exception
    data = sliders_data(at)
    labels = data["labels"]
    assert sorted(dimension_of(label) for label in labels) == [0, 1, 2, 3]  # mnist32: latent 4
    nats = [_nats(label) for label in labels]
    assert nats == sorted(nats, reverse=True)
    # The untrained tiny encoder barely uses some dimensions: they are marked, greyed, last.
    assert any("collapsed" in label for label in labels)
    assert all(_nats(label) == 0.0 for label in labels if "collapsed" in label)
    assert data["muted"] == ["collapsed" in label for label in labels]
    assert (data["limit"], data["step"]) == (3.0, 0.05)
    assert data["values"] == [0.0] * 4
    assert at.session_state["explore_z"] == [0.0] * 4


def test_a_model_card_with_kl_per_dim_sets_the_order_without_encoding(app_env, tmp_path,
                                                                     monkeypatch):
    checkpoint = make_tiny_checkpoint(tmp_path / "mine", "mnist32")
    document = json.loads((checkpoint / "config.json").read_text())
    document["metadata"]["kl_per_dim"] = [0.1, 3.0, 0.001, 1.5]
    encoded = []
    monkeypatch.setattr(latent, "kl_per_dim", lambda *args: encoded.append(args))
    at = upload_checkpoint(AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=60)
                           .run(), [("model.safetensors", (checkpoint / "model.safetensors")
                                     .read_bytes(), "application/octet-stream"),
                                    ("config.json", json.dumps(document).encode(),
                                     "application/json")])
    at = at.switch_page(EXPLORE_PAGE).run()
    assert not at.exception
    labels = sliders_data(at)["labels"]
    assert [dimension_of(label) for label in labels] == [1, 3, 0, 2]
    assert [_nats(label) for label in labels] == [3.0, 1.5, 0.1, 0.0]
    assert "collapsed" in labels[-1]
    assert encoded == []


def test_moving_a_slider_redraws_the_image_and_updates_z(app_env):
    at = open_explore()
    before, revision = at.image[0].value, sliders_data(at)["revision"]
    move_slider(at, 0, 2.0)
    assert not at.exception
    assert at.image[0].value != before
    data = sliders_data(at)
    assert at.session_state["explore_z"][dimension_of(data["labels"][0])] == 2.0
    assert data["values"][0] == 2.0
    assert data["revision"] == revision  # the browser keeps its own values: no reset
    assert z_caption(at) == "z: set with the sliders"


def test_a_move_made_before_a_button_set_z_is_ignored(app_env):
    at = open_explore()
    move_slider(at, 0, 2.0)
    revision = sliders_data(at)["revision"]
    _button(at, "z = 0").click().run()
    assert sliders_data(at)["revision"] == revision + 1  # the browser takes the button's z
    move_slider(at, 1, -1.0, revision=revision)  # sent by the browser before it saw the button's z
    assert at.session_state["explore_z"] == [0.0] * 4
    move_slider(at, 1, -1.0)  # a move after it counts
    assert at.session_state["explore_z"][dimension_of(sliders_data(at)["labels"][1])] == -1.0


def test_gaussian_decoder_shows_its_std_map_and_samples(app_env):
    at = open_explore()
    captions = [c for image in at.image for c in image.captions]
    assert any(c.startswith("Decoder std per pixel") for c in captions)
    assert "4 draws x ~ p(x|z)" in captions
    mean, samples = at.image[0].value, at.image[2].value
    _button(at, "New samples").click().run()
    assert at.image[2].value != samples  # new draws from p(x|z) ...
    assert at.image[0].value == mean  # ... of the same distribution


def test_random_then_zero_buttons_set_the_sliders(app_env):
    at = open_explore()
    _button(at, "Random z").click().run()
    z = z_by_dim(at)
    assert any(v != 0.0 for v in z) and all(-3.0 <= v <= 3.0 for v in z)
    assert at.session_state["explore_z"] == z
    assert z_caption(at) == "z: a random draw from the prior"
    _button(at, "z = 0").click().run()
    assert z_by_dim(at) == [0.0] * 4 and at.session_state["explore_z"] == [0.0] * 4


def test_example_button_sets_z_to_the_posterior_mean(app_env, tiny_assets):
    at = open_explore()
    at.number_input[0].set_value(3).run()
    _button(at, "Use example").click().run()
    assert not at.exception
    assert z_by_dim(at) == _posterior_mean(tiny_assets, "mnist32", 3)
    assert z_caption(at) == "z: posterior mean of test example 3"


def test_a_test_example_out_of_range_is_refused_with_the_range(app_env):
    at = open_explore()
    z = z_by_dim(at)
    at.number_input[0].set_value(99999).run()
    assert not at.exception
    assert at.error[0].value == "There is no test example 99999: pick one from 0 to 999."
    assert at.number_input[0].value == 99999  # as typed
    assert _button(at, "Use example").disabled  # it used example 0
    assert z_by_dim(at) == z


def test_a_z_sent_by_another_page_is_shown_on_the_sliders(app_env):
    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=60).run()
    at.session_state["explore_z"] = [1.0, -0.5, 0.25, 2.0]
    at.switch_page(EXPLORE_PAGE).run()
    assert z_by_dim(at) == [1.0, -0.5, 0.25, 2.0]
    assert z_caption(at) == "z: sent from another page"


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_uploaded_image_sets_z_and_a_bad_file_shows_an_error(app_env):
    at = open_explore()
    digit = np.zeros((40, 40), dtype=np.uint8)
    digit[8:32, 17:23] = 255  # a "1"
    at.file_uploader[0].set_value(("one.png", _png(digit), "image/png")).run()
    assert not at.exception and not at.error
    assert z_caption(at) == "z: posterior mean of your image one.png"
    assert z_by_dim(at) != [0.0] * 4
    at.file_uploader[0].set_value(("notes.png", b"not an image", "image/png")).run()
    assert not at.exception
    message = at.error[0].value
    assert message.startswith("notes.png: ") and "not an image" in message
    assert "0x" not in message and "<_io" not in message  # no Python repr
    assert message.count("Choose an image file") == 1 and "Try another" not in message


@pytest.mark.parametrize(("width", "height"), EXTREME_SIZES)
def test_an_extreme_aspect_ratio_sets_z(app_env, width, height):
    at = open_explore()
    name = strip_name(width, height)
    at.file_uploader[0].set_value((name, strip_png(width, height), "image/png")).run()
    assert not at.exception and not at.error
    assert z_caption(at) == f"z: posterior mean of your image {name}"


@pytest.mark.parametrize(("model", "latent_dim"), [("asset:mnist2d", 2), ("asset:shapes", 3)])
def test_switching_to_a_model_with_another_latent_size_resets_z(app_env, model, latent_dim):
    at = open_explore()
    _button(at, "Random z").click().run()
    at.sidebar.selectbox(key="model_picker").set_value(model).run()
    assert not at.exception
    assert len(sliders_data(at)["labels"]) == latent_dim
    assert z_by_dim(at) == [0.0] * latent_dim
    captions = [c for image in at.image for c in image.captions]
    assert not any(c.startswith("Decoder std") for c in captions)  # Bernoulli: no std map
    assert any("binary (Bernoulli)" in c.value for c in at.caption)


def test_z_survives_a_visit_to_another_page(app_env):
    at = open_explore()
    move_slider(at, 1, -1.5)
    z = at.session_state["explore_z"]
    at.switch_page("app_pages/sampling.py").run()
    at.switch_page(EXPLORE_PAGE).run()
    assert not at.exception
    assert z_by_dim(at) == z and -1.5 in z


# Decoding in the page -----------------------------------------------------------------------


def _report(at: AppTest, status: dict) -> AppTest:
    """What the browser reports after loading the decoder it was sent."""
    return set_sliders_state(at, "decoder", status)


def test_the_page_is_told_the_decoders_file_then_draws_the_mean(app_env, tiny_assets):
    at = open_explore()
    control, blobs = sliders_payload(at)
    weights = control["weights"]  # the page fetches it (tests/app/test_weights_files.py)
    header, file = read_envelope(
        (weights_files.WEIGHTS_DIR / f"{weights['sha256']}.bin").read_bytes())
    assert file["decoder"][4:200].find(b"latent-lab-decoder/3") > 0
    _check_neighbours_part(tiny_assets / "mnist32", header["neighbours"], file)
    assert blobs == {} and not control["in_page"]
    assert at.image[0].captions == ["Decoder mean E[x|z]"]  # the server's, until the page decodes
    _report(at, {"version": control["version"], "ok": True, "error": None})
    control, blobs = sliders_payload(at)
    assert control["in_page"] and control["weights"] == weights and blobs == {}
    server_images = [c for image in at.image for c in image.captions]
    assert not any(c.startswith("Decoder") or "draws x ~ p(x|z)" in c for c in server_images)
    assert control["samples"]["n"] == 4  # the page draws them (tests/app/test_explore_samples.py)
    move_slider(at, 0, 1.5)
    assert not at.exception and sliders_payload(at)[1] == {}


def _check_neighbours_part(assets, layout: dict, file: dict) -> None:
    """The first test images' codes (the pad's scatter and the neighbours' pool), names and
    thumbnails, as ui/neighbours.py has them: the atlas holds each image at its place."""
    checkpoint = load_checkpoint(assets)
    data = load_dataset(checkpoint.data_config)
    count = min(POOL, data.test_x.shape[0])
    codes = np.frombuffer(file["scatter"], dtype="<f4").reshape(count, -1)
    np.testing.assert_allclose(codes, pool_codes(checkpoint.model.eval(), data), atol=1e-6)
    assert layout["count"] == count and len(layout["names"]) == count
    assert layout["names"][1] == f"#1 ({data.label_names[int(data.test_y[1])]})"
    atlas = np.asarray(Image.open(io.BytesIO(file["atlas"])).convert("L"), dtype=float) / 255
    h, w, columns = layout["tile_height"], layout["tile_width"], layout["columns"]
    for index in (0, count - 1):
        row, column = divmod(index, columns)
        tile = atlas[row * h:(row + 1) * h, column * w:(column + 1) * w]
        assert np.abs(tile - data.test_x[index, 0].numpy()).max() <= 1 / 255 + 1e-6


def test_the_test_images_are_encoded_once_for_the_page_and_the_server(app_env, monkeypatch):
    """The decoder's file carries the pool's codes and the server's strip searches them: one
    encoding of the first test images serves both."""
    import ui.neighbours as neighbours
    import ui.page_decoder as page_decoder

    calls = []

    def counted(model, images):
        calls.append(images.shape[0])
        return encode_images(model, images)

    monkeypatch.setattr(neighbours, "encode_images", counted)
    page_decoder._weights_file.clear()
    neighbours._cached_pool_codes.clear()
    at = open_explore()
    assert not at.exception
    assert "weights" in sliders_data(at)  # the file was made in this run...
    assert any(c.startswith("The 8 test images") for image in at.image for c in image.captions)
    assert len(calls) == 1  # ...and the server drew the strip, from the same codes
    page_decoder._weights_file.clear()


def test_a_page_that_cannot_decode_keeps_the_server_image_and_says_so(app_env):
    at = open_explore()
    version = sliders_data(at)["version"]
    _report(at, {"version": version, "ok": False, "error": "WebAssembly is off"})
    assert at.image[0].captions == ["Decoder mean E[x|z]"]
    assert "WebAssembly is off" in at.warning[0].value


def test_a_decoder_layer_the_page_cannot_run_keeps_the_server_path(app_env, monkeypatch):
    import ui.page_decoder as page_decoder
    from vae_core.decoder_export import UnsupportedLayerError

    def refuse(model):
        raise UnsupportedLayerError("the page cannot run the decoder layer Tanh")

    monkeypatch.setattr(page_decoder, "page_spec", refuse)
    page_decoder._weights_file.clear()
    at = open_explore()
    page_decoder._weights_file.clear()
    assert "version" not in sliders_data(at) and "weights" not in sliders_data(at)
    assert "Tanh" in at.warning[0].value
    assert at.image[0].captions == ["Decoder mean E[x|z]"]
