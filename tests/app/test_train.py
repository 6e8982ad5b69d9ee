"""The Train page: the form validates before anything starts; a started run shows in the list.

The runs list is an st.fragment(run_every=2); run_every never fires in AppTest, so each check
re-runs the page (which renders the fragment too). Its live refresh is a browser test.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.app.conftest import submit_train_form, train_page, train_widget
from tests.conftest import wait_until
from vae_core.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from vae_core.recipes import PRESETS, TRAIN_PAGE_DEFAULT, measurements
from vae_core.runs import RUN_CONFIG_FILE, run_info, write_status


def test_the_page_renders_the_form_and_an_empty_list(runs):
    at = train_page()
    assert not at.exception
    assert at.title[0].value == "Train"
    assert at.form_submit_button[0].label == "Start training"
    assert "auto" in at.selectbox(key="train_device").options
    assert any("No runs yet" in info.value for info in at.info)


def test_an_invalid_hidden_string_shows_an_error_and_starts_nothing(runs):
    at = submit_train_form(train_page(), train_hidden="32,x")
    assert not at.exception
    assert "hidden sizes must be comma-separated positive integers" in at.error[0].value
    assert list(runs.iterdir()) == []


def test_a_warm_up_longer_than_the_run_is_refused(runs):
    at = submit_train_form(train_page(), train_epochs=2, train_warmup=5)
    assert not at.exception
    assert "KL warm-up (5 epochs) is longer than the run (2 epochs)" in at.error[0].value
    assert list(runs.iterdir()) == []


@pytest.mark.parametrize(("fields", "labels", "reason"), [
    ({"train_epochs": 0}, "Epochs", "epochs must be between 1 and 100000"),
    ({"train_latent": 100_000}, "Latent size", "latent_dim must be between 1 and 512"),
    ({"train_lr": 0.0}, "Learning rate", "lr must be positive"),
    # Every field in bounds, together too big: the trainer refused this only after "Started".
    ({"train_arch": "conv", "train_hidden": "32,64", "train_latent": 512, "train_dense": 8192},
     "Hidden sizes, Dense width, Latent size", "64M parameters; the limit is 50M"),
])
def test_the_form_refuses_what_the_trainer_would_and_names_the_field(runs, fields, labels,
                                                                      reason):
    at = submit_train_form(train_page(), "mnist5k", **fields)
    assert not at.exception
    (error,) = at.error
    assert error.value.startswith(f"Nothing was started: {labels}: ") and reason in error.value
    assert list(runs.iterdir()) == []
    for key, value in fields.items():  # shown as typed, not clamped
        assert train_widget(at, key).value == value


def test_a_bad_zip_upload_shows_the_reason_and_starts_nothing(runs):
    at = train_page()
    at.selectbox(key="train_dataset").set_value("upload").run()
    at.file_uploader(key="train_upload").upload("photos.zip", b"not a zip", "application/zip")
    at = submit_train_form(at, dataset=None)
    assert not at.exception
    assert "photos.zip cannot be used for training" in at.error[0].value
    assert [p.name for p in runs.iterdir() if not p.name.startswith(".")] == []


def _colour_hints(at) -> list[str]:
    return [i.value for i in at.info if i.value.startswith("Colour images")]


def test_colour_images_with_bernoulli_get_a_hint_that_gaussian_fits(runs):
    at = train_page()
    at.selectbox(key="train_dataset").set_value("upload").run()
    assert not _colour_hints(at)  # grayscale: binarizing loses only grey levels
    at.radio(key="train_colour").set_value("RGB").run()
    (hint,) = _colour_hints(at)
    assert "Gaussian" in hint and "throws the colours away" in hint
    train_widget(at, "train_likelihood").set_value("gaussian")
    at.form_submit_button[0].click().run()  # the form's values arrive with a submit
    assert not at.exception and not _colour_hints(at)


def _estimate(at) -> str:
    (caption,) = [c.value for c in at.caption if c.value.startswith(("Estimate", "No estimate"))]
    return caption


def test_the_form_estimates_the_time_before_anything_starts(runs):
    at = train_page()
    default = _estimate(at)  # the recipe: mnist5k's 3,600 training images in batches of 64
    assert re.match(r"Estimate: about \d+ (s|min) for 30 epochs of 57 steps, at [\d,]+ ms a "
                    r"step of batch 64, as timed for this model on this server's CPU", default)
    assert "early stopping may end it sooner" in default
    train_widget(at, "train_epochs").set_value(60)
    at.form_submit_button[1].click().run()  # "Estimate the time for these settings"
    assert not at.exception and "for 60 epochs of 57 steps" in _estimate(at)
    at.selectbox(key="train_dataset").set_value("upload").run()
    assert "an epoch for every 1,000 images in the zip" in _estimate(at)
    train_widget(at, "train_latent").set_value(100_000)
    at.form_submit_button[1].click().run()
    assert _estimate(at).startswith("No estimate: Latent size: ")
    assert [p.name for p in runs.iterdir() if not p.name.startswith(".")] == []


def test_a_started_run_appears_in_the_list_finishes_and_can_be_used_then_deleted(runs):
    at = submit_train_form(train_page(), train_name="tiny", train_patience=1)
    assert not at.exception and not at.error
    assert "Started tiny" in at.success[0].value
    at.run()
    assert any(m.value.startswith("**tiny** :") for m in at.markdown)
    assert any("digits · mlp (16) · latent 2" in c.value for c in at.caption)
    assert at.button(key="cancel-tiny").label == "Cancel"
    wait_until(lambda: run_info(runs / "tiny").state == "finished", timeout=60)
    assert json.loads((runs / "tiny" / RUN_CONFIG_FILE).read_text())["train"]["patience"] == 1

    at.run()
    assert any("green-badge[finished]" in m.value for m in at.markdown)
    assert at.get("progress")[0].value == 100
    assert "epoch 2/2" in at.get("progress")[0].proto.text
    assert len(at.image) >= 1  # samples (and reconstructions) of the latest checkpoint
    at.button(key="use-tiny").click().run()
    assert at.sidebar.selectbox(key="model_picker").value == "run:tiny"
    assert "digits" in at.sidebar.markdown[0].value and "latent 2" in at.sidebar.markdown[0].value
    assert "Epoch 2 of 2, the run's latest checkpoint." in [c.value for c in at.sidebar.caption]
    assert any(c.value.startswith("In use: Epoch 2 of 2") for c in at.caption)

    at.button(key="delete-tiny").click().run()
    assert "Delete tiny" in at.warning[0].value and (runs / "tiny").is_dir()
    at.button(key="delete-yes-tiny").click().run()
    assert not at.exception and not (runs / "tiny").exists()


def test_cancel_while_starting_reads_cancelled_and_offers_delete_not_resume(runs):
    at = submit_train_form(train_page(), train_name="long", train_epochs=500)
    assert "Started long" in at.success[0].value
    at.run()  # the list redraws (in the browser, every 2 s): still training, still announced
    assert "Started long" in at.success[0].value
    at.button(key="cancel-long").click().run()
    assert not at.exception
    wait_until(lambda: run_info(runs / "long").state == "cancelled", timeout=30)
    at.run()
    assert not at.success  # "Started long" is no longer true
    assert any("orange-badge[cancelled]" in m.value for m in at.markdown)
    keys = {b.key for b in at.button}
    assert "delete-long" in keys and "cancel-long" not in keys and "resume-long" not in keys


def test_a_run_card_shows_the_schedule_and_the_files_its_data_loader_skipped(runs):
    run_dir = runs / "photos"
    run_dir.mkdir()
    config = RunConfig(data=DataConfig(name="images", path="photos.zip"),
                       model=ModelConfig(arch="mlp", hidden=(16,), latent_dim=2),
                       train=TrainConfig(epochs=12, warmup_epochs=3, free_bits=0.5))
    (run_dir / RUN_CONFIG_FILE).write_text(json.dumps(config.to_dict()))
    note = "Skipped 2 of 40 image files that could not be read: 'a.png': not an image"
    write_status(run_dir, "finished", epoch=12, epochs=12, data_notes=[note])
    at = train_page()
    assert not at.exception
    summary = next(c.value for c in at.caption if c.value.startswith("images · mlp"))
    assert "12 epochs · KL warm-up 3 epochs · free bits 0.5 nats/dim" in summary
    assert [w.value for w in at.warning] == [note]


def test_using_a_run_still_training_says_which_epoch_is_in_use(runs):
    at = submit_train_form(train_page(), train_name="live", train_epochs=500)
    wait_until(lambda: run_info(runs / "live").has_checkpoint, timeout=60)
    at.run()
    at.button(key="use-live").click().run()
    (caption,) = [c.value for c in at.sidebar.caption if c.value.startswith("Epoch")]
    assert " of 500; the run is still training" in caption
    assert any(c.value.startswith("In use: Epoch") for c in at.caption)


def test_the_untouched_form_starts_the_recipe_the_benchmark_measures(runs):
    """benchmarks/train_baseline.py measures TRAIN_PAGE_DEFAULT as "train-page": a user who
    changes nothing must get exactly that run."""
    at = train_page()
    train_widget(at, "train_name").set_value("as-is")
    at.form_submit_button[0].click().run()
    assert not at.exception and not at.error
    started = json.loads((runs / "as-is" / RUN_CONFIG_FILE).read_text())
    expected = TRAIN_PAGE_DEFAULT.to_dict()
    assert started["data"] == expected["data"]
    assert started["model"] == expected["model"]
    # start_run fills in the trainer's thread count, which the recipe leaves to the machine.
    assert started["train"] == {**expected["train"], "num_threads": started["train"]["num_threads"]}


def test_a_preset_shows_its_measured_figures_fills_the_form_and_its_run_is_the_recipe(runs):
    """Choosing 'quick' puts its recipe in the form; the run it starts is exactly the preset,
    with what the form does not show (no validation split, Adam's fused kernel)."""
    at = train_page()
    choice = at.selectbox(key="train_preset")
    measured = measurements()
    for name, label in zip(PRESETS, choice.options, strict=True):
        figure = measured.get(name)
        shown = f"{figure.neg_log_px:.1f} nats in " if figure else "not measured yet"
        assert label.startswith(f"{name}: {shown}") and PRESETS[name].what in label
    choice.set_value("quick").run()
    quick = PRESETS["quick"].config
    assert train_widget(at, "train_epochs").value == quick.train.epochs
    assert train_widget(at, "train_hidden").value == "400"
    assert train_widget(at, "train_arch").value == "mlp"
    train_widget(at, "train_name").set_value("quick")
    at.form_submit_button[0].click().run()
    assert not at.exception and not at.error
    started = json.loads((runs / "quick" / RUN_CONFIG_FILE).read_text())
    expected = quick.to_dict()
    assert started["data"] == expected["data"] and started["data"]["val_fraction"] == 0.0
    assert started["model"] == expected["model"]
    assert started["train"] == {**expected["train"], "num_threads": started["train"]["num_threads"]}
    assert started["train"]["fused_adam"] is True


def _step_ms(estimate: str) -> int:
    return int(re.search(r"at ([\d,]+) ms a step", estimate).group(1).replace(",", ""))


def test_the_colour_set_is_offered_and_timed_as_bigger_images_than_shapes(runs):
    at = train_page()
    at.selectbox(key="train_dataset").set_value("shapes").run()
    grey = _estimate(at)
    at.selectbox(key="train_dataset").set_value("shapes3d").run()
    colour = _estimate(at)
    assert not at.exception
    assert _step_ms(colour) > _step_ms(grey)  # 64x64x3 against 32x32x1 through the same form


def test_the_form_starts_a_beta_tcvae_run(runs):
    at = train_page()
    at.radio(key="train_objective").set_value("beta_tcvae")
    train_widget(at, "train_beta").set_value(6.0)
    train_widget(at, "train_name").set_value("tcvae")
    at.form_submit_button[0].click().run()
    assert not at.exception and not at.error
    started = json.loads((runs / "tcvae" / RUN_CONFIG_FILE).read_text())
    assert started["train"]["objective"] == "beta_tcvae" and started["train"]["beta"] == 6.0
