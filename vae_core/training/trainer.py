"""The training loop: read Trainer top to bottom. __init__ sets the run up (data, model,
optimizer, a resumed run's checkpoint), run() loops over epochs, train_epoch() over steps, step()
is one optimizer step, end_epoch() validates, tests and checkpoints (every epoch, and the best so
far as checkpoints/best; `patience` epochs without a better validation figure stop the run).
Reports go through one seam, reporting.Reporters. SIGTERM / Ctrl-C stop after the step, keeping
the last finished epoch; a non-finite loss fails the run, keeping it too. Draws come from
generators seeded per epoch, so a resumed run draws what an uninterrupted one would have. Under
torchrun every process runs this loop (distributed.py); rank 0 alone evaluates and writes."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from .. import checkpoint, devices, distributed
from ..active_units import model_posterior_mean_variance
from ..augment import random_shift
from ..batches import SHUFFLE_SEED_FACTOR, EpochBatches
from ..checkpoint_checks import expected_shapes
from ..config import ConfigError, RunConfig
from ..data import load_dataset, validation_split
from ..data.streaming import evaluate_images, load_streamed
from ..discretization import discretize, offset_nats
from ..evaluation import objective_of
from ..models import build_model
from ..objectives import TERMS, loss_terms, penalty_weights
from ..runs import RunState, sweep_staging, write_run_config
from .reporting import run_reporters

N_TOTALS = 4  # per-step sums kept on the device (no host sync per step): loss, -ELBO, KL, recon


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


@dataclass
class TrainResult:
    state: RunState  # FINISHED, CANCELLED or FAILED
    epochs_done: int
    message: str
    run_dir: Path


def _adam(model: torch.nn.Module, cfg, device: torch.device) -> torch.optim.Adam:
    """Adam, with its fused kernel when the config asks and the device has one (CPU, CUDA;
    not MPS). A resumed run's optimizer state brings back the kernel it was saved with."""
    fused = cfg.fused_adam and device.type in ("cpu", "cuda")
    return torch.optim.Adam(model.parameters(), lr=cfg.lr, fused=fused or None)


class Trainer:
    def __init__(self, config: RunConfig, run_dir: Path, resume: bool,
                 cluster: distributed.Cluster, device: torch.device,
                 progress: bool = False) -> None:
        cfg = config.train
        if cfg.num_threads:
            torch.set_num_threads(cfg.num_threads)
        devices.apply_determinism(cfg)
        local_batch = distributed.per_process_batch(cfg.batch_size, cluster)
        self.data = load_streamed(config.data) if config.data.stream else load_dataset(config.data)
        self.config = config = dataclasses.replace(
            config, model=dataclasses.replace(config.model, image_shape=self.data.image_shape))
        expected_shapes(config.model)  # a model over the size limit fails here, before it is built
        self.run_dir, self.cluster, self.device = run_dir, cluster, device
        torch.manual_seed(cfg.seed)
        self.model = devices.prepare_model(build_model(config.model).to(device), cfg)
        self.optimizer = _adam(self.model, cfg, device)
        self.scaler = devices.grad_scaler(cfg, device)  # fp16 only
        # The best validation objective so far (-ELBO; an autoencoder's reconstruction), its epoch.
        self.best_val, self.best_epoch = math.inf, 0
        self.global_step, self.train_seconds, self.epochs_done = 0, 0.0, 0
        self.stop_requested = False  # by SIGTERM / SIGINT: the loop checks it between steps
        if resume:
            self._restore()
        elif (run_dir / checkpoint.CHECKPOINTS_DIR).exists():
            raise ConfigError(f"{run_dir} already holds a run; resume it or choose another --out")
        self.reporters = run_reporters(run_dir, config, cluster.is_main, progress)
        if cluster.is_main:
            run_dir.mkdir(parents=True, exist_ok=True)
            write_run_config(run_dir, {**config.to_dict(),
                                       "distributed": distributed.run_record(config, cluster)})
        self.fit_x, self.val_x = validation_split(self.data.train_x, config.data.val_fraction,
                                                  config.data.split_seed)
        wrapped = distributed.for_training(self.model, cluster, device)  # DDP for several
        self.step_model = devices.compiled(wrapped, cfg)  # what the step calls
        self.batches = EpochBatches(self.fit_x, cluster, local_batch, cfg.seed,
                                    devices.pin(cfg, device), config.data.loader_workers)
        self.last_train_means: dict[str, float | None] = {}  # the last epoch's, by term

    def _restore(self) -> None:
        """Continue from the latest checkpoint: weights, optimizer, counters, best epoch."""
        sweep_staging(self.run_dir)
        latest = checkpoint.resolve_checkpoint_dir(self.run_dir)
        saved = checkpoint.load_checkpoint(latest, self.device)
        self.model.load_state_dict(saved.model.state_dict())
        optimizer_state = checkpoint.load_optimizer_state(latest)
        if optimizer_state is not None:
            self.optimizer.load_state_dict(optimizer_state)
        meta = saved.metadata
        self.epochs_done = meta["epoch"]
        self.global_step, self.train_seconds = meta.get("step", 0), meta.get("train_seconds", 0.0)
        best = checkpoint.best_checkpoint_dir(self.run_dir)
        best_meta = checkpoint.load_checkpoint(best).metadata if best is not None else {}
        if 0 < best_meta.get("epoch", 0) <= self.epochs_done:  # not saved after what we resume
            self.best_val = float(objective_of(best_meta["validation"]))
            self.best_epoch = int(best_meta["epoch"])

    def run(self) -> TrainResult:
        """Epochs until the last, a stop request, divergence or early stopping."""
        self.reporters.on_train_begin(self)
        try:
            with self._stop_on_signals():
                result = self._epochs()
        except Exception as error:
            failure = distributed.describe_failure(error, self.cluster)
            self.reporters.on_train_end(self, RunState.FAILED, failure)
            raise
        self.reporters.on_train_end(self, result.state, result.message)
        return result

    @contextlib.contextmanager
    def _stop_on_signals(self):
        previous = {}
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(ValueError):  # off the main thread they stay the caller's
                previous[sig] = signal.signal(sig, lambda *_: setattr(self, "stop_requested", True))
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _epochs(self) -> TrainResult:
        epochs, patience = self.config.train.epochs, self.config.train.patience
        for epoch in range(self.epochs_done + 1, epochs + 1):
            try:
                finished = self.train_epoch(epoch)
            except TrainingDiverged as error:
                kept = (f"kept epoch {self.epochs_done}'s checkpoint" if self.epochs_done
                        else "no epoch finished, so there is no checkpoint")
                return self._result(RunState.FAILED, f"diverged in epoch {epoch}: {error}; {kept}")
            if not finished:
                return self._result(RunState.CANCELLED, f"stopped during epoch {epoch}; kept "
                                                        f"epoch {self.epochs_done}")
            stalled = self.end_epoch(epoch, final=epoch == epochs)
            self.epochs_done = epoch
            if distributed.from_rank_0(stalled, self.cluster, self.device):
                return self._result(RunState.FINISHED, f"stopped early after epoch {epoch}: no "
                                    f"better validation -ELBO for {patience} epochs; best epoch "
                                    f"{self.best_epoch}")
            if epoch < epochs and self._stop_agreed():
                return self._result(RunState.CANCELLED, f"stopped after epoch {epoch}")
        return self._result(RunState.FINISHED, f"finished {self.epochs_done} epochs")

    def _result(self, state: RunState, message: str) -> TrainResult:
        return TrainResult(state, self.epochs_done, message, self.run_dir)

    def _stop_agreed(self) -> bool:  # when any process was asked to: all stop at one step
        return distributed.agree_to_stop(self.stop_requested, self.cluster, self.device)

    def train_epoch(self, epoch: int) -> bool:
        """One pass over the training set; False if stopped part-way."""
        cfg = self.config.train
        batches = self.batches.for_epoch(epoch)  # shuffled from (seed, epoch): batches.py
        noise = torch.Generator(device=self.device).manual_seed(
            cfg.seed * SHUFFLE_SEED_FACTOR + epoch + 7)
        n_steps = len(batches)
        self.reporters.on_epoch_begin(self, epoch, n_steps)
        self.step_model.train()
        started = time.perf_counter()
        totals = torch.zeros(N_TOTALS, device=self.device)
        for i, batch in enumerate(batches):
            # All processes agree every log_every steps (a sync); in between one may stop alone.
            if (self._stop_agreed() if self.global_step % cfg.log_every == 0
                    else self.stop_requested and not self.cluster.distributed):
                return False
            weight, tc_weight = penalty_weights(cfg, (epoch - 1) + i / n_steps)
            step_sums = self.step(batch, weight, noise, totals, tc_weight)
            self.global_step += 1
            if self.global_step % cfg.log_every == 0 or i == n_steps - 1:
                self._report_step(epoch, totals, step_sums, weight, i + 1, n_steps)
        self.train_seconds += time.perf_counter() - started
        totals = distributed.all_sum(totals, self.cluster)
        self.last_train_means = self._means(totals[1:].tolist(), self.fit_x.shape[0])
        return True

    def step(self, batch: torch.Tensor, weight: float, noise: torch.Generator | None,
             totals: torch.Tensor, tc_weight: float = 0.0) -> torch.Tensor:
        """One optimizer step; adds its sums to `totals` and returns them with the batch size,
        (N_TOTALS + 1,), all on the device: nothing here waits for the device."""
        cfg = self.config.train
        batch = self._prepare(batch, noise)
        with devices.autocast(cfg, self.device):
            terms = loss_terms(self.step_model, batch, weight, cfg.free_bits, noise, tc_weight)
            loss = terms.loss.mean()
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is None:
            loss.backward()
            self.optimizer.step()
        else:
            self.scaler.scale(loss).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
        with torch.no_grad():  # bookkeeping: keep it out of the autograd graph
            absent = terms.loss.new_zeros(())  # an autoencoder has no -ELBO or KL
            sums = torch.stack([terms.loss.sum(), *(absent if t is None else t.sum() for t in
                                                    (terms.neg_elbo, terms.kl, terms.recon))])
            sums = sums.float()
            totals += sums
            return torch.cat([sums, sums.new_tensor([batch.shape[0]])])

    def _prepare(self, batch: torch.Tensor, noise: torch.Generator | None) -> torch.Tensor:
        """Shift (optionally) and discretize on the device; under DDP drawn as for the global
        batch (distributed.as_in_global_batch), so N processes draw what one process draws."""
        def draw(x: torch.Tensor) -> torch.Tensor:
            x = random_shift(x, self.config.train.augment_shift, noise)
            return discretize(x, self.config.model.likelihood, noise)

        batch = devices.to_device(batch, self.device, self.config.train)
        return distributed.as_in_global_batch(draw, batch, self.cluster)

    def _report_step(self, epoch: int, totals: torch.Tensor, step_sums: torch.Tensor,
                     weight: float, done: int, n_steps: int) -> None:
        """Check the loss is finite and report the last step: a host sync, so not every step."""
        both = distributed.all_sum(torch.cat([totals, step_sums]), self.cluster).tolist()
        if not math.isfinite(both[0]):  # every process sees the same all-summed figure
            raise TrainingDiverged(f"loss is {both[0]} by step {self.global_step}")
        values = self._means(both[N_TOTALS + 1 : 2 * N_TOTALS], both[-1])
        self.reporters.on_step(self, epoch, done, n_steps, values, weight)

    def _means(self, sums: list[float], count: float) -> dict[str, float | None]:
        """Per-image means of the TERMS' sums, the nats offset on the likelihood terms (train
        figures in test ones' units); None for the terms a plain autoencoder lacks."""
        means = {k: v / count for k, v in zip(TERMS, sums, strict=True)}
        if not self.model.is_variational:
            means["neg_elbo"] = means["kl"] = None
        offset = offset_nats(self.config.model.likelihood, math.prod(self.config.model.image_shape))
        return {k: v if v is None or k == "kl" else v + offset for k, v in means.items()}

    def end_epoch(self, epoch: int, final: bool) -> bool:
        """Validate, evaluate on the test set, report the epoch, checkpoint it (and the best so
        far); rank 0 alone. Returns whether the run has stalled (patience used up)."""
        cfg = self.config.train
        self.model.eval()
        if not self.cluster.is_main:  # rank 0 evaluates and writes; the others go on
            return False
        validation = self.validate()
        improved = validation is not None and validation.objective < self.best_val
        if improved:
            self.best_val, self.best_epoch = validation.objective, epoch
        stalled = (validation is not None and cfg.patience > 0
                   and epoch - self.best_epoch >= cfg.patience)
        # log p(x) (k importance samples: the slow part) goes to the checkpoint export ships:
        # the best one, so a last epoch that is not the best skips it.
        best_elsewhere = (final or stalled) and not improved and self.best_epoch > 0
        iw = cfg.iw_samples if (final or stalled) and not best_elsewhere else 0
        test = evaluate_images(self.model, self.data.test_x, iw_samples=iw, seed=cfg.seed)
        train = {f"train_{k}": v for k, v in self.last_train_means.items()}
        self.reporters.on_epoch_end(self, {
            "kind": "epoch", "epoch": epoch, "step": self.global_step, **train,
            "val_neg_elbo": validation.neg_elbo if validation else None,
            "val_objective": validation.objective if validation else None,
            "test_neg_elbo": test.neg_elbo, "test_kl": test.kl, "test_recon": test.recon,
            "test_log_px": test.log_px, "best_epoch": self.best_epoch,
            "train_seconds": self.train_seconds, "time": time.time()})
        self.save_checkpoints(epoch, validation, test, improved, best_elsewhere)
        return stalled

    def validate(self):
        """Figures on the held-out validation images (an Evaluation), or None without them."""
        if self.val_x.shape[0] == 0:
            return None
        return evaluate_images(self.model, self.val_x, seed=self.config.train.seed)

    def save_checkpoints(self, epoch: int, validation, test, improved: bool,
                         best_elsewhere: bool) -> None:
        """Save the epoch (resumable: with the optimizer); save it as the best too, or give
        checkpoints/best the final test figures (with log p(x)) its own epoch lacked."""
        cfg = self.config.train
        save = {"data_config": self.config.data, "train_config": cfg}
        metadata = {"epoch": epoch, "step": self.global_step, "train_seconds": self.train_seconds,
                    "device": str(self.device), "test": test.as_dict(),
                    "validation": validation.as_dict() if validation else None,
                    "n_train": int(self.fit_x.shape[0]), "n_validation": int(self.val_x.shape[0]),
                    "posterior_mean_variance": model_posterior_mean_variance(
                        self.model, self.data.test_x)}
        checkpoint.save_run_checkpoint(self.run_dir, epoch, model=self.model, metadata=metadata,
                                       optimizer_state=self.optimizer.state_dict(), **save)
        if improved:
            checkpoint.save_best_checkpoint(self.run_dir, model=self.model, metadata=metadata,
                                            **save)
        elif best_elsewhere:
            best = checkpoint.load_checkpoint(checkpoint.best_checkpoint_dir(self.run_dir),
                                              self.device)
            final = evaluate_images(best.model.eval(), self.data.test_x,
                                    iw_samples=cfg.iw_samples, seed=cfg.seed)
            checkpoint.save_best_checkpoint(self.run_dir, model=best.model, **save,
                                            metadata={**best.metadata, "test": final.as_dict()})

