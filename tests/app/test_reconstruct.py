"""The Reconstruct page (AppTest, uploads included) and its helpers (plain unit tests)."""

import io
import re

import numpy as np
import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from tests.app.conftest import (
    choose_image_source,
    handwritten_one_png,
    open_reconstruct,
)
from tests.conftest import PROJECT_DIR, make_tiny_checkpoint
from tests.extreme_images import EXTREME_SIZES, strip_name, strip_png
from ui.active_model import ActiveModel
from ui.model_registry import ModelEntry
from ui.reconstruct_helpers import (
    N_SAMPLES,
    compute_analysis,
    posterior_figure,
    prepare_upload,
    preview,
    strip_gif,
)
from vae_core.checkpoint import load_checkpoint
from vae_core.data import ImageInputError


def _metrics(at: AppTest) -> dict[str, float]:
    return {m.label: float(m.value) for m in at.metric}


def _captions(at: AppTest) -> list[str]:
    return [c for image in at.image for c in image.captions]


def test_a_test_image_shows_images_and_figures(app_env):
    at = open_reconstruct()
    figures = _metrics(at)
    # Each figure under its own label: the IWAE bound is the tighter one, the gap their sum.
    assert figures["log p(x) (IWAE, k=200)"] >= -figures["-ELBO (nats)"] - 1.0
    assert figures["Gap log p(x) - ELBO"] == pytest.approx(
        figures["log p(x) (IWAE, k=200)"] + figures["-ELBO (nats)"], abs=0.15)
    assert figures["KL(q(z|x) ‖ p(z))"] > 0
    captions = _captions(at)
    assert "model input (test image #0)" in captions
    assert "reconstruction: decoder mean at μ" in captions
    assert {"linear", "spherical"} <= set(captions)
    assert len(at.get("download_button")) == 2


def test_random_picks_another_test_image(app_env):
    at = open_reconstruct()
    at.button(key="recon_random").click().run()
    index = at.number_input(key="recon_index").value
    assert index != 0
    assert f"model input (test image #{index})" in _captions(at)


def test_uploading_a_png_reconstructs_it(app_env):
    at = open_reconstruct()
    choose_image_source(at, "Upload")
    assert not at.metric  # nothing uploaded yet
    at.file_uploader(key="recon_upload").upload("one.png", handwritten_one_png(), "image/png").run()
    assert not at.exception and not at.error
    captions = _captions(at)
    assert "one.png, as uploaded" in captions and "model input (one.png)" in captions
    assert np.isfinite(_metrics(at)["-ELBO (nats)"])


def test_a_bad_upload_is_an_error_and_the_page_keeps_working(app_env):
    at = open_reconstruct()
    choose_image_source(at, "Upload")
    at.file_uploader(key="recon_upload").upload("photo.png", b"not an image", "image/png").run()
    assert not at.exception
    assert "photo.png" in at.error[0].value and "not an image" in at.error[0].value
    assert "0x" not in at.error[0].value and "<_io" not in at.error[0].value  # no Python repr
    assert not at.metric
    assert len(at.get("download_button")) == 2  # the interpolation below still works


@pytest.mark.parametrize(("width", "height"), EXTREME_SIZES)
def test_an_extreme_aspect_ratio_is_reconstructed(app_env, width, height):
    at = open_reconstruct()
    choose_image_source(at, "Upload")
    name = strip_name(width, height)
    at.file_uploader(key="recon_upload").upload(name, strip_png(width, height), "image/png")
    at.run()
    assert not at.exception and not at.error
    assert f"{name}, as uploaded" in _captions(at)
    assert np.isfinite(_metrics(at)["-ELBO (nats)"])


def test_an_upload_survives_a_look_at_the_test_images(app_env):
    at = open_reconstruct()
    choose_image_source(at, "Upload")
    at.file_uploader(key="recon_upload").upload("one.png", handwritten_one_png(), "image/png").run()
    choose_image_source(at, "Test image")
    assert "model input (test image #0)" in _captions(at)
    choose_image_source(at, "Upload")
    assert "one.png, as uploaded" in _captions(at)


def test_interpolation_steps_and_endpoints(app_env):
    at = open_reconstruct()
    at.slider(key="interp_steps").set_value(5).run()
    at.number_input(key="interp_b_index").set_value(3).run()
    assert not at.exception
    assert {"linear", "spherical"} <= set(_captions(at))


# --- helpers, without Streamlit's runtime ---------------------------------------------


@pytest.fixture(scope="module")
def active(tmp_path_factory) -> ActiveModel:
    path = make_tiny_checkpoint(tmp_path_factory.mktemp("model") / "m", "mnist32")
    return ActiveModel(ModelEntry("asset:m", "m", path), load_checkpoint(path), "test")


def test_upload_helper_gives_the_model_input(active):
    x = prepare_upload(handwritten_one_png(), active)
    assert x.shape == (1, 28, 28) and x.dtype == np.float32
    assert x.max() == pytest.approx(1.0) and x[:, :, :4].max() == 0.0  # mnist framing
    with pytest.raises(ImageInputError):
        prepare_upload(b"\x89PNG broken", active)


def test_preview_upscales_small_images_sharply_and_fits_large_ones():
    small = preview(handwritten_one_png(28))
    assert small.size == (280, 280)
    assert set(np.unique(np.asarray(small))) <= {0, 255}  # nearest: no blended grey
    assert max(preview(handwritten_one_png(1000)).size) == 280


@pytest.mark.parametrize(("width", "height"), EXTREME_SIZES)
def test_preview_keeps_each_side_at_least_one_pixel(width, height):
    image = preview(strip_png(width, height)).convert("RGBA")
    left, top, right, bottom = image.getchannel("A").getbbox()  # the upload, without margins
    assert sorted((right - left, bottom - top)) == [1, 280]
    assert image.width == 280  # room for the caption under a narrow image


def test_analysis_repeats_with_its_seed_and_changes_with_another(active):
    """The computation itself, uncached (analyse() would return its cached result)."""
    x = np.random.default_rng(0).uniform(size=(1, 28, 28)).astype(np.float32)
    result = compute_analysis(active.model, x, seed=1)
    assert result.mu.shape == result.sigma.shape == (4,) and (result.sigma > 0).all()
    assert result.posterior_draws.shape == result.likelihood_draws.shape == (N_SAMPLES, 1, 28, 28)
    again = compute_analysis(active.model, x.copy(), seed=1)
    for field in ("neg_elbo", "kl", "recon", "log_px"):
        assert getattr(again, field) == getattr(result, field), field
    for field in ("reconstruction", "posterior_draws", "likelihood_draws"):
        np.testing.assert_array_equal(getattr(again, field), getattr(result, field), field)
    other = compute_analysis(active.model, x, seed=2)
    assert not np.array_equal(other.posterior_draws, result.posterior_draws)
    assert other.recon != result.recon  # the ELBO's draws follow the seed too
    np.testing.assert_array_equal(other.reconstruction, result.reconstruction)  # no draw in it
    # IWAE (k=200) is the tighter bound: log p(x) >= ELBO, up to Monte Carlo noise.
    assert result.log_px > -result.neg_elbo - 1.0


def test_posterior_figure_shows_mu_with_sigma_error_bars():
    mu, sigma = np.array([0.5, -1.0, 0.0]), np.array([0.1, 0.2, 1.0])
    bar = posterior_figure(mu, sigma).data[0]
    assert list(bar.x) == ["z0", "z1", "z2"]
    assert np.allclose(bar.y, mu) and np.allclose(bar.error_y.array, sigma)


def test_strip_gif_runs_there_and_back_at_the_given_scale():
    images = np.linspace(0, 1, 4, dtype=np.float32)[:, None, None, None] * np.ones((4, 1, 8, 8),
                                                                                  np.float32)
    gif = Image.open(io.BytesIO(strip_gif(images, scale=3)))
    assert gif.size == (24, 24) and gif.n_frames == 6  # 0 1 2 3 2 1
    assert np.asarray(gif.convert("L")).max() == 0  # first frame: the first (black) image


def test_interpolation_frames_keep_a_readable_size_and_wrap_into_rows():
    from ui.reconstruct_helpers import strip_layout

    for steps in (3, 10, 16):
        per_row, scale = strip_layout(steps, 28, 28, strip_px=900, frame_px=84)
        assert 28 * scale >= 84 and per_row * 29 * scale <= 900
        assert per_row == min(steps, 900 // (29 * scale))
    assert strip_layout(16, 28, 28, 900, 84) == (10, 3)  # 16 frames: rows of 10 at 84 px


def test_the_posterior_chart_has_a_title_naming_the_prior_band():
    from ui.reconstruct_helpers import posterior_figure

    fig = posterior_figure(np.zeros(4), np.ones(4))
    assert "μ ± σ" in fig.layout.title.text and "prior's ±1σ" in fig.layout.title.text
    assert not fig.layout.annotations  # no label left to hide behind a bar


def test_an_image_is_placed_among_the_test_images_by_its_elbo(app_env):
    at = open_reconstruct()
    notes = [c.value for c in at.caption] + [w.value for w in at.warning]
    assert any(re.search(r"than (every test image's|[\d.]+% of the test images')", note)
               for note in notes)


def test_only_an_image_beyond_almost_every_test_image_is_called_far():
    from ui.familiarity import familiarity_note

    test_values = np.arange(1000, dtype=float)  # -ELBOs 0..999
    far, text = familiarity_note(2000.0, test_values)
    assert far and "higher than every test image's" in text
    far, text = familiarity_note(500.0, test_values)
    assert not far and "higher than 50% of the test images'" in text
    # Within the range says how well the model draws it, never that it is the data's kind.
    assert "not that it is the same kind of picture" in text and "kind the model" not in text
    far, text = familiarity_note(959.5, test_values)
    assert far and "higher than 96% of the test images'" in text
    assert not familiarity_note(949.5, test_values)[0]  # 95.0%: still within
    assert familiarity_note(960.5, test_values)[0]


def test_the_familiarity_line_reads_from_the_nearer_tail():
    """'higher than 0% of the test images'' sounded like an unusual image; it is a typical one."""
    from ui.familiarity import familiarity_note

    test_values = np.arange(1000, dtype=float)
    assert "lower than every test image's" in familiarity_note(-5.0, test_values)[1]
    assert "lower than 80% of the test images'" in familiarity_note(199.5, test_values)[1]
    assert "lower than 99.9% of the test images'" in familiarity_note(0.5, test_values)[1]
    assert "higher than 99.9% of the test images'" in familiarity_note(998.5, test_values)[1]


def test_per_image_elbos_average_to_the_evaluation_figure():
    from vae_core.evaluation import evaluate, per_image_neg_elbo

    checkpoint = load_checkpoint(PROJECT_DIR / "assets" / "mnist2d")
    x = torch.rand(300, 1, 28, 28)
    values = per_image_neg_elbo(checkpoint.model, x)
    assert values.shape == (300,)
    assert values.mean().item() == pytest.approx(evaluate(checkpoint.model, x).neg_elbo, rel=1e-6)
