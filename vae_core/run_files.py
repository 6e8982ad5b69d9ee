"""The files a training run shares with other processes: status.json and metrics.jsonl.

The trainer is the only writer. status.json is replaced atomically; metrics.jsonl gets whole
lines appended and flushed, so a reader (the app, another shell) sees complete records only,
and skips a torn last line if it reads mid-write.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from .files import atomic_write_bytes, atomic_write_json

STATUS_FILE = "status.json"
METRICS_FILE = "metrics.jsonl"
RUN_CONFIG_FILE = "run.json"
STATES = ("starting", "running", "finished", "failed", "cancelled")


def write_status(run_dir: Path, state: str, **fields: Any) -> dict[str, Any]:
    """Replace the run's status with `state` plus fields, stamped with the time."""
    if state not in STATES:
        raise ValueError(f"unknown run state {state!r}")
    status = {"state": state, "updated": time.time(), **fields}
    # A heartbeat written every few steps: no fsync (it cost the loop ~5% of its speed);
    # readers still never see a torn file.
    atomic_write_json(Path(run_dir) / STATUS_FILE, status, durable=False)
    return status


def read_status(run_dir: Path) -> dict[str, Any] | None:
    """The run's status as written, or None when there is none (yet)."""
    try:
        return json.loads((Path(run_dir) / STATUS_FILE).read_text())
    except (OSError, json.JSONDecodeError):
        return None


class MetricsLog:
    """Append-only JSON lines, one record per logged step or finished epoch."""

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / METRICS_FILE

    def append(self, record: dict[str, Any]) -> None:
        with open(self.path, "a") as handle:
            handle.write(json.dumps(record) + "\n")
            handle.flush()

    def truncate_after_epoch(self, epoch: int) -> None:
        """Drop records of epochs after `epoch`: a resumed run redoes them."""
        kept = [r for r in read_metrics(self.path.parent) if r.get("epoch", 0) <= epoch]
        atomic_write_bytes(self.path, "".join(json.dumps(r) + "\n" for r in kept).encode())


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    """All complete records so far (a half-written last line is skipped)."""
    try:
        lines = (Path(run_dir) / METRICS_FILE).read_text().splitlines()
    except OSError:
        return []
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records
