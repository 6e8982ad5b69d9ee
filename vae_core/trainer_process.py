"""Is process `pid` the trainer of a given run? Pids get reused, so the pid alone is not enough.

Where /proc exists, the process must be alive, not a zombie, and its command line must be
`python -m vae_core train ... --out <that run directory>`, compared as paths, not as text.
"""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path


def is_trainer_of(pid: int, run_dir: Path) -> bool:
    """Alive, not a zombie, and (where /proc exists) really our trainer: pids get reused."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):  # gone, or another user's process now
        return False
    proc = Path("/proc") / str(pid)
    if not Path("/proc/self").exists():
        return True
    try:
        if (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":  # a zombie
            return False
        argv = [arg.decode(errors="replace") for arg in _cmdline(proc).split(b"\0")]
        cwd = Path(os.readlink(proc / "cwd"))
    except (OSError, IndexError):
        return False
    return _trains_into(argv, cwd, run_dir)


def _trains_into(argv: list[str], cwd: Path, run_dir: Path) -> bool:
    """Is argv `... -m vae_core train ... --out <run_dir>`? Exactly: the trainer of run "a-2"
    is not run "a"'s, though "a" is in its command line."""
    if not any(argv[i : i + 3] == ["-m", "vae_core", "train"] for i in range(len(argv))):
        return False
    outs = [value for flag, value in itertools.pairwise(argv) if flag == "--out"]
    outs += [arg.removeprefix("--out=") for arg in argv if arg.startswith("--out=")]
    target = Path(run_dir).resolve()
    return any((cwd / out).resolve() == target for out in outs)


def _cmdline(proc: Path, wait: float = 1.0) -> bytes:
    """/proc/<pid>/cmdline, waiting out the moment right after Popen returns when the child
    has not yet exec'd and the file is empty (seen about 1 in 40 launches here)."""
    deadline = time.monotonic() + wait
    while not (cmdline := (proc / "cmdline").read_bytes()) and time.monotonic() < deadline:
        time.sleep(0.01)
    return cmdline
