"""The run manager without training: names, true states, the limit, delete, uploaded zips.

A stand-in trainer is a sleeping Python process whose command line reads like a trainer's
(`-m vae_core train --out <run>`), which is all list_runs checks; real training processes are
in test_training_process.py.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import kill_live_runs, wait_until
from tests.core.conftest import tiny_config
from vae_core import run_uploads, runs
from vae_core.config import DataConfig
from vae_core.data import DatasetError
from vae_core.run_uploads import save_uploaded_dataset
from vae_core.runs import (
    LAUNCH_FILE,
    RUN_CONFIG_FILE,
    RunError,
    RunInfo,
    RunLimitReached,
    RunState,
    cancel_run,
    delete_run,
    list_runs,
    run_info,
    start_run,
    write_status,
)


@pytest.fixture
def runs_root(tmp_path):
    root = tmp_path / "runs"
    root.mkdir()
    yield root
    kill_live_runs(root)


@pytest.fixture
def fake_trainer(runs_root):
    """make(name) -> a run directory "running" with a live stand-in trainer process."""
    processes = []

    def make(name: str = "live") -> Path:
        run_dir = _run_dir(runs_root, name, "running")
        process = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(60)", "-m", "vae_core", "train",
             "--out", str(run_dir)],
            start_new_session=True)
        processes.append(process)
        (run_dir / LAUNCH_FILE).write_text(json.dumps({"pid": process.pid}))
        write_status(run_dir, "running", pid=process.pid, epoch=1, epochs=3)
        return run_dir

    yield make
    for process in processes:
        process.kill()
        process.wait()


def _run_dir(root: Path, name: str, state: str, **status) -> Path:
    run_dir = root / name
    run_dir.mkdir()
    (run_dir / RUN_CONFIG_FILE).write_text(json.dumps(tiny_config().to_dict()))
    write_status(run_dir, state, **{"epoch": 3, "epochs": 3, **status})
    return run_dir


@pytest.mark.parametrize("name", ["../escape", "a b", "x/y", "", "é", "n" * 65, ".hidden"])
def test_a_run_name_outside_letters_digits_dash_underscore_is_refused(runs_root, name):
    with pytest.raises(RunError, match="only letters, digits"):
        start_run(tiny_config(), runs_root, name)
    assert list(runs_root.iterdir()) == []


def test_a_taken_run_name_is_refused_without_touching_that_run(runs_root):
    existing = _run_dir(runs_root, "mine", "finished")
    before = (existing / "status.json").read_text()
    with pytest.raises(RunError, match="already exists"):
        start_run(tiny_config(), runs_root, "mine")
    assert (existing / "status.json").read_text() == before


def test_two_runs_started_at_once_get_distinct_directories(runs_root):
    started: list[Path] = []
    threads = [threading.Thread(target=lambda: started.append(
        start_run(tiny_config(epochs=1), runs_root, max_concurrent=2))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(started) == 2 and started[0] != started[1]
    assert all((d / RUN_CONFIG_FILE).is_file() and "-digits-" in d.name for d in started)
    assert {r.path for r in list_runs(runs_root)} == set(started)


def test_the_limit_refuses_another_run_while_one_is_live(runs_root, fake_trainer, monkeypatch):
    fake_trainer("busy")
    monkeypatch.setenv("LATENT_LAB_MAX_RUNS", "1")
    with pytest.raises(RunLimitReached, match=r"busy.*the limit is 1"):
        start_run(tiny_config(), runs_root)
    assert [p.name for p in runs_root.iterdir() if not p.name.startswith(".")] == ["busy"]
    monkeypatch.setenv("LATENT_LAB_MAX_RUNS", "zero")
    with pytest.raises(RunError, match="LATENT_LAB_MAX_RUNS must be a positive integer"):
        runs.max_concurrent_runs()


def test_a_live_process_reads_as_running_and_sigkill_as_crashed(runs_root, fake_trainer):
    run_dir = fake_trainer()
    assert run_info(run_dir).state == "running"
    os.killpg(json.loads((run_dir / LAUNCH_FILE).read_text())["pid"], signal.SIGKILL)
    crashed = wait_until(lambda: (i := run_info(run_dir)).state == "crashed" and i, timeout=5)
    assert "ended without saying why" in crashed.message


def test_a_reused_pid_of_another_program_is_not_taken_for_the_trainer(runs_root):
    run_dir = _run_dir(runs_root, "old", "running", pid=os.getpid())  # pytest, not a trainer
    assert run_info(run_dir).state == "crashed"


def test_a_trainer_of_a_run_whose_name_contains_this_one_is_not_taken_for_its_own(
        runs_root, fake_trainer):
    other = fake_trainer("cats-2")
    pid = json.loads((other / LAUNCH_FILE).read_text())["pid"]
    run_dir = _run_dir(runs_root, "cats", "running", pid=pid)  # "cats" is in "cats-2"'s argv
    assert run_info(other).state == "running"
    assert run_info(run_dir).state == "crashed"


def test_a_trainer_started_by_hand_with_a_relative_out_is_recognised(runs_root):
    run_dir = _run_dir(runs_root, "by-hand", "running")
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "-m",
                                "vae_core", "train", "--out=by-hand"], cwd=runs_root)
    try:
        write_status(run_dir, "running", pid=process.pid, epoch=1, epochs=3)
        assert wait_until(lambda: run_info(run_dir).state == "running", timeout=5)
    finally:
        process.kill()
        process.wait()


def test_cancel_before_the_trainer_handles_signals_still_reads_cancelled(runs_root, fake_trainer):
    run_dir = fake_trainer()  # the stand-in dies of SIGTERM like a trainer still importing torch
    cancel_run(run_dir)
    info = wait_until(lambda: (i := run_info(run_dir)).state != "running" and i, timeout=5)
    assert info.state == "cancelled" and "cancelled while" in info.message


def test_delete_refuses_a_running_run_and_paths_outside_the_runs_folder(
    runs_root, fake_trainer, tmp_path
):
    live = fake_trainer()
    with pytest.raises(RunError, match="running"):
        delete_run(live, runs_root)
    outside = _run_dir(tmp_path, "outside", "finished")
    (runs_root / "link").symlink_to(outside)
    for target in (outside, runs_root / ".." / "outside", runs_root / "link", runs_root):
        with pytest.raises(RunError, match="not a run inside"):
            delete_run(target, runs_root)
    (runs_root / "notes").mkdir()
    with pytest.raises(RunError, match="does not look like a run"):
        delete_run(runs_root / "notes", runs_root)
    assert outside.is_dir() and live.is_dir() and (runs_root / "notes").is_dir()
    done = _run_dir(runs_root, "done", "finished")
    delete_run(done, runs_root)
    assert not done.exists()


def test_progress_and_time_left_come_from_finished_epochs():
    info = RunInfo(name="r", path=Path("r"), state="running", epoch=2, epochs=10,
                   step_in_epoch=5, steps_per_epoch=10, train_seconds=20.0, device="cpu",
                   message="", has_checkpoint=True, summary="", created=time.time())
    assert info.progress == pytest.approx(0.25)
    assert info.eta_seconds == pytest.approx(75.0)  # 7.5 epochs at 10 s each
    finished = RunInfo(**{**info.__dict__, "state": "finished", "epoch": 10})
    assert finished.progress == 1.0 and finished.eta_seconds is None


# --- uploaded zips ----------------------------------------------------------------------------


def _png(value: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((12, 12), value, dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    """A zip whose bytes depend only on `members`: a fixed member date, not the clock's."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data)
    return buffer.getvalue()


def _images_zip(offset: int = 0) -> bytes:
    return _zip({f"cats/{i}.png": _png(10 * i + offset) for i in range(12)})


def test_a_good_zip_is_stored_once_by_content(tmp_path):
    uploads = tmp_path / "uploads"
    first = save_uploaded_dataset(_images_zip(), "a.zip", uploads)
    again = save_uploaded_dataset(_images_zip(), "b.zip", uploads)
    other = save_uploaded_dataset(_images_zip(offset=1), "a.zip", uploads)
    assert first == again != other
    assert first.parent == uploads and first.read_bytes() == _images_zip()
    assert sorted(p.name for p in uploads.iterdir()) == sorted([first.name, other.name])


@pytest.mark.parametrize(("data", "message"), [
    (b"just some text", "neither a folder nor a .zip"),
    (_zip({"../x.png": _png(0), **{f"{i}.png": _png(i) for i in range(12)}}),
     "points outside the archive"),
    (_zip({"readme.txt": b"no images here"}), "No image files"),
    (_zip({f"{i}.png": _png(i) for i in range(3)}), "at least 10 are needed"),
])
def test_a_bad_zip_is_refused_with_a_reason_and_leaves_nothing(tmp_path, data, message):
    uploads = tmp_path / "uploads"
    with pytest.raises(DatasetError, match=message):
        save_uploaded_dataset(data, "mine.zip", uploads)
    assert list(uploads.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["uploads"]


def test_the_app_lists_an_uploaded_zip_without_decompressing_any_file(tmp_path, monkeypatch):
    """Decoding happens in the training process: the app's memory never holds the pixels."""
    upload = _images_zip()

    def no_decompression(*args, **kwargs):
        raise AssertionError("a member was decompressed in the app's process")
    monkeypatch.setattr(zipfile.ZipFile, "open", no_decompression)
    stored = save_uploaded_dataset(upload, "cats.zip", tmp_path / "uploads")
    assert stored.read_bytes() == upload


def test_an_upload_refusal_names_the_file_not_the_server_path(tmp_path):
    uploads = tmp_path / "uploads"
    with pytest.raises(DatasetError) as refused:
        save_uploaded_dataset(_zip({"readme.txt": b"no images"}), "mine.zip", uploads)
    assert "found in mine.zip." in str(refused.value)  # named as typed, not Python-quoted
    assert str(tmp_path) not in str(refused.value) and ".upload-" not in str(refused.value)


def test_unreadable_images_in_an_upload_fail_the_run_with_the_reason(runs_root):
    garbage = _zip({f"cats/{i}.png": b"not a png" for i in range(12)})
    stored = save_uploaded_dataset(garbage, "cats.zip", run_uploads.uploads_dir(runs_root))
    config = tiny_config()
    config = dataclasses.replace(config, data=DataConfig(name="images", path=str(stored),
                                                         image_size=8))
    run_dir = start_run(config, runs_root, name="cats")
    info = wait_until(lambda: (i := run_info(run_dir)).state == "failed" and i, timeout=60)
    assert "Most files could not be read. Skipped 12 of 12 image files" in info.message
    assert "not an image in a format the app reads" in info.message
    assert str(runs_root) not in info.message


def test_an_oversized_upload_is_refused_before_it_is_written(tmp_path, monkeypatch):
    monkeypatch.setattr(run_uploads, "MAX_UPLOAD_BYTES", 2**20)
    with pytest.raises(DatasetError, match=r"big\.zip is 3 MB; the limit is 1 MB"):
        save_uploaded_dataset(b"x" * 3 * 2**20, "big.zip", tmp_path / "uploads")
    assert not (tmp_path / "uploads").exists()


def test_run_states_are_one_enum_and_crashed_is_never_written(runs_root):
    run_dir = _run_dir(runs_root, "odd", "finished")
    assert run_info(run_dir).state is RunState.FINISHED
    with pytest.raises(ValueError, match="unknown run state"):
        write_status(run_dir, RunState.CRASHED)  # a reader's conclusion, not a process's word
    (run_dir / "status.json").write_text(json.dumps({"state": ["hand", "edited"]}))
    info = run_info(run_dir)
    assert info.state is RunState.FAILED and "no known state" in info.message


def test_a_run_made_when_its_config_was_request_json_is_listed_and_deleted(runs_root):
    old = runs_root / "old"
    old.mkdir()
    (old / "request.json").write_text(json.dumps(tiny_config().to_dict()))
    write_status(old, "cancelled", epoch=1, epochs=3)
    (info,) = list_runs(runs_root)
    assert info.name == "old" and "digits · mlp" in info.summary and info.created > 0
    delete_run(old, runs_root)
    assert not old.exists()


def test_the_trainers_rewrite_of_run_json_keeps_the_runs_place_in_the_list(runs_root):
    first, second = _run_dir(runs_root, "first", "finished"), _run_dir(runs_root, "second",
                                                                       "finished")
    os.utime(first / RUN_CONFIG_FILE, (1000, 1000))
    os.utime(second / RUN_CONFIG_FILE, (2000, 2000))
    runs.write_run_config(first, {**tiny_config().to_dict(), "distributed": {"world_size": 1}})
    assert [r.name for r in list_runs(runs_root)] == ["second", "first"]
    assert "distributed" in json.loads((first / RUN_CONFIG_FILE).read_text())


def _gone_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_listing_sweeps_what_killed_saves_left_but_not_a_live_writers(runs_root):
    run_dir = _run_dir(runs_root, "swept", "cancelled")
    checkpoints = run_dir / "checkpoints"
    dead, live = _gone_pid(), os.getpid()
    for name in (f".epoch-0003.tmp-{dead}", f".best.tmp-{dead}", f".epoch-0004.tmp-{live}"):
        (checkpoints / name).mkdir(parents=True)
        (checkpoints / name / "model.safetensors").write_bytes(b"half")
    for name in (f".latest.tmp-{dead}", f".status.json.tmp-{dead}"):
        (checkpoints if name.startswith(".latest") else run_dir).joinpath(name).write_text("x")
    list_runs(runs_root)
    assert [p.name for p in checkpoints.iterdir()] == [f".epoch-0004.tmp-{live}"]
    assert sorted(p.name for p in run_dir.iterdir()) == ["checkpoints", RUN_CONFIG_FILE,
                                                        "status.json"]
