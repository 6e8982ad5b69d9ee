"""python -m vae_core disentanglement, and what export and training store for it."""

import json

import pytest

from vae_core.active_units import count_active
from vae_core.checkpoint import CheckpointError, load_checkpoint
from vae_core.cli import main

TINY = ["--n-samples", "300", "--arch", "mlp", "--hidden", "16", "--latent-dim", "3",
        "--batch-size", "32", "--iw-samples", "2", "--epochs", "1", "--quiet"]


@pytest.fixture(scope="module")
def shapes_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("shapes") / "run"
    assert main(["train", "--dataset", "shapes", "--out", str(run), *TINY]) == 0
    return run


def test_scores_print_for_a_model_of_shapes(shapes_run, capsys):
    capsys.readouterr()
    assert main(["disentanglement", str(shapes_run), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["factor_names"] == ["shape", "scale", "rotation", "x", "y"]
    assert report["n_images"] == 60  # the test split of 300
    assert len(report["mutual_information"]) == 5 and len(report["mutual_information"][0]) == 3
    assert 0 <= report["mig"] <= 1 and 0 <= report["dci_informativeness"] <= 1
    # The CLI's count and the one training stored agree: same test images, same model.
    stored = load_checkpoint(shapes_run).metadata["posterior_mean_variance"]
    assert report["active_units"] == count_active(stored)
    assert set(report["probe_accuracy"]) == {"shape"}

    assert main(["disentanglement", str(shapes_run)]) == 0
    text = capsys.readouterr().out
    assert "MIG" in text and "DCI completeness" in text and "active units" in text


def test_a_model_without_known_factors_gets_a_clear_error(tmp_path, capsys):
    run = tmp_path / "digits"
    assert main(["train", "--dataset", "digits", "--out", str(run), *TINY]) == 0
    capsys.readouterr()
    assert main(["disentanglement", str(run)]) == 2
    err = capsys.readouterr().err
    assert "'digits' has no known generative factors" in err and "Traceback" not in err


def test_export_stores_the_report_and_the_card_shows_it(shapes_run, tmp_path):
    assert main(["export", str(shapes_run), str(tmp_path / "asset")]) == 0
    metadata = load_checkpoint(tmp_path / "asset").metadata
    assert metadata["disentanglement"]["factor_names"][0] == "shape"
    card = (tmp_path / "asset" / "MODEL_CARD.md").read_text()
    assert "| MIG |" in card and "Burda" in card and "linear probe on z" in card


def test_a_stored_report_that_does_not_fit_the_model_is_refused(shapes_run, tmp_path):
    assert main(["export", str(shapes_run), str(tmp_path / "asset")]) == 0
    config = tmp_path / "asset" / "config.json"
    document = json.loads(config.read_text())
    document["metadata"]["disentanglement"]["mutual_information"][0].append(0.5)  # 4 dims, not 3
    config.write_text(json.dumps(document))
    with pytest.raises(CheckpointError, match="mutual_information"):
        load_checkpoint(tmp_path / "asset")
