"""Explore's samples x ~ p(x|z) and traversal: drawn by the page where it decodes (the server
then draws no images of the decoder), by the server otherwise, with the same generator
(vae_core.hashed_samples), so both show the same samples for a z and a seed."""

import io

import numpy as np
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from tests.app.conftest import (
    move_slider,
    open_explore,
    set_sliders_state,
    sliders_component,
    sliders_data,
)
from ui.explore_state import SAMPLE_SEED_KEY
from ui.render import decoder_view, samples_scale
from vae_core.checkpoint import load_checkpoint
from vae_core.hashed_samples import draw_samples


def _decodes_in_page(at: AppTest) -> AppTest:
    """What the browser reports once it runs the decoder it was sent."""
    return set_sliders_state(at, "decoder", {"version": sliders_data(at)["version"], "ok": True,
                                             "error": None})


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def _grid_tiles(png: bytes, n: int, shape: tuple[int, int, int], scale: int) -> np.ndarray:
    """The n tiles of a two-a-row grid PNG (1-pixel gaps) back as (n, H, W) floats in [0, 1]."""
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float32) / 255
    small = pixels[::scale, ::scale]
    _, height, width = shape
    tiles = []
    for i in range(n):
        top, left = 1 + (i // 2) * (height + 1), 1 + (i % 2) * (width + 1)
        tiles.append(small[top : top + height, left : left + width])
    return np.stack(tiles)


def test_the_servers_samples_are_the_hashed_draws_for_that_z_and_seed(tiny_assets):
    model = load_checkpoint(tiny_assets / "mnist32").model.eval()  # Gaussian, 1 x 28 x 28
    z = (2.5, -1.0, 0.0, 0.5)
    view = decoder_view("tiny-mnist32", z, 4, 7, model, True)
    with torch.no_grad():
        expected = draw_samples(model.decode(torch.tensor([z])), seed=7, n=4)
    drawn = _grid_tiles(view.samples_png, 4, (1, 28, 28), scale=samples_scale(28))
    assert np.abs(drawn - expected[:, 0]).max() <= 0.5 / 255 + 1e-6  # 8-bit PNG rounding
    other = _grid_tiles(decoder_view("tiny-mnist32", z, 4, 8, model, True).samples_png, 4,
                        (1, 28, 28), scale=samples_scale(28))
    assert np.abs(other - drawn).max() > 0.1  # another seed, other draws


def test_the_servers_new_samples_button_draws_the_next_seed(app_env):
    at = open_explore()
    samples = [image.value for image in at.image if "4 draws x ~ p(x|z)" in image.captions]
    _button(at, "New samples").click().run()
    assert not at.exception
    assert "seed 1." in " ".join(c.value for c in at.caption)
    assert [image.value for image in at.image if "4 draws x ~ p(x|z)" in image.captions] != samples


def test_where_the_page_decodes_it_gets_samples_traversal_and_neighbours_the_server_none(
        app_env):
    at = _decodes_in_page(open_explore())
    assert not at.exception
    control = sliders_data(at)
    assert control["in_page"]
    assert control["samples"] == {"seed": 0, "n": 4, "scale": 3,
                                  "caption": "mean + std · noise, clipped to [0, 1]",
                                  "family": "gaussian"}
    assert control["traversal_steps"] == 9 and control["pause_ms"] == 300
    assert not at.image  # the page draws the neighbours too
    assert control["neighbours"] == {
        "caption": "The 8 test images whose posterior means are closest to the current z "
                   "(Euclidean, nearest first): ", "k": 8, "scale": 3}
    assert not [s for s in at.selectbox if s.label == "Traverse one dimension"]
    assert not [b for b in at.button if b.label == "New samples"]  # the page has its own


def test_the_pages_new_samples_button_sets_the_seed_once(app_env):
    at = _decodes_in_page(open_explore())
    set_sliders_state(at, "seed", 5)
    assert sliders_data(at)["samples"]["seed"] == 5 and at.session_state[SAMPLE_SEED_KEY] == 5
    # The page stops decoding: the server draws, from the same seed, and its button goes on.
    set_sliders_state(at, "decoder", {"version": sliders_data(at)["version"], "ok": False,
                                      "error": "WebGL lost"})
    assert "seed 5." in " ".join(c.value for c in at.caption)
    _button(at, "New samples").click().run()
    move_slider(at, 0, 1.0)  # a rerun with the page's old request still in its state
    assert at.session_state[SAMPLE_SEED_KEY] == 6
    assert "seed 6." in " ".join(c.value for c in at.caption)


def test_a_seed_the_page_cannot_have_asked_for_is_ignored(app_env):
    at = _decodes_in_page(open_explore())
    for bad in (-3, "7", True, 2.5, None):
        set_sliders_state(at, "seed", bad)
        assert not at.exception
        assert sliders_data(at)["samples"]["seed"] == 0


def test_the_sliders_data_says_which_move_python_has_read(app_env):
    at = open_explore()
    assert sliders_data(at)["heard"] is None
    move_slider(at, 0, 1.5)
    seq = at.session_state[sliders_component(at).key]["moved"]["seq"]
    assert sliders_data(at)["heard"] == seq  # the page's sign that its move was answered
