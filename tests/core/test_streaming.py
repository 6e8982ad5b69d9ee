"""Streamed image folders: a set whose decoded size is over a memory cap trains under the cap.

The folder holds small PNGs that decode (RGB, resized to 256 x 256, float32) to more bytes than
the cap; the in-memory path would hold all of them at once. The trainer runs in a child of a
small measuring process, which reports the peak RSS of the trainer and its DataLoader workers
(ru_maxrss of its waited-for descendants).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tests.conftest import PROJECT_DIR
from vae_core.checkpoint import load_checkpoint
from vae_core.config import DataConfig
from vae_core.data import load_dataset
from vae_core.data.streaming import load_streamed
from vae_core.runs import read_status

CAP_MB = 1000
SIDE = 256
# 2000 x 3 x 256 x 256 x 4 bytes = 1.6 GB decoded. The trainer alone (torch, a step over 25
# such images, the allocator's retained heap) peaks at ~550-700 MB here: the cap leaves room
# for that, not for the set.
N_IMAGES = 2000

_MEASURE = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def _make_folder(folder: Path, n: int, classes: int = 2) -> None:
    rng = np.random.default_rng(0)
    for i in range(n):
        sub = folder / f"class{i % classes}"
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(sub / f"{i}.png")


def test_a_folder_larger_than_the_cap_streams_under_it(tmp_path):
    _make_folder(tmp_path / "images", N_IMAGES)
    assert N_IMAGES * 3 * SIDE * SIDE * 4 > CAP_MB * 2**20  # in memory, it would not fit
    config = {"data": {"name": "images", "path": str(tmp_path / "images"), "image_size": SIDE,
                       "grayscale": False, "test_fraction": 0.05, "stream": True,
                       "loader_workers": 2},
              "model": {"arch": "mlp", "hidden": [8], "latent_dim": 2},
              "train": {"epochs": 1, "batch_size": 25, "iw_samples": 1, "log_every": 10,
                        "num_threads": 1}}
    (tmp_path / "config.json").write_text(json.dumps(config))
    trainer = [sys.executable, "-m", "vae_core", "train", "--config", str(tmp_path / "config.json"),
               "--out", str(tmp_path / "run"), "--quiet"]
    measured = subprocess.run([sys.executable, "-c", _MEASURE, *trainer], cwd=PROJECT_DIR,
                              capture_output=True, text=True, timeout=600)
    assert measured.returncode == 0, measured.stderr
    peak_mb = int(measured.stdout.split()[-1]) / 1024
    assert read_status(tmp_path / "run")["state"] == "finished"
    # 100 test images; the 1900 training images lose 10% (val_fraction's default) to validation.
    metadata = load_checkpoint(tmp_path / "run").metadata
    assert (metadata["n_train"], metadata["n_validation"]) == (1710, 190)
    assert peak_mb < CAP_MB, f"peak RSS {peak_mb:.0f} MB"


def test_streamed_and_in_memory_paths_hold_the_same_images(tmp_path):
    _make_folder(tmp_path / "images", 30)
    config = DataConfig(name="images", path=str(tmp_path / "images"), image_size=12,
                        grayscale=False)
    in_memory, streamed = load_dataset(config), load_streamed(config)
    assert streamed.image_shape == in_memory.image_shape == (3, 12, 12)
    assert torch.equal(streamed.train_y, in_memory.train_y)
    assert torch.equal(streamed.test_x[0:len(streamed.test_x)], in_memory.test_x)
    assert torch.equal(torch.stack([streamed.train_x[i] for i in range(3)]),
                       in_memory.train_x[:3])


def test_a_file_unreadable_mid_run_is_named(tmp_path):
    from vae_core.data import DatasetError

    _make_folder(tmp_path / "images", 12)
    (tmp_path / "images" / "class0" / "0.png").write_bytes(b"not a png")
    streamed = load_streamed(DataConfig(name="images", path=str(tmp_path / "images"),
                                        test_fraction=0.5))
    with pytest.raises(DatasetError, match=r"0\.png"):
        [streamed.train_x[i] for i in range(len(streamed.train_x))]
        streamed.test_x[0:len(streamed.test_x)]


def test_streamed_evaluation_decodes_a_bounded_number_of_bytes_at_once(tmp_path, monkeypatch):
    from vae_core.config import ModelConfig
    from vae_core.data import streaming
    from vae_core.models import VAE

    _make_folder(tmp_path / "images", 40)
    streamed = load_streamed(DataConfig(name="images", path=str(tmp_path / "images"),
                                        image_size=64, grayscale=False, test_fraction=0.5))
    per_image = 3 * 64 * 64 * 4
    monkeypatch.setattr(streaming, "EVALUATION_CHUNK_BYTES", 6 * per_image)
    seen = []
    real_evaluate = streaming.evaluate
    monkeypatch.setattr(streaming, "evaluate", lambda model, x, **kw:
                        seen.append(x.shape[0]) or real_evaluate(model, x, **kw))
    model = VAE(ModelConfig(arch="mlp", hidden=(8,), latent_dim=2, image_shape=(3, 64, 64)))
    pooled = streaming.evaluate_images(model, streamed.test_x)
    assert seen == [6, 6, 6, 2] and pooled.n_images == 20


def test_log_px_decodes_fewer_samples_at_once_for_larger_images(monkeypatch):
    from vae_core import evaluation
    from vae_core.config import ModelConfig
    from vae_core.models import VAE

    chunks = []
    real_iwae = evaluation.iwae_log_px
    monkeypatch.setattr(evaluation, "iwae_log_px",
                        lambda model, x, k, gen, chunk: chunks.append(chunk)
                        or real_iwae(model, x, k, gen, chunk))
    for side in (28, 112):
        model = VAE(ModelConfig(arch="mlp", hidden=(8,), latent_dim=2, image_shape=(1, side, side)))
        evaluation.evaluate(model, torch.rand(10, 1, side, side), iw_samples=600, batch_size=10)
    assert chunks == [500, 500 // 16]  # 5,000 28 x 28 images' worth of values per chunk
