"""Load test: 8 browser sessions step Explore's sliders at once, against 1 session alone.

    python benchmarks/load_test.py [--sessions 8] [--steps 30] [--tiny] [--timeout 600]

Loopback only (the app is served on 127.0.0.1 by tools/browser.py), bounded in time
(--timeout). In one server run: first one session alone, then N sessions at once, each a Chromium
tab that focuses a latent slider (any `input[type=range]` in the main area: nothing else of the
slider element is relied on) and presses ArrowRight, cycling over the sliders so no z repeats.
Latency: from the keydown to the moment the first image in the main area that the server sent
for the new z (a new `<img>` src, e.g. the decoder samples) has loaded; measured in the page.
Also reported: the server's CPU seconds during each phase (/proc/<pid>/stat) and its peak RSS.
Isolation: half the sessions pick another model first; at the end each session must still show
its own model's number of sliders, and its last image must equal the image a fresh session gets
after the same key presses (the media URL names the image's bytes): no session sees another's z
or model choice. (Uploads are per session: tests/app/test_session_uploads.py.)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks.server_probe import cpu_seconds, machine_cpu_seconds, peak_rss_mb
from benchmarks.slider_latency import MEASURE_JS, tiny_assets
from tools.browser import PAGE_PATHS, launch_browser, serve_app

SLIDERS = "[data-testid=stMain] input[type=range]"
WARMUP = 2  # steps per session not counted in the latencies (the server's CPU counts them)
IDLE = ("[data-testid=stApp][data-test-connection-state=CONNECTED]"
        "[data-test-script-state=notRunning]")
OTHER_MODEL = "mnist2d (shipped)"  # latent 2: not the default's size, so its sliders show it
LAST_IMAGE_JS = """
() => { const srcs = [...document.querySelectorAll('[data-testid=stMain] img')].map(i => i.src);
        return srcs.join(' '); }
"""


@dataclass
class Session:
    index: int
    model: str | None  # None: the default model
    latencies: list[float] = field(default_factory=list)
    sliders: int = 0
    images: str = ""


async def _idle(page) -> None:
    await page.wait_for_selector(IDLE, timeout=60_000)


async def _settled(page) -> None:
    """Idle, with the same number of sliders twice in a row (a model switch redraws them)."""
    counts = [-1]
    while True:
        await _idle(page)
        counts.append(await page.locator(SLIDERS).count())
        if counts[-1] == counts[-2] and counts[-1] > 0:
            return
        await page.wait_for_timeout(300)


async def _open(context, url: str, model: str | None):
    page = await context.new_page()
    await page.goto(url)
    await page.wait_for_selector("[data-testid=stSidebarNav]", timeout=60_000)
    await _idle(page)
    await page.wait_for_selector(SLIDERS, state="attached", timeout=60_000)
    if model is not None:  # the sidebar's model picker (an st.selectbox); another latent size
        before = await page.locator(SLIDERS).count()
        await page.get_by_role("combobox", name="Model").click()
        await page.get_by_role("option", name=model).click()
        deadline = time.monotonic() + 60
        while await page.locator(SLIDERS).count() == before:  # (in a shadow root: poll here)
            if time.monotonic() > deadline:
                raise TimeoutError(f"the sliders did not change after choosing {model}")
            await page.wait_for_timeout(100)
    await page.wait_for_selector(SLIDERS, state="attached", timeout=60_000)
    await _settled(page)
    await page.evaluate(MEASURE_JS)
    return page


async def _step(page, position: int) -> float:
    sliders = page.locator(SLIDERS)
    await sliders.nth(position % await sliders.count()).focus()
    await page.evaluate("() => window.__arm()")
    await page.keyboard.press("ArrowRight")
    latency = await page.evaluate("() => window.__result")
    await _idle(page)
    return latency


async def _drive(page, session: Session, steps: int, warmup: int = WARMUP) -> None:
    """Step the sliders (the first `warmup` steps are not counted), then note what it shows."""
    for step in range(warmup + steps):
        latency = await _step(page, step + session.index)
        if step >= warmup:
            session.latencies.append(latency)
    session.sliders = await page.locator(SLIDERS).count()
    session.images = await page.evaluate(LAST_IMAGE_JS)
    await page.close()


async def _replay(context, url: str, session: Session, steps: int) -> bool:
    """A fresh session presses the same keys alone; True when it ends on the same images."""
    alone = Session(session.index, session.model)
    await _drive(await _open(context, url, alone.model), alone, steps)
    return (alone.sliders, alone.images) == (session.sliders, session.images)


def _stats(latencies: list[float]) -> tuple[float, float]:
    ordered = sorted(latencies)
    return statistics.median(ordered), ordered[min(len(ordered) - 1,
                                                   round(0.95 * (len(ordered) - 1)))]


@dataclass
class Phase:
    server_cpu: float  # seconds of CPU the server used
    machine_busy: float  # fraction of all cores busy (every process: browsers, server, others)
    wall: float


async def _phase(context, url, sessions: list[Session], steps: int, pid: int,
                 profile: Path | None = None) -> Phase:
    """Open the sessions, then drive them at once; returns what the server and the machine
    spent while they stepped (opening not counted). With `profile`, py-spy samples the server
    meanwhile (collapsed stacks, for flame graphs)."""
    pages = await asyncio.gather(*(_open(context, url, s.model) for s in sessions))
    spy = None
    if profile is not None:
        command = [str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(pid),
                   "--rate", "200", "--format", "raw", "--output", str(profile), "--nonblocking"]
        spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    before, (busy, total), started = cpu_seconds(pid), machine_cpu_seconds(), time.monotonic()
    await asyncio.gather(*(_drive(p, s, steps) for p, s in zip(pages, sessions, strict=True)))
    busy_after, total_after = machine_cpu_seconds()
    phase = Phase(cpu_seconds(pid) - before, (busy_after - busy) / max(total_after - total, 1e-9),
                  time.monotonic() - started)
    if spy is not None:
        spy.send_signal(signal.SIGINT)  # py-spy writes its output when interrupted
        spy.wait(timeout=30)
    return phase


async def run(args: argparse.Namespace, work: Path, assets: Path | None) -> list[str]:
    from playwright.async_api import async_playwright

    with serve_app(work / "runs", assets=assets) as app:
        pid, url = app.process.pid, f"{app.url}/{PAGE_PATHS['Explore']}"
        async with async_playwright() as playwright:
            context = await launch_browser(playwright, work / "profile")
            await _phase(context, url, [Session(99, None)], 3, pid)  # warm-up: load, decode
            alone = [Session(0, None)]
            one = await _phase(context, url, alone, args.steps, pid)
            crowd = [Session(i, OTHER_MODEL if i % 2 else None) for i in range(args.sessions)]
            many = await _phase(context, url, crowd, args.steps, pid, args.profile)
            same = [await _replay(context, url, s, args.steps) for s in crowd]
            await context.close()
        peak = peak_rss_mb(pid)
    return _table([(alone, one), (crowd, many)], same, peak)


def _row(sessions: list[Session], phase: Phase) -> tuple[str, tuple[float, float]]:
    latencies = [latency for s in sessions for latency in s.latencies]
    p50, p95 = _stats(latencies)
    return (f"| {len(sessions)} | {len(latencies)} | {p50:.1f} | {p95:.1f} | "
            f"{phase.server_cpu:.1f} | "
            f"{1000 * phase.server_cpu / (len(latencies) + WARMUP * len(sessions)):.1f} | "
            f"{100 * phase.server_cpu / phase.wall:.0f}% | {100 * phase.machine_busy:.0f}% |",
            (p50, p95))


def _table(phases, same: list[bool], peak: float) -> list[str]:
    (one_row, one), (many_row, many) = (_row(*phase) for phase in phases)
    crowd = phases[1][0]
    rows = [
        "| sessions at once | steps | p50 ms | p95 ms | server CPU s | server CPU ms per step "
        "| server busy (of one core) | machine busy (all cores) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        one_row, many_row, "",
        f"ratio {len(crowd)} vs 1: p50 {many[0] / one[0]:.2f}x, p95 {many[1] / one[1]:.2f}x; "
        f"server peak RSS {peak:.0f} MB",
        f"isolation: {sum(same)}/{len(same)} sessions ended on their own model and z "
        f"(slider counts {[s.sliders for s in crowd]})",
    ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--steps", type=int, default=30, help="measured steps per session")
    parser.add_argument("--tiny", action="store_true", help="tiny untrained models, not assets/")
    parser.add_argument("--timeout", type=float, default=600, help="give up after this (s)")
    parser.add_argument("--profile", type=Path, help="py-spy the server during the load into "
                        "this file (collapsed stacks; needs `pip install py-spy`)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="latent-lab-load-") as work:
        (Path(work) / "runs").mkdir()
        assets = tiny_assets(Path(work) / "assets") if args.tiny else None
        rows = asyncio.run(asyncio.wait_for(run(args, Path(work), assets), args.timeout))
    print(f"model: {'tiny' if args.tiny else 'assets/mnist32, half the sessions mnist2d'}; "
          f"cores: {os.cpu_count()}; load average: {os.getloadavg()[0]:.2f}")
    print("\n".join(rows))
    if not rows[-1].startswith(f"isolation: {args.sessions}/{args.sessions}"):
        sys.exit("a session did not end on its own model and z")


if __name__ == "__main__":
    main()
