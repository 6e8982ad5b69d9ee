"""Reconstruct's direction sliders and vector arithmetic (AppTest, the briefly trained tiny
mnist32), and the decode they show (a plain unit test)."""

import io

import numpy as np
from PIL import Image

from tests.app.conftest import (
    choose_image_source,
    handwritten_one_png,
    open_reconstruct,
    z_caption,
)
from ui.directions import PULL
from ui.explore_state import Z_KEY, Z_LIMIT
from ui.reconstruct_edits import IMAGE_PX, decoded_png
from vae_core.checkpoint import load_checkpoint
from vae_core.data import load_dataset
from vae_core.latent import decode_mean, encode_images


def _image(at, caption_start: str):
    return next(image for image in at.image if image.captions[0].startswith(caption_start))


def _class_slider(at):
    return next(s for s in at.slider if s.label.startswith("towards ") and s.key.startswith(
        "recon_directions"))


def test_all_the_way_from_here_decodes_every_image_as_the_class_mean(trained_env):
    at = open_reconstruct()
    at.radio(key=next(r.key for r in at.radio if r.key.startswith("recon_directions_class_way"))
             ).set_value(PULL).run()
    assert _class_slider(at).label == "towards 0 from here"
    _class_slider(at).set_value(0.5).run()
    half_way = _image(at, "decoded μ + move").value
    _class_slider(at).set_value(1.0).run()
    assert not at.exception
    assert _image(at, "decoded μ + move").captions[0] == (
        "decoded μ + move (towards 0 from here 1.00)")
    landed = _image(at, "decoded μ + move").value
    assert landed != half_way
    at.number_input(key="recon_index").set_value(5).run()  # another image, the same landing
    assert _image(at, "model input (test image #5)")
    assert _image(at, "decoded μ + move").value == landed


def test_an_attribute_slider_changes_the_decoded_test_image(trained_env):
    at = open_reconstruct()
    before = _image(at, "decoded μ")
    assert before.captions[0] == "decoded μ (no move yet)"
    assert _image(at, "model input (test image #0)")
    _class_slider(at).set_value(2.0).run()
    assert not at.exception
    after = _image(at, "decoded μ + move")
    assert after.captions[0] == f"decoded μ + move ({_class_slider(at).label} +2.0)"
    assert after.value != before.value
    assert any("closest to the changed μ" in c for image in at.image for c in image.captions)


def test_an_attribute_slider_changes_an_uploaded_image(trained_env):
    at = open_reconstruct()
    choose_image_source(at, "Upload")
    at.file_uploader(key="recon_upload").upload("one.png", handwritten_one_png(), "image/png").run()
    assert _image(at, "model input (one.png)")
    before = _image(at, "decoded μ").value
    _class_slider(at).set_value(-1.0).run()
    assert not at.exception and _image(at, "decoded μ + move").value != before


def test_vector_arithmetic_decodes_a_minus_b_plus_c_and_opens_it_in_explore(trained_env,
                                                                            trained_assets):
    at = open_reconstruct()
    result = _image(at, "decoded z(A) - z(B) + z(C)")
    at.number_input(key="arith_c_index").set_value(7).run()
    assert _image(at, "decoded z(A) - z(B) + z(C)").value != result.value
    next(b for b in at.button if b.label == "Open this z in Explore").click().run()
    assert not at.exception
    checkpoint = load_checkpoint(trained_assets / "mnist32")
    test_x = load_dataset(checkpoint.data_config).test_x
    means = encode_images(checkpoint.model, test_x[[2, 3, 7]]).mean
    # Explore holds z on its sliders' grid and range: coordinates beyond ±3 are clipped.
    expected = np.clip(means[0] - means[1] + means[2], -Z_LIMIT, Z_LIMIT)
    np.testing.assert_allclose(at.session_state[Z_KEY], expected, atol=0.026)
    assert z_caption(at).startswith("z: z(A) - z(B) + z(C) from Reconstruct")


def test_the_decoded_png_is_the_decoder_mean_at_z(trained_assets):
    checkpoint = load_checkpoint(trained_assets / "mnist32")

    class Active:  # what decoded_png reads of an ActiveModel
        version, model = "test@1", checkpoint.model

    z = np.array([0.5, -1.0, 0.25, 2.0])
    image = np.asarray(Image.open(io.BytesIO(decoded_png(Active, z))), dtype=np.float64)
    scale = IMAGE_PX // 28
    assert image.shape == (28 * scale, 28 * scale)
    expected = decode_mean(checkpoint.model, z[None])[0, 0]
    np.testing.assert_allclose(image[::scale, ::scale] / 255, expected, atol=1 / 255 + 1e-6)
