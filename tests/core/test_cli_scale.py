"""The train flags of issue 11 (speed paths, streaming, TensorBoard) reach the run config."""

from __future__ import annotations

import pytest

from vae_core import distributed
from vae_core.cli import build_parser, main, run_config_from_args
from vae_core.config import ConfigError, TrainConfig


def _config(*flags: str):
    return run_config_from_args(build_parser().parse_args(["train", "--out", "x", *flags]))


def test_speed_flags_default_off_and_switch_on():
    plain = _config()
    assert plain.train == TrainConfig() and not plain.data.stream
    assert (plain.train.precision, plain.train.compile, plain.train.channels_last,
            plain.train.pin_memory, plain.train.deterministic, plain.train.tensorboard) == (
        "fp32", False, False, False, False, False)
    fast = _config("--precision", "bf16", "--compile", "--channels-last", "--pin-memory",
                   "--deterministic", "--tensorboard", "--log-every", "50")
    assert (fast.train.precision, fast.train.compile, fast.train.channels_last,
            fast.train.pin_memory, fast.train.deterministic, fast.train.tensorboard,
            fast.train.log_every) == ("bf16", True, True, True, True, True, 50)


def test_stream_is_for_image_folders_only(tmp_path, capsys):
    streamed = _config("--dataset", "images", "--data-path", "pics", "--stream",
                       "--loader-workers", "4")
    assert streamed.data.stream and streamed.data.loader_workers == 4
    assert main(["train", "--out", str(tmp_path / "r"), "--dataset", "digits", "--stream"]) == 2
    assert "stream is for 'images'" in capsys.readouterr().err


def test_a_global_batch_that_does_not_split_evenly_is_refused():
    cluster = distributed.Cluster(rank=0, world_size=3, backend="gloo")
    with pytest.raises(ConfigError, match="divisible by the number of processes, 3"):
        distributed.per_process_batch(32, cluster)
    assert distributed.per_process_batch(33, cluster) == 11
