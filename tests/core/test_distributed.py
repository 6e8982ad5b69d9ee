"""torchrun + DDP on the CPU (Gloo): 2 processes train what 1 process trains, only rank 0
writes, and a lost rank fails the run with a message and a loadable checkpoint.

Real `python -m torch.distributed.run --standalone --nproc_per_node=2 -m vae_core train` runs
(torchrun is that module's console script), on 200 digits with a tiny MLP. Every wait is
bounded: the process group's own timeout (LATENT_LAB_DIST_TIMEOUT) and the test's, so a hung
group fails the test instead of hanging CI.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from tests.conftest import PROJECT_DIR
from vae_core.checkpoint import load_checkpoint
from vae_core.runs import read_metrics, read_status

TRAIN_FLAGS = ["--dataset", "digits", "--n-samples", "200", "--arch", "mlp", "--hidden", "16",
               "--latent-dim", "2", "--batch-size", "32", "--iw-samples", "5", "--threads", "1",
               "--log-every", "2", "--quiet"]
TIMEOUT = 120  # seconds; a healthy run here takes ~5-20 s depending on the machine's load


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "LATENT_LAB_DIST_TIMEOUT": "60",
            "PYTHONPATH": str(PROJECT_DIR)}


def _torchrun(out: Path, *flags: str) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
            "-m", "vae_core", "train", "--out", str(out), *TRAIN_FLAGS, *flags]


def _single(out: Path, *flags: str) -> list[str]:
    return [sys.executable, "-m", "vae_core", "train", "--out", str(out), *TRAIN_FLAGS, *flags]


def _run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, env=_env(), cwd=PROJECT_DIR, capture_output=True, text=True,
                          timeout=TIMEOUT)


def test_two_processes_train_the_model_one_process_trains_and_only_rank_0_writes(tmp_path):
    single = _run(_single(tmp_path / "one", "--epochs", "2"))
    assert single.returncode == 0, single.stderr
    pair = _run(_torchrun(tmp_path / "two", "--epochs", "2"))
    assert pair.returncode == 0, pair.stderr
    one, two = load_checkpoint(tmp_path / "one"), load_checkpoint(tmp_path / "two")
    # Adam steps with the same global batches, binarization and noise: equal up to float
    # rounding (the gradient is summed in another order). Other draws move weights by ~1e-2.
    for key, value in one.model.state_dict().items():
        torch.testing.assert_close(two.model.state_dict()[key], value, rtol=0, atol=1e-6)
    for key in ("neg_elbo", "kl", "recon", "log_px"):
        assert two.metadata["test"][key] == pytest.approx(one.metadata["test"][key], rel=1e-4)
    # Rank 0 alone wrote: one record per step and epoch, the same files as one process.
    def keys(run):
        return [(r["kind"], r["epoch"], r["step"]) for r in read_metrics(tmp_path / run)]
    assert keys("two") == keys("one")
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted(
        p.name for p in (tmp_path / "one").iterdir())
    record = json.loads((tmp_path / "two" / "run.json").read_text())["distributed"]
    assert record == {"world_size": 2, "backend": "gloo", "global_batch_size": 32,
                      "per_process_batch_size": 16, "lr": 0.001}
    status = read_status(tmp_path / "two")
    assert status["state"] == "finished" and pair.stdout.count("finished 2 epochs") == 1


def test_a_plain_autoencoder_trains_on_two_processes_as_on_one(tmp_path):
    flags = ("--model", "ae", "--epochs", "2")
    assert _run(_single(tmp_path / "one", *flags)).returncode == 0
    pair = _run(_torchrun(tmp_path / "two", *flags))
    assert pair.returncode == 0, pair.stderr
    one, two = load_checkpoint(tmp_path / "one"), load_checkpoint(tmp_path / "two")
    for key, value in one.model.state_dict().items():
        torch.testing.assert_close(two.model.state_dict()[key], value, rtol=0, atol=1e-6)
    last = read_metrics(tmp_path / "two")[-1]
    assert last["train_kl"] is None and last["train_recon"] == pytest.approx(
        read_metrics(tmp_path / "one")[-1]["train_recon"], rel=1e-4)


def _rank_pids(launcher: int) -> dict[int, int]:
    """rank -> pid of torchrun's worker processes (its children, by their RANK variable)."""
    found = {}
    for task in Path(f"/proc/{launcher}/task").iterdir():
        for pid in (task / "children").read_text().split():
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            rank = [v.split(b"=", 1)[1] for v in environ if v.startswith(b"RANK=")]
            if rank:
                found[int(rank[0])] = int(pid)
    return found


def _wait_for(predicate, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout} s")


def test_killing_one_rank_fails_the_run_with_a_message_and_keeps_a_loadable_checkpoint(
    tmp_path,
):
    out = tmp_path / "run"
    launcher = subprocess.Popen(_torchrun(out, "--epochs", "2000"), env=_env(), cwd=PROJECT_DIR,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
    try:
        _wait_for(lambda: (out / "checkpoints" / "latest").exists(), TIMEOUT)
        ranks = _wait_for(lambda: len(pids := _rank_pids(launcher.pid)) == 2 and pids, 10)
        os.kill(ranks[1], signal.SIGKILL)
        launcher.wait(timeout=TIMEOUT)
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
            launcher.wait()
    assert launcher.returncode != 0
    status = read_status(out)
    assert status["state"] == "failed", status
    assert "a training process stopped or lost contact" in status["message"]
    assert status["pid"] == ranks[0]
    checkpoint = load_checkpoint(out)
    assert checkpoint.metadata["epoch"] >= 1
    assert status["epoch"] == checkpoint.metadata["epoch"]  # the status names what was kept


def test_the_app_cancels_and_resumes_a_two_process_run_like_any_other(tmp_path, monkeypatch):
    from tests.conftest import kill_live_runs, wait_until
    from tests.core.conftest import tiny_config
    from vae_core.runs import cancel_run, run_info, start_run

    monkeypatch.setenv("LATENT_LAB_DIST_TIMEOUT", "60")
    root = tmp_path / "runs"
    try:
        run_dir = start_run(tiny_config(epochs=300), root, processes=2)
        wait_until(lambda: run_info(run_dir).epoch >= 1, timeout=TIMEOUT)
        cancel_run(run_dir)
        info = wait_until(lambda: (i := run_info(run_dir)).state == "cancelled" and i,
                          timeout=TIMEOUT)
        assert info.can_resume and "stopped" in info.message
        kept = load_checkpoint(run_dir).metadata["epoch"]
        # torchrun and its workers take a few seconds to exit after the status says so; the
        # app then says "still exiting; try again in a moment", and a person tries again.
        wait_until(lambda: _resumed(run_dir), timeout=TIMEOUT, interval=0.5)
        wait_until(lambda: run_info(run_dir).epoch > kept, timeout=TIMEOUT)
        assert b"torch.distributed.run" in _cmdline(run_dir)  # relaunched on 2 processes
        cancel_run(run_dir)
        wait_until(lambda: run_info(run_dir).state == "cancelled", timeout=TIMEOUT)
    finally:
        kill_live_runs(root)
    epochs = [r["epoch"] for r in read_metrics(run_dir) if r["kind"] == "epoch"]
    assert epochs == list(range(1, len(epochs) + 1))  # each epoch once: no second writer


def _resumed(run_dir: Path) -> bool:
    from vae_core.runs import RunError, resume_run

    try:
        resume_run(run_dir)
    except RunError as error:
        assert "still exiting" in str(error)
        return False
    return True


def _cmdline(run_dir: Path) -> bytes:
    pid = json.loads((run_dir / "launch.json").read_text())["pid"]
    return Path(f"/proc/{pid}/cmdline").read_bytes()
