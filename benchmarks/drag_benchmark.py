"""Explore's in-page decoder per shipped model, measured in Chromium, the server path beside it.

Per model: bytes sent to the page when it becomes active (decoder weights + the 2-D pad's
scatter); first load (a fresh browser, the server already warm: from opening Explore or picking
the model to the page drawing it; and of that the in-page parse + first decode); frame time while
a slider is dragged (decode + draw, timed in the page); images drawn per second of drag (one input
event per animation frame, as Chromium delivers a mouse drag); and, in the same run, the server
round trip every slider move cost before (ArrowRight -> the server's new image loaded, as
slider_latency.py measures it; with in-page decoding that image is the samples).

    python benchmarks/drag_benchmark.py [--seconds 3] [--n 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks.slider_latency import measure
from tools.browser import PROJECT_DIR, launch_browser, open_page, serve_app
from tools.explorer import hook, pick_model, sweep_slider, wait_in_page

MODELS = ["mnist32", "mnist16-gaussian", "mnist2d", "shapes"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure_model(playwright, app, work: Path, name: str, args) -> str:
    context = launch_browser(playwright, work / f"profile-{name}")  # a fresh browser cache
    page = context.new_page()
    started = time.monotonic()
    open_page(page, app, "Explore")
    if name != "mnist32":  # the default; the others are picked in the sidebar
        started = time.monotonic()
        pick_model(page, f"{name} (shipped)")
    wait_in_page(page)
    first_load = time.monotonic() - started
    status = hook(page, "status()")["entry"]
    page.wait_for_timeout(500)
    frames_before, times_before = hook(page, "frames()"), len(hook(page, "frameTimes()"))
    sweep_slider(page, 0, args.seconds)
    drawn = hook(page, "frames()") - frames_before
    times = hook(page, "frameTimes()")[times_before:]
    page.wait_for_timeout(500)
    server = measure(page, args.n)
    context.close()
    return (f"| {name:<16} | {status['bytes'] / 1e3:>8.0f} | {first_load:>6.2f} | "
            f"{status['loadMs']:>6.0f} | {statistics.median(times):>6.1f} | "
            f"{percentile(times, 0.95):>6.1f} | {drawn / args.seconds:>6.1f} | "
            f"{statistics.median(server):>6.0f} | {percentile(server, 0.95):>6.0f} |")


def warm_up(playwright, app, work: Path) -> None:
    """Each model once, so first loads measure the browser's side, not the server's cold start."""
    context = launch_browser(playwright, work / "profile-warm-up")
    page = context.new_page()
    open_page(page, app, "Explore")
    for name in MODELS[1:]:
        pick_model(page, f"{name} (shipped)")
        wait_in_page(page)
    context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="drag time per model")
    parser.add_argument("--n", type=int, default=20, help="server round trips per model")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    rows = []
    with tempfile.TemporaryDirectory(prefix="latent-lab-drag-") as work, sync_playwright() as pw:
        (Path(work) / "runs").mkdir()
        with serve_app(Path(work) / "runs", assets=PROJECT_DIR / "assets") as app:
            warm_up(pw, app, Path(work))
            rows = [measure_model(pw, app, Path(work), name, args) for name in MODELS]
    print(f"cores: {os.cpu_count()} (usable {len(os.sched_getaffinity(0))}); load average "
          "(1, 5, 15 min): {:.2f} {:.2f} {:.2f}; drag {} s per model, {} server steps".format(
              *os.getloadavg(), args.seconds, args.n))
    print("| model            | KB sent  | load s | parse ms | frame median ms | frame p95 ms | "
          "images/s | server median ms | server p95 ms |")
    print("|------------------|----------|--------|----------|--------|--------|--------|--------|"
          "--------|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
