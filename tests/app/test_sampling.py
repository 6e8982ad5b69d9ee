"""Sampling page and its pure helpers: reparameterized draws, the animated figure, the GIF."""

import io
import re

import numpy as np
import pytest
import streamlit
from PIL import Image
from streamlit.testing.v1 import AppTest

from tests.conftest import PROJECT_DIR
from ui.figures_sampling import (
    draw_reparameterized,
    frame_title,
    plane_dims,
    sampling_figure,
    sigma_contour,
)
from ui.render import encode_gif, side_by_side
from vae_core.checkpoint import load_checkpoint
from vae_core.data import load_dataset
from vae_core.latent import encode_images

PAGE = "app_pages/sampling.py"

# Pure helpers -----------------------------------------------------------------------------


def test_draws_follow_the_reparameterization_and_the_seed():
    mu, sigma = np.array([1.0, -2.0, 0.5]), np.array([0.1, 2.0, 1.0])
    draws = draw_reparameterized(mu, sigma, 10, seed=3)
    assert draws.eps.shape == draws.z_posterior.shape == (10, 3)
    np.testing.assert_allclose(draws.z_posterior, mu + sigma * draws.eps, rtol=1e-6)
    np.testing.assert_array_equal(draws.z_prior, draws.eps)
    np.testing.assert_array_equal(draw_reparameterized(mu, sigma, 10, seed=3).eps, draws.eps)
    assert not np.array_equal(draw_reparameterized(mu, sigma, 10, seed=4).eps, draws.eps)


def test_plane_dims_use_z_itself_up_to_two_dims_else_the_most_used_two():
    assert plane_dims([1, 0]) == (0, 1)
    assert plane_dims([0]) == (0,)
    assert plane_dims([3, 1, 0, 2]) == (3, 1)


def test_ellipse_points_lie_on_the_sigma_contour():
    points = sigma_contour(np.array([1.0, -1.0]), np.array([0.5, 2.0]), radius=2.0)
    distance = ((points[:, 0] - 1.0) / 0.5) ** 2 + ((points[:, 1] + 1.0) / 2.0) ** 2
    np.testing.assert_allclose(distance, 4.0, rtol=1e-9)


def _figure(mu, sigma, n=6, seed=0, channels=1):
    draws = draw_reparameterized(np.asarray(mu), np.asarray(sigma), n, seed)
    images = np.random.default_rng(0).random((n, channels, 8, 8)).astype(np.float32)
    names = [f"z{j}" for j in range(len(mu))]
    return draws, sampling_figure(np.asarray(mu), np.asarray(sigma), draws, images,
                                  images[::-1], names)


def test_each_frame_shows_the_new_point_at_mu_plus_sigma_eps_and_the_previous_ones():
    mu, sigma = [0.5, -1.0], [0.3, 0.6]
    draws, figure = _figure(mu, sigma, n=6)
    assert len(figure.frames) == 6
    for k, frame in enumerate(figure.frames):
        past, now, image = frame.data[0], frame.data[1], frame.data[2]
        np.testing.assert_allclose([now.x[0], now.y[0]], draws.z_posterior[k], rtol=1e-5)
        assert len(past.x) == k
        np.testing.assert_allclose(np.c_[past.x, past.y], draws.z_posterior[:k], rtol=1e-5)
        prior_now = frame.data[4]
        np.testing.assert_allclose([prior_now.x[0], prior_now.y[0]], draws.eps[k], rtol=1e-5)
        assert image.source.startswith("data:image/png;base64,")
        assert f"{draws.z_posterior[k][0]:.2f}" in frame.layout.title.text
    assert [s["label"] for s in figure.layout.sliders[0].steps] == [str(k) for k in range(1, 7)]
    assert [b.label for b in figure.layout.updatemenus[0].buttons] == ["▶ Play", "❚❚ Pause"]


def test_frames_change_the_decoded_image():
    _, figure = _figure([0.0, 0.0], [1.0, 1.0], n=3)
    sources = {frame.data[2].source for frame in figure.frames}
    assert len(sources) == 3


def test_a_one_dimensional_latent_is_drawn_on_the_line_y_0():
    draws, figure = _figure([0.2], [0.5], n=4, channels=3)
    for k, frame in enumerate(figure.frames):
        assert frame.data[1].y[0] == 0.0
        np.testing.assert_allclose(frame.data[1].x[0], draws.z_posterior[k, 0], rtol=1e-5)


def test_frame_title_writes_the_equation_with_numbers():
    title = frame_title(["z3", "z1"], [0.5, -1.0], [0.3, 0.6], [1.0, 2.0], [0.8, 0.2])
    assert "(z3, z1)" in title and "(0.50, -1.00) + (0.30, 0.60) ⊙ (1.00, 2.00)" in title
    assert "= (0.80, 0.20)" in title


def test_gif_holds_every_frame_and_starts_with_the_gif_signature():
    frames = [Image.new("L", (12, 12), 20 * k) for k in range(5)]
    data = encode_gif(frames, duration_ms=100)
    assert data.startswith(b"GIF8")
    gif = Image.open(io.BytesIO(data))
    assert gif.n_frames == 5 and gif.size == (12, 12)
    with pytest.raises(ValueError):
        encode_gif([])


def test_side_by_side_pastes_with_a_gap():
    joined = side_by_side([Image.new("L", (10, 8), 0), Image.new("RGB", (6, 8), (255, 0, 0))])
    assert joined.size == (20, 8) and joined.mode == "RGB"
    assert joined.getpixel((12, 0)) == (128, 128, 128) and joined.getpixel((15, 0)) == (255, 0, 0)


# The page ---------------------------------------------------------------------------------


@pytest.fixture
def downloads(monkeypatch) -> list[bytes]:
    """The data the page hands to st.download_button (AppTest does not expose it)."""
    sent, original = [], streamlit.download_button

    def spy(label, data, *args, **kwargs):
        sent.append(data)
        return original(label, data, *args, **kwargs)

    monkeypatch.setattr(streamlit, "download_button", spy)
    return sent


def _sampling() -> AppTest:
    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=60).run()
    return at.switch_page(PAGE).run()


def _numbers(text: str, name: str) -> list[float]:
    inside = re.search(rf"{name} = \(([^)]*)\)", text).group(1)
    return [float(v) for v in inside.split(",")]


def test_page_shows_the_posterior_of_the_chosen_example_and_a_gif(app_env, tiny_assets,
                                                                  downloads):
    at = _sampling()
    assert not at.exception and not at.error
    checkpoint = load_checkpoint(tiny_assets / "mnist32")
    data = load_dataset(checkpoint.data_config)
    encoded = encode_images(checkpoint.model, data.test_x[:1])
    caption = at.caption[0].value
    dims = [int(j) for j in re.search(r"on \(z(\d+), z(\d+)\)", caption).groups()]
    np.testing.assert_allclose(_numbers(caption, "μ"), encoded.mean[0][dims], atol=0.006)
    np.testing.assert_allclose(_numbers(caption, "σ"), encoded.std[0][dims], atol=0.006)
    assert at.download_button[0].label.startswith("Download GIF (24 frames")
    gif = downloads[-1]
    assert gif.startswith(b"GIF8") and Image.open(io.BytesIO(gif)).n_frames == 24


def test_the_frame_count_sets_the_number_of_gif_frames(app_env, downloads):
    at = _sampling()
    at.slider(key="sampling_frames").set_value(12).run()
    assert not at.exception
    assert "Each of the 12 frames" in at.caption[0].value
    assert at.download_button[0].label.startswith("Download GIF (12 frames")
    assert Image.open(io.BytesIO(downloads[-1])).n_frames == 12


def test_random_example_picks_another_input(app_env):
    at = _sampling()
    before = at.caption[0].value
    next(b for b in at.button if b.label == "Random example").click().run()
    assert not at.exception
    assert at.number_input(key="sampling_index").value != 0
    assert at.caption[0].value != before


@pytest.mark.parametrize(("model", "plane"), [("asset:mnist2d", "(z0, z1)"),
                                              ("asset:shapes", "(z")])
def test_other_models_render(app_env, model, plane, downloads):
    at = _sampling()
    at.sidebar.selectbox(key="model_picker").set_value(model).run()
    assert not at.exception and not at.error
    assert f"q(z|x) on {plane}" in at.caption[0].value
    assert downloads[-1].startswith(b"GIF8")
