"""A checkpoint writer killed at random moments always leaves a complete `latest` behind.

A real process saves run checkpoints in a loop (as the trainer does at each epoch's end, with
optimizer state) and is SIGKILLed at a random moment, 20 times, each writer continuing the run
the previous one left. After every kill `latest` must load, and every tensor must hold the
value its epoch wrote: a checkpoint mixed from two epochs, or half written, fails the test.
Writers are forked from the test process, which has imported torch already: a trial takes
well under a second instead of a fresh interpreter's 3-9 s (or a forkserver child's 2-4 s).
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from pathlib import Path

import torch

from vae_core.checkpoint import (
    load_checkpoint,
    load_optimizer_state,
    resolve_checkpoint_dir,
    save_run_checkpoint,
)
from vae_core.config import DataConfig, ModelConfig
from vae_core.models import VAE

TRIALS = 20
MAX_DELAY = 0.4  # seconds after the writer's first save; one save takes ~10-50 ms here
MODEL = ModelConfig(image_shape=(1, 28, 28), arch="mlp", hidden=(256,), latent_dim=8)


def _write_forever(run: Path, ready) -> None:
    """The writer: continue the run from `latest`, saving epoch after epoch until killed.

    Every parameter and optimizer tensor of epoch e holds the value e, so a loaded checkpoint
    shows at once whether all of it comes from one complete save.
    """
    torch.set_num_threads(1)  # a forked child must not use the parent's thread pool
    model = VAE(MODEL)
    optimizer = torch.optim.Adam(model.parameters())
    for parameter in model.parameters():  # Adam's state after a step, set without stepping
        optimizer.state[parameter] = {
            "step": torch.tensor(0.0), "exp_avg": torch.zeros_like(parameter),
            "exp_avg_sq": torch.zeros_like(parameter)}
    epoch = load_checkpoint(run).metadata["epoch"] if (run / "checkpoints").exists() else 0
    first = True
    while True:
        epoch += 1
        with torch.no_grad():
            for tensor in [*model.parameters(),
                           *(v for s in optimizer.state.values() for v in s.values())]:
                tensor.fill_(epoch)
        save_run_checkpoint(run, epoch, model=model, data_config=DataConfig(),
                            metadata={"epoch": epoch}, optimizer_state=optimizer.state_dict())
        if first:
            ready.send(epoch)  # a save of this writer is on disk: the kill clock starts
            first = False


def _check_complete(run: Path) -> int:
    """Load `latest` (model and optimizer); every tensor must hold its epoch. Returns it."""
    checkpoint = load_checkpoint(run)
    epoch = checkpoint.metadata["epoch"]
    assert checkpoint.path.name == f"epoch-{epoch:04d}"
    for name, tensor in checkpoint.model.state_dict().items():
        assert torch.all(tensor == epoch), f"{name} is not all {epoch}"
    optimizer = load_optimizer_state(resolve_checkpoint_dir(run))
    moments = [v for state in optimizer["state"].values() for v in state.values()
               if torch.is_tensor(v) and v.dim() > 0]
    assert moments and all(torch.all(v == epoch) for v in moments)
    return epoch


def _leftovers(run: Path) -> set[str]:
    """Temporary directories and files a killed save left behind."""
    return {p.name for p in (run / "checkpoints").glob(".*.tmp-*")}


def test_latest_loads_complete_after_a_kill_at_any_moment(tmp_path):
    context = multiprocessing.get_context("fork")
    torch.optim.Adam(VAE(MODEL).parameters())  # ~2 s of lazy imports, here once, not per fork
    run, rng = tmp_path / "run", random.Random(8)
    last_epoch, interrupted, left = 0, 0, set()
    for trial in range(TRIALS):
        receive, send = context.Pipe(duplex=False)
        writer = context.Process(target=_write_forever, args=(run, send), daemon=True)
        writer.start()
        try:
            assert receive.poll(120), f"trial {trial}: the writer never saved"
            assert receive.recv() == last_epoch + 1, f"trial {trial}: did not resume from latest"
            time.sleep(rng.uniform(0, MAX_DELAY))  # the random moment of the kill
            os.kill(writer.pid, signal.SIGKILL)
        finally:
            writer.kill()
            writer.join()
            receive.close()
        interrupted += bool(_leftovers(run) - left)
        left = _leftovers(run)
        epoch = _check_complete(run)
        assert epoch >= last_epoch, f"trial {trial}: latest went back from {last_epoch}"
        last_epoch = epoch
    assert last_epoch > TRIALS  # the writers saved more than their first checkpoint
    assert interrupted > 0  # some kills landed in the middle of a save
