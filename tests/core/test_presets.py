"""The Train page's presets (vae_core/recipes.py) and what benchmarks/train_presets.py recorded
for them (vae_core/preset_measurements.json): valid recipes, and figures that make the choice
worth having: each step up costs more time and reaches a better figure, and the quick one
beats pytorch/examples' recipe measured in the same benchmark run, in no more training time."""

import importlib.util
import json

import pytest

from tests.conftest import PROJECT_DIR
from vae_core.config import RunConfig
from vae_core.recipes import MEASUREMENTS_FILE, PRESETS, measurements


@pytest.mark.parametrize("name", list(PRESETS))
def test_each_preset_is_a_valid_config_that_survives_json(name):
    config = PRESETS[name].config
    assert RunConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert config.train.fused_adam and config.data.name == "mnist5k"


def test_every_preset_is_measured_and_each_step_up_buys_quality_with_time():
    measured = measurements()
    assert list(measured) == list(PRESETS)
    ordered = [measured[name] for name in ("quick", "good", "best")]
    nats = [m.neg_log_px for m in ordered]
    seconds = [m.seconds for m in ordered]
    assert nats == sorted(nats, reverse=True) and len(set(nats)) == 3
    assert seconds == sorted(seconds) and len(set(seconds)) == 3
    assert all(m.neg_elbo > m.neg_log_px > 0 for m in ordered)  # IWAE is the tighter bound


def test_the_quick_preset_beats_the_reference_in_no_more_training_time():
    """Training time as CPU seconds of the steps, both with one thread: on a shared machine
    the wall clock also counts whatever else ran meanwhile."""
    recorded = json.loads(MEASUREMENTS_FILE.read_text())
    reference, quick = recorded["reference"], measurements()["quick"]
    assert reference["threads"] == quick.threads == 1
    assert quick.neg_log_px < reference["neg_log_px"]
    assert quick.train_cpu_seconds <= reference["train_cpu_seconds"]


def test_missing_or_unreadable_measurements_read_as_none(tmp_path):
    assert measurements(tmp_path / "absent.json") == {}
    (tmp_path / "bad.json").write_text("{not json")
    assert measurements(tmp_path / "bad.json") == {}


def test_what_the_benchmark_writes_is_what_the_page_reads(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "train_presets", PROJECT_DIR / "benchmarks" / "train_presets.py")
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    row = {"row": "good", "neg_log_px": 98.123, "neg_elbo": 104.5, "train_seconds": 80.04,
           "train_cpu_seconds": 70.0, "wall_seconds": 120.0, "cpu_seconds": 110.0, "load": 3.2}
    path = tmp_path / "measured.json"
    benchmark.write_measurements([row], threads=1, iw_samples=100, path=path)
    (good,) = measurements(path).values()
    assert (good.neg_log_px, good.seconds, good.train_cpu_seconds) == (98.12, 110.0, 70.0)
    benchmark.write_measurements([{**row, "row": "quick"}], threads=2, iw_samples=10, path=path)
    measured = measurements(path)  # merged: both rows
    assert list(measured) == ["good", "quick"] and measured["quick"].seconds == 120.0
