"""The training loop behind `python -m vae_core train` and the app's background runs.

A run directory holds run.json (the RunConfig), status.json, metrics.jsonl and checkpoints/.
Every finished epoch is checkpointed (model, optimizer); SIGTERM / Ctrl-C stop after the current
step and the run keeps its last finished epoch; a non-finite loss stops the run as failed with
the last good checkpoint kept. A held-out validation part of the training split is evaluated
after every epoch: the best epoch so far is kept as checkpoints/best, and `patience` epochs
without improvement stop the run early. Batches are discretized as the likelihood requires
(vae_core.discretization): binarized afresh for Bernoulli models, dequantized otherwise, after
an optional random shift (vae_core.augment). Shuffling and noise come from generators re-seeded
per epoch from (seed, epoch), so a resumed run draws what an uninterrupted one would have. A
plain autoencoder (ModelConfig.kind 'ae') trains on its reconstruction term alone, which is then
also what validation follows. Finiteness is checked every log_every steps, not every step (a
check is a host-device sync). Under torchrun the same loop runs in every process
(vae_core/distributed.py); rank 0 alone evaluates and writes the run's files.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import math
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from . import distributed, speed
from .active_units import model_posterior_mean_variance
from .augment import random_shift
from .batches import SHUFFLE_SEED_FACTOR, EpochBatches
from .checkpoint import (
    CHECKPOINTS_DIR,
    best_checkpoint_dir,
    load_checkpoint,
    load_optimizer_state,
    resolve_checkpoint_dir,
    save_best_checkpoint,
    save_run_checkpoint,
)
from .checkpoint_checks import expected_shapes
from .config import ConfigError, RunConfig
from .data import ImageDataset, load_dataset, validation_split
from .data.streaming import StreamedDataset, evaluate_images, load_streamed
from .devices import select_device
from .discretization import discretize, offset_nats
from .evaluation import objective_of
from .models import LatentModel, build_model
from .objectives import TERMS, kl_weight, loss_terms
from .runs import MetricsLog, RunState, read_status, write_run_config, write_status
from .tracking import open_tracker

_OBJECTIVE_NAMES = {False: "-ELBO", True: "reconstruction"}  # by "is a plain autoencoder"
HEARTBEAT_SECONDS = 1.0  # at most one status.json write per second while training


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


@dataclass
class TrainResult:
    state: RunState  # FINISHED, CANCELLED or FAILED
    epochs_done: int
    message: str
    run_dir: Path


class _StopFlag:
    """Set by SIGTERM / SIGINT; the loop checks it between steps."""

    def __init__(self) -> None:
        self.stop = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _StopFlag:
        for sig in (signal.SIGTERM, signal.SIGINT):
            # Outside the main thread signals stay with the caller (ValueError).
            with contextlib.suppress(ValueError):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        self.stop = True

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


@dataclass
class _Session:
    """What one call to train() works with."""

    config: RunConfig
    run_dir: Path
    model: LatentModel
    optimizer: torch.optim.Optimizer
    data: ImageDataset | StreamedDataset
    device: torch.device
    metrics: MetricsLog
    start_epoch: int
    step: int
    train_seconds: float
    fit_x: torch.Tensor  # the training split minus the validation part: what is trained on
    val_x: torch.Tensor  # held out for early stopping and model choice; may be empty
    cluster: distributed.Cluster
    step_model: nn.Module  # what the step calls: the model, or DDP / torch.compile around it
    batches: EpochBatches
    scaler: torch.amp.GradScaler | None = None
    tracker: Any = None  # TensorBoard writer when asked for
    epochs_done: int = 0  # the last finished (checkpointed) epoch
    # The best validation objective so far (-ELBO; an autoencoder's reconstruction) and its
    # epoch (0: none).
    best_val: float = math.inf
    best_epoch: int = 0
    # Per-image train figures of the last epoch by term; None where the kind has no such term.
    last_train_means: dict[str, float | None] = dataclasses.field(default_factory=dict)
    last_heartbeat: float = 0.0  # time.monotonic() of the last status write

    @property
    def nats_offset(self) -> float:
        """Added to logged -ELBO/reconstruction so train figures match test ones in units."""
        return offset_nats(self.config.model.likelihood, math.prod(self.config.model.image_shape))


def train(
    config: RunConfig, run_dir: Path, resume: bool = False, progress: bool = False
) -> TrainResult:
    """Train (or resume) the run in `run_dir`; returns how it ended. Errors in the config or
    data are raised before anything is written when the run is new."""
    cluster = distributed.Cluster()
    try:
        cluster, device = distributed.join(select_device(config.train.device))
        session = _open_session(config, Path(run_dir), resume, cluster, device)
    except Exception as error:
        _report_setup_failure(Path(run_dir), config, error)
        distributed.leave(cluster)
        raise
    try:
        return _train_session(session, progress)
    finally:
        if session.tracker is not None:
            session.tracker.close()
        # The DDP wrapper holds the process group and its pending work: release it while the
        # interpreter is whole, so no Gloo thread is left to be torn down at exit (a rank once
        # aborted there with "terminate called without an active exception").
        del session
        gc.collect()
        distributed.leave(cluster)


def _train_session(session: _Session, progress: bool) -> TrainResult:
    status = _status_fields(session)
    _write_status(session, RunState.RUNNING, **status)
    try:
        with _StopFlag() as flag:
            result = _run_epochs(session, flag, progress)
    except Exception as error:
        status.update(message=distributed.describe_failure(error, session.cluster),
                      epoch=session.epochs_done, best_epoch=session.best_epoch)
        _write_status(session, RunState.FAILED, **status)
        raise
    _write_status(session, result.state, **{**_status_fields(session),
                                            "epoch": result.epochs_done, "message": result.message})
    return result


def _write_status(session: _Session, state: RunState, **fields: Any) -> None:
    if session.cluster.is_main:
        write_status(session.run_dir, state, **fields)


def _report_setup_failure(run_dir: Path, config: RunConfig, error: Exception) -> None:
    """A run a launcher announced as "starting" (the app does) must not stay so forever when
    its config or data is bad; other run directories are left as they were."""
    if os.environ.get("RANK", "0") != "0":  # under torchrun, rank 0 reports
        return
    previous = read_status(run_dir)
    if previous is not None and previous.get("state") == RunState.STARTING:
        kept = {k: v for k, v in previous.items() if k not in ("state", "updated")}
        write_status(run_dir, RunState.FAILED, **{"epochs": config.train.epochs, "epoch": 0, **kept,
                                           "pid": os.getpid(),
                                           "message": f"{type(error).__name__}: {error}"})


def _status_fields(session: _Session) -> dict[str, Any]:
    return {
        "pid": os.getpid(), "device": str(session.device), "epochs": session.config.train.epochs,
        "epoch": session.start_epoch - 1, "message": "", "train_seconds": session.train_seconds,
        "data_notes": list(session.data.notes),  # e.g. skipped files: the run card shows them
        "best_epoch": session.best_epoch,
    }


def _open_session(config: RunConfig, run_dir: Path, resume: bool,
                  cluster: distributed.Cluster, device: torch.device) -> _Session:
    train_cfg = config.train
    if train_cfg.num_threads:
        torch.set_num_threads(train_cfg.num_threads)
    speed.apply_determinism(train_cfg)
    local_batch = distributed.per_process_batch(train_cfg.batch_size, cluster)
    data = load_streamed(config.data) if config.data.stream else load_dataset(config.data)
    config = dataclasses.replace(
        config, model=dataclasses.replace(config.model, image_shape=data.image_shape)
    )
    expected_shapes(config.model)  # a model over the size limit fails here, before it is built
    torch.manual_seed(train_cfg.seed)
    model = speed.prepare_model(build_model(config.model).to(device), train_cfg)
    optimizer = torch.optim.Adam(model.parameters(), lr=train_cfg.lr)
    metrics = MetricsLog(run_dir)
    start_epoch, step, seconds = 1, 0, 0.0
    if resume:
        start_epoch, step, seconds = _restore(run_dir, model, optimizer, device)
    else:
        _check_new_run_dir(run_dir)
    tracker = open_tracker(run_dir, is_main=cluster.is_main) if train_cfg.tensorboard else None
    if cluster.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        if resume:
            metrics.truncate_after_epoch(start_epoch - 1)
        record = {**config.to_dict(), "distributed": distributed.run_record(config, cluster)}
        write_run_config(run_dir, record)
    fit_x, val_x = validation_split(data.train_x, config.data.val_fraction, config.data.split_seed)
    step_model = speed.compiled(distributed.for_training(model, cluster, device), train_cfg)
    batches = EpochBatches(fit_x, cluster, local_batch, train_cfg.seed,
                           speed.pin(train_cfg, device), config.data.loader_workers)
    session = _Session(config, run_dir, model, optimizer, data, device, metrics, start_epoch,
                       step, seconds, fit_x, val_x, cluster, step_model, batches,
                       speed.grad_scaler(train_cfg, device), tracker, start_epoch - 1)
    if resume:
        session.best_val, session.best_epoch = _restore_best(run_dir, start_epoch - 1)
    return session


def _restore_best(run_dir: Path, last_epoch: int) -> tuple[float, int]:
    """The best validation figure and epoch saved before the run stopped (none: inf, 0)."""
    directory = best_checkpoint_dir(run_dir)
    if directory is None:
        return math.inf, 0
    meta = load_checkpoint(directory).metadata
    if meta.get("epoch", 0) > last_epoch:  # saved after the epoch checkpoint we resume from
        return math.inf, 0
    return float(objective_of(meta["validation"])), int(meta["epoch"])


def _check_new_run_dir(run_dir: Path) -> None:
    if (run_dir / CHECKPOINTS_DIR).exists():
        raise ConfigError(f"{run_dir} already holds a run; resume it or choose another --out")


def _restore(run_dir: Path, model: LatentModel, optimizer: torch.optim.Optimizer,
             device: torch.device):
    """Load the latest checkpoint into model and optimizer; returns (next epoch, step, seconds)."""
    checkpoint_dir = resolve_checkpoint_dir(run_dir)
    saved = load_checkpoint(checkpoint_dir, device)
    model.load_state_dict(saved.model.state_dict())
    optimizer_state = load_optimizer_state(checkpoint_dir)
    if optimizer_state is not None:
        optimizer.load_state_dict(optimizer_state)
    meta = saved.metadata
    return meta["epoch"] + 1, meta.get("step", 0), meta.get("train_seconds", 0.0)


def _run_epochs(session: _Session, flag: _StopFlag, progress: bool) -> TrainResult:
    epochs, patience = session.config.train.epochs, session.config.train.patience
    last_done = session.start_epoch - 1
    for epoch in range(session.start_epoch, epochs + 1):
        try:
            finished = _train_epoch(session, epoch, flag, progress)
        except TrainingDiverged as error:
            kept = (f"kept epoch {last_done}'s checkpoint" if last_done
                    else "no epoch finished, so there is no checkpoint")
            message = f"diverged in epoch {epoch}: {error}; {kept}"
            return TrainResult(RunState.FAILED, last_done, message, session.run_dir)
        if not finished:
            return TrainResult(RunState.CANCELLED, last_done,
                               f"stopped during epoch {epoch}; kept epoch {last_done}",
                               session.run_dir)
        record, stalled = _end_epoch(session, epoch, final=epoch == epochs)
        if progress and record:
            _print_epoch(record, epochs)
        last_done = session.epochs_done = epoch
        if distributed.from_rank_0(stalled, session.cluster, session.device):
            return TrainResult(RunState.FINISHED, epoch,
                               f"stopped early after epoch {epoch}: no better validation -ELBO "
                               f"for {patience} epochs; best epoch {session.best_epoch}",
                               session.run_dir)
        if epoch < epochs and _stop_agreed(session, flag):
            return TrainResult(RunState.CANCELLED, epoch, f"stopped after epoch {epoch}",
                               session.run_dir)
    return TrainResult(RunState.FINISHED, last_done, f"finished {last_done} epochs",
                       session.run_dir)


def _noise_generator(session: _Session, epoch: int) -> torch.Generator:
    """The epoch's noise on the device, seeded from (seed, epoch); the shuffle is drawn by the
    batches' sampler from (seed, epoch) too (vae_core/batches.py)."""
    seed = session.config.train.seed * SHUFFLE_SEED_FACTOR + epoch
    return torch.Generator(device=session.device).manual_seed(seed + 7)


def _stop_agreed(session: _Session, flag: _StopFlag) -> bool:
    """One process: the flag. Several: stop when any was asked to, all at the same step."""
    return distributed.agree_to_stop(flag.stop, session.cluster, session.device)


# Per-step sums kept on the device (no host sync per step): loss, -ELBO, KL, reconstruction.
N_TOTALS = 4


def _train_epoch(session: _Session, epoch: int, flag: _StopFlag, progress: bool) -> bool:
    """One pass over the training set; False if stopped part-way."""
    cfg = session.config.train
    batches = session.batches.for_epoch(epoch)
    noise = _noise_generator(session, epoch)
    n_steps = len(batches)
    bar = _progress_bar(progress and session.cluster.is_main, n_steps, epoch, cfg.epochs)
    session.step_model.train()
    started = time.perf_counter()
    totals = torch.zeros(N_TOTALS, device=session.device)
    for i, batch in enumerate(batches):
        stop = (_stop_agreed(session, flag) if session.step % cfg.log_every == 0
                else flag.stop and not session.cluster.distributed)
        if stop:
            _close(bar)
            return False
        weight = kl_weight(cfg.beta, cfg.warmup_epochs, (epoch - 1) + i / n_steps)
        step_sums = _step(session, batch, weight, noise, totals)
        session.step += 1
        if session.step % cfg.log_every == 0 or i == n_steps - 1:
            _log_step(session, epoch, totals, step_sums, weight, bar, i + 1, n_steps)
    session.train_seconds += time.perf_counter() - started
    totals = distributed.all_sum(totals, session.cluster)
    session.last_train_means = _means(session, totals[1:].tolist(), session.fit_x.shape[0])
    _close(bar)
    return True


def _prepare_batch(session: _Session, batch: torch.Tensor, noise) -> torch.Tensor:
    """Shift (optionally) and discretize on the device; under DDP drawn as for the global batch
    (distributed.as_in_global_batch), so N processes draw what one process draws."""
    cfg = session.config.train

    def draw(x: torch.Tensor) -> torch.Tensor:
        x = random_shift(x, cfg.augment_shift, noise)
        return discretize(x, session.config.model.likelihood, noise)

    batch = speed.to_device(batch, session.device, cfg)
    return distributed.as_in_global_batch(draw, batch, session.cluster)


def _step(session: _Session, batch: torch.Tensor, weight: float, noise: torch.Generator | None,
          totals: torch.Tensor) -> torch.Tensor:
    """One optimizer step; adds its sums to `totals` and returns them with the batch size,
    (N_TOTALS + 1,), all on the device: nothing here waits for the device."""
    cfg = session.config.train
    batch = _prepare_batch(session, batch, noise)
    with speed.autocast(cfg, session.device):
        terms = loss_terms(session.step_model, batch, weight, cfg.free_bits, noise)
        loss = terms.loss.mean()
    session.optimizer.zero_grad(set_to_none=True)
    if session.scaler is None:
        loss.backward()
        session.optimizer.step()
    else:
        session.scaler.scale(loss).backward()
        session.scaler.step(session.optimizer)
        session.scaler.update()
    with torch.no_grad():  # bookkeeping: keep it out of the autograd graph
        absent = terms.loss.new_zeros(())  # an autoencoder has no -ELBO or KL
        sums = torch.stack([terms.loss.sum(), *(absent if t is None else t.sum() for t in
                                                (terms.neg_elbo, terms.kl, terms.recon))]).float()
        totals += sums
        return torch.cat([sums, sums.new_tensor([batch.shape[0]])])


def _check_finite(session: _Session, loss_sum: float) -> None:
    """The epoch's summed loss so far; every process sees the same (all-summed) figure."""
    if not math.isfinite(loss_sum):
        raise TrainingDiverged(f"loss is {loss_sum} by step {session.step}")


def _log_step(session: _Session, epoch: int, totals: torch.Tensor, step_sums: torch.Tensor,
              weight: float, bar, done: int, total: int):
    both = distributed.all_sum(torch.cat([totals, step_sums]), session.cluster).tolist()
    _check_finite(session, both[0])
    values = _means(session, both[N_TOTALS + 1 : 2 * N_TOTALS], both[-1])
    if not session.cluster.is_main:
        return
    session.metrics.append({"kind": "step", "epoch": epoch, "step": session.step,
                            "epoch_progress": done / total, "kl_weight": weight, **values,
                            "time": time.time()})
    if session.tracker is not None:
        session.tracker.step(session.step, values, weight)
    # Readers poll every few seconds; a status write per logged step cost the loop ~2%.
    if time.monotonic() - session.last_heartbeat >= HEARTBEAT_SECONDS or done == total:
        session.last_heartbeat = time.monotonic()
        write_status(session.run_dir, RunState.RUNNING,
                     **{**_status_fields(session), "epoch": epoch - 1, "step_in_epoch": done,
                        "steps_per_epoch": total, "train_seconds": session.train_seconds})
    if bar is not None:
        bar.update(done - bar.n)
        bar.set_postfix({k: f"{v:.1f}" for k, v in values.items() if v is not None})


def _means(session: _Session, sums: list[float], count: float) -> dict[str, float | None]:
    """Per-image means of the TERMS' sums, with the nats offset on the likelihood terms (none
    on the KL); None for the terms a plain autoencoder does not have."""
    means = {k: v / count for k, v in zip(TERMS, sums, strict=True)}
    if not session.model.is_variational:
        means["neg_elbo"] = means["kl"] = None
    return {k: v if v is None or k == "kl" else v + session.nats_offset for k, v in means.items()}


def _print_epoch(record: dict[str, Any], epochs: int) -> None:
    from tqdm import tqdm

    log_px = record["test_log_px"]
    tail = f"  test log p(x) {log_px:.2f}" if log_px is not None else ""
    if record["val_objective"] is not None:
        tail += (f"  validation {_OBJECTIVE_NAMES[record['test_neg_elbo'] is None]} "
                 f"{record['val_objective']:.2f} (best epoch {record['best_epoch']})")
    if record["test_neg_elbo"] is None:  # a plain autoencoder: reconstruction only
        tqdm.write(f"epoch {record['epoch']}/{epochs}  train recon {record['train_recon']:.2f}  "
                   f"test recon {record['test_recon']:.2f}{tail}")
        return
    tqdm.write(f"epoch {record['epoch']}/{epochs}  train -ELBO {record['train_neg_elbo']:.2f}  "
               f"test -ELBO {record['test_neg_elbo']:.2f}  (KL {record['test_kl']:.2f}, "
               f"recon {record['test_recon']:.2f}){tail}")


def _end_epoch(session: _Session, epoch: int, final: bool) -> tuple[dict[str, Any], bool]:
    """Validate, evaluate on the test set, log the epoch, checkpoint it (and the best so far).
    Returns the epoch's record and whether the run has stalled (patience used up)."""
    cfg = session.config.train
    session.model.eval()
    if not session.cluster.is_main:  # rank 0 evaluates and writes; the others go on
        return {}, False
    validation = _validate(session)
    improved = validation is not None and validation.objective < session.best_val
    if improved:
        session.best_val, session.best_epoch = validation.objective, epoch
    stalled = validation is not None and cfg.patience > 0 and \
        epoch - session.best_epoch >= cfg.patience
    # log p(x) (k importance samples: the slow part) goes to the checkpoint export ships: the
    # best one, so a last epoch that is not the best skips it.
    wants_log_px = final or stalled
    best_elsewhere = wants_log_px and not improved and session.best_epoch > 0
    iw = cfg.iw_samples if wants_log_px and not best_elsewhere else 0
    test = evaluate_images(session.model, session.data.test_x, iw_samples=iw, seed=cfg.seed)
    train = {f"train_{k}": v for k, v in session.last_train_means.items()}
    record = {"kind": "epoch", "epoch": epoch, "step": session.step, **train,
              "val_neg_elbo": validation.neg_elbo if validation else None,
              "val_objective": validation.objective if validation else None,
              "test_neg_elbo": test.neg_elbo, "test_kl": test.kl, "test_recon": test.recon,
              "test_log_px": test.log_px, "best_epoch": session.best_epoch,
              "train_seconds": session.train_seconds, "time": time.time()}
    session.metrics.append(record)
    if session.tracker is not None:
        session.tracker.epoch(epoch, record, session.model)
    metadata = {"epoch": epoch, "step": session.step, "train_seconds": session.train_seconds,
                "device": str(session.device), "test": test.as_dict(),
                "validation": validation.as_dict() if validation else None,
                "n_train": int(session.fit_x.shape[0]),
                "n_validation": int(session.val_x.shape[0]),
                "posterior_mean_variance": model_posterior_mean_variance(session.model,
                                                                         session.data.test_x)}
    save_run_checkpoint(session.run_dir, epoch, model=session.model,
                        data_config=session.config.data, train_config=cfg, metadata=metadata,
                        optimizer_state=session.optimizer.state_dict())
    if improved:
        save_best_checkpoint(session.run_dir, model=session.model,
                             data_config=session.config.data, train_config=cfg, metadata=metadata)
    elif best_elsewhere:
        _complete_best(session)
    return record, stalled


def _validate(session: _Session):
    """Figures on the held-out validation images (an Evaluation), or None without them."""
    if session.val_x.shape[0] == 0:
        return None
    return evaluate_images(session.model, session.val_x, seed=session.config.train.seed)


def _complete_best(session: _Session) -> None:
    """Give checkpoints/best the final test figures (with log p(x)) that its epoch lacked."""
    directory = best_checkpoint_dir(session.run_dir)
    best = load_checkpoint(directory, session.device)
    cfg = session.config.train
    test = evaluate_images(best.model.eval(), session.data.test_x, iw_samples=cfg.iw_samples,
                           seed=cfg.seed)
    save_best_checkpoint(session.run_dir, model=best.model, data_config=session.config.data,
                         train_config=cfg, metadata={**best.metadata, "test": test.as_dict()})


def _progress_bar(enabled: bool, total: int, epoch: int, epochs: int):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=f"epoch {epoch}/{epochs}", leave=False, dynamic_ncols=True)


def _close(bar) -> None:
    if bar is not None:
        bar.close()
