"""Protocol load test: N simulated visitors at human pace against one server, no browser.

    python benchmarks/protocol_load.py [--visitors 1,10,25,50,100] [--seconds 60]
        [--baseline-seconds 240] [--processes 1|2] [--timeout 1800]

Each visitor is a tools/streamlit_client.StreamlitSession (Streamlit's websocket protocol), so
the 2 cores serve the server, not Chromium. Per N, a fresh `streamlit run app.py` in shared mode
on 127.0.0.1 (runs in a temp folder), or with --processes 2 two of them behind haproxy
(deploy/serve.sh; CPU and RSS are their sums), warmed by one visitor per process through every
page; then N visitors open Explore (10 a second) and, once all are in, act for --seconds while
the server's CPU is read from /proc. A visitor does what Explore's page sends
(ui/frontend/latent_sliders.js): it fetches the decoder's weights file once (a new browser has
no copy) and reports that it decodes the model in the page, then repeats:
drag a slider (z is sent when the drag pauses 300 ms and on release), or step one with the arrow
keys (each press sent), or, one time in eight, read another page for a while and come back;
between actions it reads for 2-6 s. It waits for each answer before its next move (a closed
loop: a slower server gets fewer requests).
Answer: from the request to the end of the script run and its images fetched over HTTP.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks.server_probe import cpu_seconds, peak_rss_mb, rss_mb
from tools.browser import serve_app
from tools.streamlit_client import Answer, StreamlitSession
from tools.two_processes import serve_two_processes
from vae_core.decoder_export import read_envelope

SLIDERS = "explore_sliders_"  # the latent sliders' key, before its model version
OTHER_PAGES = ("Latent map", "Sampling", "Reconstruct")
OPENS_PER_SECOND = 10
READ_SECONDS = (2.0, 6.0)  # between actions
PAGE_READ_SECONDS = (3.0, 8.0)  # on another page
PAGE_SHARE = 1 / 8  # of actions
KEYS_SHARE = 1 / 3  # of the slider actions; the rest are drags
DRAG_SECONDS = (0.5, 2.5)
KEY_PRESSES = (1, 6)
KEY_GAP_SECONDS = (0.15, 0.5)


@dataclass
class Visitor:
    index: int
    rng: random.Random
    measuring: asyncio.Event
    answers: dict[str, list[Answer]] = field(default_factory=lambda: defaultdict(list))
    seq: int = 0
    has_weights: bool = False  # the decoder's weights file, kept by the page once fetched

    def note(self, kind: str, answer: Answer) -> None:
        if answer.errors:
            raise RuntimeError(f"visitor {self.index}: the page showed {answer.errors[0]!r}")
        if self.measuring.is_set():
            self.answers[kind].append(answer)


def _control(session: StreamlitSession) -> dict:
    control, _ = read_envelope(session.widget(SLIDERS).element.bidi_component.bytes)
    return control


async def _report_decoder(session: StreamlitSession, visitor: Visitor | None) -> None:
    """What the page does with the decoder the sliders name (page_decoder.js): fetch its weights
    file (a new visitor's browser has no copy), then report that it decodes this version."""
    control = _control(session)
    if control.get("in_page") or not control.get("version"):
        return
    weights = control["weights"]
    if visitor is None or not visitor.has_weights:
        await session.fetch(weights["url"])
        if visitor is not None:
            visitor.has_weights = True
    status = {"version": control["version"], "ok": True, "error": None, "load_ms": 40,
              "bytes": weights["bytes"]}
    await session.set_component_state(SLIDERS, "decoder", status)


async def _send_z(session: StreamlitSession, visitor: Visitor, values: list[float]) -> None:
    visitor.seq += 1
    moved = {"values": values, "seq": visitor.seq, "revision": _control(session)["revision"]}
    visitor.note("slider", await session.set_component_state(SLIDERS, "moved", moved))


def _moved(values: list[float], row: int, delta: float, limit: float) -> list[float]:
    values = list(values)
    values[row] = round(min(limit, max(-limit, values[row] + delta)) / 0.05) * 0.05
    return [round(v, 2) for v in values]


async def _drag(session: StreamlitSession, visitor: Visitor, values: list[float]) -> list[float]:
    """One drag: z is sent when it rests for the page's pause_ms (sometimes, halfway) and on
    release."""
    rng, control = visitor.rng, _control(session)
    row = rng.randrange(min(8, len(values)))  # the most used rows, at the top
    seconds = rng.uniform(*DRAG_SECONDS)
    if rng.random() < 0.4:
        await asyncio.sleep(seconds / 2)
        values = _moved(values, row, rng.uniform(-1, 1), control["limit"])
        await asyncio.sleep(control["pause_ms"] / 1000)
        await _send_z(session, visitor, values)
        seconds /= 2
    await asyncio.sleep(seconds)
    values = _moved(values, row, rng.uniform(-1, 1), control["limit"])
    await _send_z(session, visitor, values)
    return values


async def _keys(session: StreamlitSession, visitor: Visitor, values: list[float]) -> list[float]:
    """A focused slider stepped with the arrow keys: each press is sent."""
    rng, control = visitor.rng, _control(session)
    row, direction = rng.randrange(min(8, len(values))), rng.choice((-1, 1))
    for _ in range(rng.randint(*KEY_PRESSES)):
        await asyncio.sleep(rng.uniform(*KEY_GAP_SECONDS))
        values = _moved(values, row, direction * control["step"], control["limit"])
        await _send_z(session, visitor, values)
    return values


async def _other_page(session: StreamlitSession, visitor: Visitor) -> None:
    visitor.note("page", await session.switch_page(visitor.rng.choice(OTHER_PAGES)))
    await asyncio.sleep(visitor.rng.uniform(*PAGE_READ_SECONDS))
    visitor.note("page", await session.switch_page("Explore"))
    await _report_decoder(session, visitor)  # only if the sliders say the page does not decode


async def open_explore(url: str, visitor: Visitor | None = None) -> StreamlitSession:
    """A new tab on Explore, which then reports that it decodes in the page."""
    session = await StreamlitSession.open(url)
    if visitor is not None:
        visitor.note("open", session.first)
    try:
        session.widget(SLIDERS)
    except KeyError:
        errors = "; ".join(session.first.errors) or "no error shown"
        raise RuntimeError(f"Explore drew no latent sliders ({errors})") from None
    await _report_decoder(session, visitor)
    return session


async def visit(url: str, visitor: Visitor, stop: asyncio.Event, opened: asyncio.Event) -> None:
    session = await open_explore(url, visitor)
    opened.set()
    values = list(_control(session)["values"])
    try:
        while not stop.is_set():
            await asyncio.sleep(visitor.rng.uniform(*READ_SECONDS))
            if stop.is_set():
                break
            choice = visitor.rng.random()
            if choice < PAGE_SHARE:
                await _other_page(session, visitor)
                values = list(_control(session)["values"])
            elif choice < PAGE_SHARE + (1 - PAGE_SHARE) * KEYS_SHARE:
                values = await _keys(session, visitor, values)
            else:
                values = await _drag(session, visitor, values)
    finally:
        await session.close()


async def warm_up(url: str) -> None:
    """One visitor through every page the others use, so caches are filled before measuring."""
    session = await open_explore(url)
    for title in (*OTHER_PAGES, "Explore"):
        await session.switch_page(title)
    await session.close()


@dataclass
class Phase:
    visitors: list[Visitor]
    seconds: float
    server_cpu: float
    client_cpu: float
    rss: float
    peak_rss: float
    load: float  # the machine's, over the last minute of the phase: other work competes


async def measure(url: str, pids: list[int], count: int, seconds: float, seed: int) -> Phase:
    stop, measuring = asyncio.Event(), asyncio.Event()
    visitors = [Visitor(i, random.Random(seed * 100_003 + i), measuring) for i in range(count)]
    openings = []
    tasks = []
    for visitor in visitors:
        opened = asyncio.Event()
        openings.append(opened)
        tasks.append(asyncio.create_task(visit(url, visitor, stop, opened)))
        await asyncio.sleep(1 / OPENS_PER_SECOND)
    waiting = asyncio.gather(*(o.wait() for o in openings))
    done, _ = await asyncio.wait([waiting, *tasks], return_when=asyncio.FIRST_COMPLETED)
    for task in done - {waiting}:
        task.result()  # a visitor failed before all were in: its error
    await waiting
    measuring.set()
    server, client, started = _cpu(pids), time.process_time(), time.monotonic()
    await asyncio.sleep(seconds)
    phase = Phase(visitors, time.monotonic() - started, _cpu(pids) - server,
                  time.process_time() - client, sum(rss_mb(pid) for pid in pids),
                  sum(peak_rss_mb(pid) for pid in pids), os.getloadavg()[0])
    measuring.clear()
    stop.set()
    await asyncio.gather(*tasks)
    return phase


def _cpu(pids: list[int]) -> float:
    return sum(cpu_seconds(pid) for pid in pids)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _ms(values: list[float], share: float) -> str:
    return f"{1000 * percentile(values, share):.0f}" if values else "-"


def row(phase: Phase) -> tuple[str, float]:
    by_kind = defaultdict(list)
    for visitor in phase.visitors:
        for kind in ("slider", "page"):
            by_kind[kind] += [a.images_seconds for a in visitor.answers[kind]]
    answers = by_kind["slider"] + by_kind["page"]
    p95 = percentile(answers, 0.95)
    cells = [len(phase.visitors), len(answers), _ms(answers, 0.5), _ms(answers, 0.95),
             _ms(by_kind["slider"], 0.95), _ms(by_kind["page"], 0.95),
             f"{phase.server_cpu / phase.seconds:.2f}",
             f"{1000 * phase.server_cpu / max(len(answers), 1):.0f}",
             f"{phase.client_cpu / phase.seconds:.2f}", f"{phase.rss:.0f}",
             f"{phase.peak_rss:.0f}", f"{phase.load:.1f}"]
    return "| " + " | ".join(str(c) for c in cells) + " |", p95


HEADER = ("| visitors | answers | p50 ms | p95 ms | slider p95 ms | page p95 ms | server CPU s/s "
          "| server CPU ms per answer | client CPU s/s | server RSS MB | peak RSS MB "
          "| load average |\n|" + "---:|" * 12)


def _drain(stream) -> None:
    """Read the server's log so that a full pipe never blocks it."""
    for _ in iter(stream.readline, b""):
        pass


@contextlib.contextmanager
def served(processes: int, runs: Path) -> Iterator[tuple[str, list[int]]]:
    """(the URL visitors open, the server processes' pids): one `streamlit run`, or two behind
    haproxy (deploy/serve.sh)."""
    if processes == 2:
        with serve_two_processes(runs, runs.parent / f"{runs.name}.log") as two:
            yield two.proxy, two.server_pids()
        return
    with serve_app(runs) as app:
        threading.Thread(target=_drain, args=(app.process.stderr,), daemon=True).start()
        yield app.url, [app.process.pid]


async def one_count(count: int, args: argparse.Namespace, work: Path) -> tuple[str, float]:
    runs = work / f"runs-{count}"
    runs.mkdir()
    with served(args.processes, runs) as (url, pids):
        for _ in range(args.processes):  # new visitors go round the processes: one each
            await warm_up(url)
        seconds = args.baseline_seconds if count == args.visitors[0] else args.seconds
        phase = await measure(url, pids, count, seconds, args.seed)
    return row(phase)


async def run(args: argparse.Namespace) -> str:
    """Prints the table row by row; returns which counts held p95 <= 2x the first's."""
    print(HEADER, flush=True)
    baseline, holds = None, []
    with tempfile.TemporaryDirectory(prefix="latent-lab-protocol-") as work:
        for count in args.visitors:
            line, p95 = await one_count(count, args, Path(work))
            print(line, flush=True)
            baseline = p95 if baseline is None else baseline
            if p95 <= 2 * baseline:
                holds.append(count)
    return (f"p95 <= 2x the first row's ({1000 * baseline:.0f} ms) for {holds} visitors; "
            f"the largest: {max(holds)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", default="1,10,25,50,100",
                        help="visitor counts, comma-separated; the first is the baseline")
    parser.add_argument("--seconds", type=float, default=60, help="measured time per count")
    parser.add_argument("--baseline-seconds", type=float, default=240,
                        help="measured time for the first count (one visitor answers rarely)")
    parser.add_argument("--processes", type=int, choices=(1, 2), default=1,
                        help="2: two Streamlit processes behind haproxy (deploy/serve.sh)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=1800, help="give up after this (s)")
    args = parser.parse_args()
    args.visitors = [int(v) for v in args.visitors.split(",")]
    os.environ.update(LATENT_LAB_MODE="shared", STREAMLIT_SERVER_ADDRESS="127.0.0.1")
    print(f"server processes: {args.processes}; cores: {os.cpu_count()}; "
          f"load average: {os.getloadavg()[0]:.2f}; "
          f"{args.baseline_seconds:.0f} s for the first row, {args.seconds:.0f} s for the others")
    print(asyncio.run(asyncio.wait_for(run(args), args.timeout)))


if __name__ == "__main__":
    main()
