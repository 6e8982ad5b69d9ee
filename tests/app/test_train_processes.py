"""The Train page offers N local processes (torchrun + DDP) only when more than one GPU is
present. No GPU here: the GPU count is monkeypatched, and the 2-process run it starts trains on
the CPU with Gloo, through the same launcher as on a GPU box."""

from __future__ import annotations

import json

from tests.app.conftest import submit_train_form, train_page
from tests.conftest import wait_until
from vae_core import devices
from vae_core.runs import run_info


def _processes_inputs(at):
    return [w for w in at.number_input if w.key == "train_processes"]


def test_one_gpu_or_none_offers_no_processes_field(runs, monkeypatch):
    for count in (0, 1):
        monkeypatch.setattr(devices, "gpu_count", lambda count=count: count)
        assert _processes_inputs(train_page()) == []


def test_two_gpus_offer_two_processes_and_the_run_trains_on_both(runs, monkeypatch):
    monkeypatch.setattr(devices, "gpu_count", lambda: 2)
    at = train_page()
    (field,) = _processes_inputs(at)
    assert field.max == 2 and field.value == 1 and "one per GPU" in field.label
    at = submit_train_form(at, train_name="pair", train_processes=2)
    assert not at.exception and not at.error
    wait_until(lambda: run_info(runs / "pair").state == "finished", timeout=120)
    record = json.loads((runs / "pair" / "run.json").read_text())["distributed"]
    assert record["world_size"] == 2 and record["global_batch_size"] == 32
