"""The run directory, and background training runs: start, list, cancel, resume and delete
them from any process.

Each run is `python -m vae_core train` (the CLI's code path) in its own process group, writing
into its run directory. That directory, not a Popen object, is the source of truth: a page
refresh, a second tab, a restarted app or a notebook all see the same runs. A run whose status
says "running" but whose process is gone (kill -9, out of memory) is reported as "crashed" and
can be resumed from its last finished epoch.

Layout of a run directory (checkpoints/ is checkpoint.py's):
    run.json       the RunConfig: as asked for, then as the trainer resolved it (image shape,
                   processes); runs made before it was the one name have request.json
    launch.json    pid of the latest process;     log.txt    its stdout and stderr
    status.json    state and progress;            metrics.jsonl  one record per step or epoch
    checkpoints/

The trainer is the only writer of status.json, metrics.jsonl and run.json. status.json is
replaced atomically; metrics.jsonl gets whole lines appended and flushed, so a reader (the app,
another shell) sees complete records only, and skips a torn last line if it reads mid-write.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import fcntl
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .checkpoint import CHECKPOINTS_DIR, has_run_checkpoint
from .checkpoint_checks import expected_shapes
from .config import RunConfig
from .data.loading import planned_image_shape
from .devices import select_device
from .distributed import launcher
from .files import atomic_write_bytes, atomic_write_json, read_tail, read_text

STATUS_FILE = "status.json"
METRICS_FILE = "metrics.jsonl"
RUN_CONFIG_FILE = "run.json"
OLD_CONFIG_FILE = "request.json"  # what the app named a run's config before run.json
LAUNCH_FILE = "launch.json"
LOG_FILE = "log.txt"
CANCEL_FILE = "cancel-requested"
STARTING_GRACE_SECONDS = 60  # a "starting" run with no pid yet is given this long
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
# What a save stages under before its rename (checkpoint.save_checkpoint, files.atomic_write_*).
_STAGED = re.compile(r"\..+\.tmp-(\d+)")
_PACKAGE_PARENT = Path(__file__).resolve().parent.parent


class RunState(enum.StrEnum):
    """Where a run stands. Its processes write every state but CRASHED, which a reader
    concludes when a live state's process is gone. A str: status.json holds the value."""

    STARTING = "starting"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"
    CRASHED = "crashed"

    @property
    def live(self) -> bool:
        return self in (RunState.STARTING, RunState.RUNNING)

    @property
    def resumable(self) -> bool:
        """From its last finished epoch, if it has one."""
        return self in (RunState.CANCELLED, RunState.CRASHED, RunState.FAILED)


class RunError(ValueError):
    """A run operation was refused; the message says why and what to do."""


class RunLimitReached(RunError):
    """As many runs are live as the limit allows."""


def max_concurrent_runs() -> int:
    """LATENT_LAB_MAX_RUNS, default 1: on a 2-core machine a second run would starve the app."""
    return _positive_env("LATENT_LAB_MAX_RUNS", 1)


def default_threads() -> int:
    """LATENT_LAB_TRAIN_THREADS, default 1: keeps a core free for the app's slider decoding."""
    return _positive_env("LATENT_LAB_TRAIN_THREADS", 1)


def _positive_env(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise RunError(f"{name} must be a positive integer, got {json.dumps(text)}")
    return int(text)


# --- run.json, status.json and metrics.jsonl ---------------------------------------------


def config_file(run_dir: Path) -> Path:
    """run.json; request.json for a run the app started before run.json was the one name."""
    current = Path(run_dir) / RUN_CONFIG_FILE
    old = Path(run_dir) / OLD_CONFIG_FILE
    return old if old.is_file() and not current.is_file() else current


def read_run_config(run_dir: Path) -> RunConfig:
    return RunConfig.from_dict(json.loads(read_text(config_file(run_dir))))


def write_run_config(run_dir: Path, record: dict[str, Any]) -> None:
    """Replace run.json (the config and what the trainer resolved). Its first mtime is when
    the run was made (the list's order), so a rewrite keeps it."""
    path = Path(run_dir) / RUN_CONFIG_FILE
    made = path.stat().st_mtime_ns if path.is_file() else None
    atomic_write_json(path, record)
    if made is not None:
        os.utime(path, ns=(made, made))


def write_status(run_dir: Path, state: RunState, **fields: Any) -> dict[str, Any]:
    """Replace the run's status with `state` plus fields, stamped with the time."""
    if state not in set(RunState) - {RunState.CRASHED}:
        raise ValueError(f"unknown run state {json.dumps(str(state))}")
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


def recorded_processes(run_dir: Path) -> int:
    """How many processes the run in run_dir trained with (1 when run.json says nothing)."""
    try:
        record = json.loads(read_text(config_file(run_dir))).get("distributed") or {}
        return max(1, int(record.get("world_size", 1)))
    except (OSError, ValueError, TypeError, AttributeError):
        return 1


@dataclass(frozen=True)
class RunInfo:
    """One run as it truly is now (state checked against its process)."""

    name: str
    path: Path
    state: RunState
    epoch: int  # finished epochs
    epochs: int
    step_in_epoch: int
    steps_per_epoch: int
    train_seconds: float
    device: str
    message: str
    has_checkpoint: bool
    summary: str  # dataset · model · schedule, for a one-line description
    created: float
    data_notes: tuple[str, ...] = ()  # what the trainer's data loader skipped, and why

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", RunState(self.state))  # "running" reads as RUNNING

    @property
    def live(self) -> bool:
        return self.state.live

    @property
    def can_resume(self) -> bool:
        return self.state.resumable and self.has_checkpoint

    @property
    def progress(self) -> float:
        """Fraction of all epochs done, counting the current epoch's steps."""
        partial = self.step_in_epoch / self.steps_per_epoch if self.steps_per_epoch else 0.0
        done = self.epoch + (partial if self.live else 0.0)
        return min(1.0, done / self.epochs) if self.epochs else 0.0

    @property
    def eta_seconds(self) -> float | None:
        """Training time left at the pace of the finished epochs (evaluation not counted)."""
        if not self.live or self.epoch < 1 or self.train_seconds <= 0:
            return None
        per_epoch = self.train_seconds / self.epoch
        return max(0.0, per_epoch * self.epochs * (1.0 - self.progress))


# --- starting --------------------------------------------------------------------------------


def check_run(config: RunConfig) -> None:
    """Raise ConfigError (with the fields at fault) for a run the trainer would refuse once its
    data is loaded, before anything starts (start_run, and so the Train form, ask here). Both
    use checkpoint_checks.expected_shapes, the one size limit; only the image shape differs:
    here the one the data set will have, in the trainer the one it has."""
    shape = planned_image_shape(config.data)
    if shape is not None:
        expected_shapes(dataclasses.replace(config.model, image_shape=shape))


def start_run(
    config: RunConfig, runs_root: Path, name: str | None = None,
    max_concurrent: int | None = None, threads: int | None = None, processes: int = 1,
) -> Path:
    """Create a run directory and start training in a background process; returns the directory.

    name: letters, digits, '-' and '_' only; default a timestamp + dataset + random suffix.
    threads: torch/OpenMP threads for the trainer (default LATENT_LAB_TRAIN_THREADS or 1).
    processes: more than 1 trains with torchrun + DDP on that many local processes (GPUs).
    Raises RunError (RunLimitReached when max_concurrent runs are live), ConfigError.
    """
    if name is not None and not _NAME.fullmatch(name):
        raise RunError("A run name may use only letters, digits, '-' and '_' (up to 64), "
                       f"got {json.dumps(name)}.")
    select_device(config.train.device)  # an unavailable device fails here, not in the child
    check_run(config)  # so does a model over the size limit
    threads = threads or config.train.num_threads or default_threads()
    config = dataclasses.replace(config, train=dataclasses.replace(config.train,
                                                                   num_threads=threads))
    runs_root = Path(runs_root).resolve()
    with _runs_lock(runs_root):
        _check_limit(runs_root, max_concurrent)
        run_dir = _new_run_dir(runs_root, name, config.data.name)
        atomic_write_json(run_dir / RUN_CONFIG_FILE, config.to_dict())
        write_status(run_dir, RunState.STARTING, epoch=0, epochs=config.train.epochs,
                     device=config.train.device, message="starting the training process")
        _launch(run_dir, ["--config", str(run_dir / RUN_CONFIG_FILE)], threads, processes)
    return run_dir


def _new_run_dir(runs_root: Path, name: str | None, dataset: str) -> Path:
    """mkdir without exist_ok is the atomic claim: two starts never share a directory."""
    runs_root.mkdir(parents=True, exist_ok=True)
    if name is not None:
        try:
            (runs_root / name).mkdir()
        except FileExistsError:
            raise RunError(f"A run named {name} already exists; pick another name.") from None
        return runs_root / name
    for _ in range(20):
        auto = f"{time.strftime('%Y%m%d-%H%M%S')}-{dataset}-{secrets.token_hex(3)}"
        with contextlib.suppress(FileExistsError):
            (runs_root / auto).mkdir()
            return runs_root / auto
    raise RunError(f"Could not create a new run directory in {runs_root}.")


@contextlib.contextmanager
def _runs_lock(runs_root: Path):
    """Serialises count-then-launch across tabs and processes, so the limit holds."""
    runs_root.mkdir(parents=True, exist_ok=True)
    with open(runs_root / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _check_limit(runs_root: Path, max_concurrent: int | None) -> None:
    limit = max_concurrent if max_concurrent is not None else max_concurrent_runs()
    live = [r.name for r in list_runs(runs_root) if r.live]
    if len(live) >= limit:
        raise RunLimitReached(
            f"{len(live)} run(s) already training ({', '.join(live)}) and the limit is {limit}; "
            "wait for it to finish or cancel it (LATENT_LAB_MAX_RUNS sets the limit)."
        )


def _launch(run_dir: Path, args: list[str], threads: int, processes: int = 1) -> None:
    """Start the trainer in a new session (its own process group, so cancel reaches all of it
    and a Ctrl-C in the app's terminal does not); torchrun and its workers for processes > 1."""
    command = [*launcher(processes), "-m", "vae_core", "train", *args, "--out", str(run_dir),
               "--quiet"]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(_PACKAGE_PARENT),
                                                       os.environ.get("PYTHONPATH")]))}
    with open(run_dir / LOG_FILE, "a") as log:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, env=env, cwd=run_dir,
                                   start_new_session=True)
    atomic_write_json(run_dir / LAUNCH_FILE, {"pid": process.pid, "started": time.time()})
    # Reap the child when it exits so it does not linger as a zombie.
    threading.Thread(target=process.wait, daemon=True).start()


# --- listing ---------------------------------------------------------------------------------


def list_runs(runs_root: Path) -> list[RunInfo]:
    """Every run under runs_root, newest first (each swept of what killed saves left)."""
    root = Path(runs_root)
    if not root.is_dir():
        return []
    dirs = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
            and config_file(p).is_file()]
    for run_dir in dirs:
        sweep_staging(run_dir)
    infos = [run_info(p) for p in dirs]
    return sorted(infos, key=lambda r: r.created, reverse=True)


def run_info(run_dir: Path) -> RunInfo:
    run_dir = Path(run_dir)
    status = read_status(run_dir) or {"state": RunState.STARTING, "updated": 0.0}
    state, message = _true_state(run_dir, status)
    return RunInfo(
        name=run_dir.name, path=run_dir, state=state, epoch=int(status.get("epoch") or 0),
        epochs=int(status.get("epochs") or 0),
        step_in_epoch=int(status.get("step_in_epoch") or 0),
        steps_per_epoch=int(status.get("steps_per_epoch") or 0),
        train_seconds=float(status.get("train_seconds") or 0.0),
        device=str(status.get("device") or "?"), message=message,
        has_checkpoint=has_run_checkpoint(run_dir),
        summary=_summary(run_dir), created=_created(run_dir),
        data_notes=tuple(str(note) for note in status.get("data_notes") or ()),
    )


def _true_state(run_dir: Path, status: dict) -> tuple[RunState, str]:
    """(state, message): the status as written, unless its process is gone."""
    written, message = status.get("state", RunState.STARTING), status.get("message", "")
    if written not in tuple(RunState):  # a hand-edited file may hold anything
        return RunState.FAILED, f"status.json names no known state: {json.dumps(str(written)[:40])}"
    state = RunState(written)
    if not state.live or _process_alive(run_dir):
        return state, message
    if (run_dir / CANCEL_FILE).exists():
        return RunState.CANCELLED, "cancelled while the training process was starting"
    no_pid_yet = _launch_pid(run_dir) is None and status.get("pid") is None
    if no_pid_yet and time.time() - status.get("updated", 0.0) < STARTING_GRACE_SECONDS:
        return RunState.STARTING, message
    return RunState.CRASHED, _crash_message(run_dir)


def _crash_message(run_dir: Path) -> str:
    lines = read_tail(run_dir / LOG_FILE).strip().splitlines()
    tail = f" Last log line: {lines[-1][:200]}" if lines else ""
    return ("The training process ended without saying why (killed, or out of memory?)."
            + tail)


def _summary(run_dir: Path) -> str:
    try:
        config = read_run_config(run_dir)
    except (ValueError, OSError):  # ConfigError and JSONDecodeError are ValueErrors
        return "unreadable run config"
    model, train = config.model, config.train
    hidden = ",".join(str(h) for h in model.hidden)
    schedule = f"{train.epochs} epochs"
    if train.warmup_epochs:
        schedule += f" · KL warm-up {train.warmup_epochs} epochs"
    if train.free_bits:
        schedule += f" · free bits {train.free_bits:g} nats/dim"
    if not model.is_variational:  # reconstruction only: beta, warm-up and free bits do not apply
        return (f"{config.data.name} · plain autoencoder · {model.arch} ({hidden}) · latent "
                f"{model.latent_dim} · {model.likelihood} · {train.epochs} epochs · "
                f"batch {train.batch_size} · lr {train.lr:g}")
    return (f"{config.data.name} · {model.arch} ({hidden}) · latent {model.latent_dim} · "
            f"{model.likelihood} · beta {train.beta:g} · {schedule} · "
            f"batch {train.batch_size} · lr {train.lr:g}")


def _created(run_dir: Path) -> float:
    """When its config was first written (an older run's request.json predates its run.json)."""
    found = [run_dir / name for name in (RUN_CONFIG_FILE, OLD_CONFIG_FILE)]
    return min((p.stat().st_mtime for p in found if p.is_file()), default=0.0)


def _launch_pid(run_dir: Path) -> int | None:
    try:
        return int(json.loads(read_text(run_dir / LAUNCH_FILE))["pid"])
    except (OSError, KeyError, TypeError, ValueError):
        return None


def _live_pids(run_dir: Path) -> list[int]:
    """This run's trainer processes still alive (pids from launch.json and status.json)."""
    pids = {_launch_pid(run_dir), (read_status(run_dir) or {}).get("pid")}
    return [pid for pid in pids if isinstance(pid, int) and is_trainer_of(pid, run_dir)]


def _process_alive(run_dir: Path) -> bool:
    return bool(_live_pids(run_dir))


def sweep_staging(run_dir: Path) -> None:
    """Remove what saves killed part-way left behind, `.epoch-0003.tmp-<pid>` folders and
    `.latest.tmp-<pid>`-like files, when process <pid> is gone; a live writer's are its own."""
    for folder in (Path(run_dir), Path(run_dir) / CHECKPOINTS_DIR):
        for path in folder.glob(".*.tmp-*"):
            staged = _STAGED.fullmatch(path.name)
            if staged is None or _alive(int(staged[1])):
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    """Running: not gone, not a zombie (a killed child its parent has not reaped yet)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:  # another user's process
        return True
    try:
        return not _is_zombie(Path("/proc") / str(pid))
    except (OSError, IndexError):  # no /proc here
        return True


# --- is a pid this run's trainer? --------------------------------------------------------------
# Pids get reused, so the pid alone is not enough. Where /proc exists, the process must be alive,
# not a zombie, and its command line must be `python -m vae_core train ... --out <that run
# directory>`, compared as paths, not as text.


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
        if _is_zombie(proc):
            return False
        argv = [arg.decode(errors="replace") for arg in _cmdline(proc).split(b"\0")]
        cwd = Path(os.readlink(proc / "cwd"))
    except (OSError, IndexError):
        return False
    return _trains_into(argv, cwd, run_dir)


def _is_zombie(proc: Path) -> bool:
    """From /proc/<pid>/stat: the state follows the command name in parentheses."""
    return (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"


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


# --- cancel, resume, delete ------------------------------------------------------------------


def cancel_run(run_dir: Path) -> None:
    """Ask a live run to stop: SIGTERM to its process group. The trainer finishes its step and
    exits as "cancelled", keeping its last finished epoch."""
    run_dir = Path(run_dir)
    info = run_info(run_dir)
    if not info.live:
        raise RunError(f"{info.name} is not running (it is {info.state}).")
    (run_dir / CANCEL_FILE).touch()
    for pid in _live_pids(run_dir):
        _signal_group(pid, signal.SIGTERM)


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)  # our trainers lead their own group (start_new_session)
    except ProcessLookupError:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)  # a trainer started by hand, not a group leader


def resume_run(
    run_dir: Path, max_concurrent: int | None = None, threads: int | None = None
) -> None:
    """Continue a cancelled, crashed or failed run from its latest checkpoint."""
    run_dir = Path(run_dir).resolve()
    with _runs_lock(run_dir.parent):  # two tabs resuming at once must not start two trainers
        info = run_info(run_dir)
        if info.live:
            raise RunError(f"{info.name} is still running; cancel it first.")
        if not info.can_resume:
            why = ("it has finished" if info.state == RunState.FINISHED else
                   "it has no finished epoch to continue from; delete it and start a new run")
            raise RunError(f"{info.name} cannot be resumed: {why}.")
        _check_exited(run_dir)
        _check_limit(run_dir.parent, max_concurrent)
        sweep_staging(run_dir)
        (run_dir / CANCEL_FILE).unlink(missing_ok=True)
        (run_dir / LAUNCH_FILE).unlink(missing_ok=True)
        previous = {k: v for k, v in (read_status(run_dir) or {}).items()
                    if k not in ("state", "updated", "pid", "message")}
        write_status(run_dir, RunState.STARTING, **previous,
                     message=f"resuming after epoch {info.epoch}")
        _launch(run_dir, ["--resume"], threads or default_threads(),
                recorded_processes(run_dir))


def delete_run(run_dir: Path, runs_root: Path) -> None:
    """Delete a run that is not running; only a run directory directly inside runs_root."""
    root = Path(runs_root).resolve()
    target = Path(run_dir).resolve()
    if target.parent != root or target.name.startswith("."):
        raise RunError(f"{run_dir} is not a run inside {runs_root}; refusing to delete it.")
    if not config_file(target).is_file():
        raise RunError(f"{target.name} does not look like a run directory; not deleting it.")
    if run_info(target).live:
        raise RunError(f"{target.name} is running; cancel it before deleting it.")
    _check_exited(target)
    shutil.rmtree(target)


def _check_exited(run_dir: Path, timeout: float = 5.0) -> None:
    """A trainer that has written its final status may still be exiting for a moment."""
    deadline = time.monotonic() + timeout
    while _process_alive(run_dir):
        if time.monotonic() > deadline:
            raise RunError(f"{run_dir.name}'s process is still exiting; try again in a moment.")
        time.sleep(0.1)
