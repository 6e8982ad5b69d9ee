"""Explore's in-page decoder per shipped model, measured in Chromium, the server path beside it.

Per model: bytes sent to the page when it becomes active (decoder weights + the 2-D pad's
scatter); first load (a fresh browser, the server already warm: from opening Explore or picking
the model to the page drawing it; and of that the in-page parse + first decode); while a slider
is dragged (one input event per animation frame, as Chromium delivers a mouse drag): the decode
time (in the worker, or on the main thread), the main thread's draw time, the animation-frame
interval (a main thread busy past a frame lengthens it) and new images drawn per second; and, in
the same run, the server round trip every slider move cost before (ArrowRight -> the server's new
image loaded, as slider_latency.py measures it; with in-page decoding that image is the samples).

    python benchmarks/drag_benchmark.py [--seconds 3] [--n 20] [--main-thread] [--js]
                                        [--models mnist32 ...]

--main-thread decodes on the page's main thread (the fallback without a worker), --js with the
plain JavaScript kernel (the fallback without WebAssembly SIMD); both together are how the page
decoded before the worker.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks.slider_latency import measure
from tools.browser import PROJECT_DIR, launch_browser, open_page, serve_app
from tools.explorer import hook, pick_model, timed_sweep, wait_in_page

MODELS = ["mnist32", "mnist16-gaussian", "mnist2d", "shapes"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure_model(playwright, app, work: Path, name: str, args) -> str:
    context = launch_browser(playwright, work / f"profile-{name}")  # a fresh browser cache
    page = context.new_page()
    if args.main_thread:
        page.add_init_script("globalThis.latentLabDecodeOn = 'main-thread'")
    if args.js:
        page.add_init_script("globalThis.latentLabKernel = 'js'")
    started = time.monotonic()
    open_page(page, app, "Explore")
    if name != "mnist32":  # the default; the others are picked in the sidebar
        started = time.monotonic()
        pick_model(page, f"{name} (shipped)")
    wait_in_page(page)
    first_load = time.monotonic() - started
    status = hook(page, "status()")
    page.wait_for_timeout(500)
    frames_before = hook(page, "frames()")
    kept = hook(page, "times()")  # fewer than the page keeps (600): the drag's times follow them
    sweep = timed_sweep(page, 0, args.seconds)
    page.wait_for_timeout(300)  # the last image comes back
    drawn = hook(page, "frames()") - frames_before
    times = hook(page, "times()")
    decode_ms = times["decode"][len(kept["decode"]):]
    draw_ms = times["draw"][len(kept["draw"]):]
    page.wait_for_timeout(500)
    server = measure(page, args.n) if args.n else [math.nan]
    context.close()
    entry = status["entry"]
    return (f"| {name:<16} | {status['decodesOn']:<11} | {entry['bytes'] / 1e3:>7.0f} | "
            f"{first_load:>6.2f} | {entry['loadMs']:>8.0f} | {median_p95(decode_ms, 1)} | "
            f"{statistics.median(draw_ms):>5.1f} | {median_p95(sweep.frame_ms, 1)} | "
            f"{drawn / args.seconds:>6.1f} | {median_p95(server, 0)} |")


def median_p95(values: list[float], digits: int) -> str:
    """Two table cells: the median and the 95th percentile."""
    return f"{statistics.median(values):>6.{digits}f} | {percentile(values, 0.95):>6.{digits}f}"


def warm_up(playwright, app, work: Path, models: list[str]) -> None:
    """Each model once, so first loads measure the browser's side, not the server's cold start."""
    context = launch_browser(playwright, work / "profile-warm-up")
    page = context.new_page()
    open_page(page, app, "Explore")
    for name in [m for m in models if m != "mnist32"]:  # mnist32, the default, opened above
        pick_model(page, f"{name} (shipped)")
        wait_in_page(page)
    context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="drag time per model")
    parser.add_argument("--n", type=int, default=20,
                        help="server round trips per model (0: none)")
    parser.add_argument("--main-thread", action="store_true",
                        help="decode on the page's main thread, not in a worker")
    parser.add_argument("--js", action="store_true",
                        help="decode with the JavaScript kernel, not WebAssembly SIMD")
    parser.add_argument("--models", nargs="+", default=MODELS, choices=MODELS)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    rows = []
    with tempfile.TemporaryDirectory(prefix="latent-lab-drag-") as work, sync_playwright() as pw:
        (Path(work) / "runs").mkdir()
        with serve_app(Path(work) / "runs", assets=PROJECT_DIR / "assets") as app:
            warm_up(pw, app, Path(work), args.models)
            rows = [measure_model(pw, app, Path(work), name, args) for name in args.models]
    print(f"cores: {os.cpu_count()} (usable {len(os.sched_getaffinity(0))}); load average "
          "(1, 5, 15 min): {:.2f} {:.2f} {:.2f}; drag {} s per model, {} server steps".format(
              *os.getloadavg(), args.seconds, args.n))
    print("| model            | decodes on  | KB sent | load s | parse ms | decode median ms | "
          "decode p95 ms | draw median ms | frame interval median ms | frame interval p95 ms | "
          "images/s | server median ms | server p95 ms |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
