"""Slider latency on the Explore page, measured in the browser.

For each slider step: from the ArrowRight keydown (a capture listener stamps performance.now()) to
the moment the new image is loaded (a MutationObserver sees a new <img> src, then waits for its
`load` event / `complete`). Python-side timing is not used.

    python benchmarks/slider_latency.py [--n 40] [--tiny] [--with-training]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from tools.browser import (
    PROJECT_DIR,
    launch_browser,
    open_page,
    serve_app,
    stop_process,
    wait_for_idle,
)

# Explore's latent sliders are range inputs in one component's open shadow root (Playwright's CSS
# selectors pierce it, and their keydown reaches the document); the bare page has one st.slider.
EXPLORE_SLIDERS = "[data-testid=stMain] .latent-sliders input[type=range]"
BARE_SLIDERS = "[data-testid=stMain] [data-testid=stSlider] input[type=range]"

# Installs the keydown stamp once, and window.__arm() which resolves to the latency in ms of the
# next image change anywhere in the main area.
MEASURE_JS = """
() => {
  document.addEventListener('keydown', () => { window.__t0 = performance.now(); }, true);
  window.__arm = () => {
    const images = () => [...document.querySelectorAll('[data-testid=stMain] img')];
    const before = new Set(images().map(i => i.src));
    window.__result = new Promise((resolve, reject) => {
      let fired = false;
      const check = () => {
        const fresh = images().find(i => !before.has(i.src));
        if (!fresh || fired) return;
        fired = true;
        observer.disconnect();
        const finish = () => resolve(performance.now() - window.__t0);
        if (fresh.complete && fresh.naturalWidth > 0) finish();
        else fresh.addEventListener('load', finish, {once: true});
      };
      const observer = new MutationObserver(check);
      observer.observe(document.querySelector('[data-testid=stMain]'),
                       {subtree: true, childList: true, attributes: true,
                        attributeFilter: ['src']});
      setTimeout(() => reject(new Error('no new image within 10 s')), 10000);
    });
  };
}
"""


def measure(page, n: int, selector: str = EXPLORE_SLIDERS, warmup: int = 3) -> list[float]:
    """Latencies (ms) of n slider steps, cycling over the sliders so no z repeats (no cache hit)."""
    sliders = page.locator(selector)
    # The first script run may still be loading the model when the page first looks idle.
    page.wait_for_selector(selector, state="attached", timeout=60_000)
    count = sliders.count()
    page.evaluate(MEASURE_JS)
    latencies = []
    for step in range(warmup + n):
        slider = sliders.nth(step % count)
        slider.focus()
        page.evaluate("() => window.__arm()")
        page.keyboard.press("ArrowRight")
        latency = page.evaluate("() => window.__result")
        if step >= warmup:
            latencies.append(latency)
        wait_for_idle(page)
    return latencies


def summary(condition: str, latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (f"| {condition:<24} | {len(ordered):>3} | {statistics.median(ordered):>9.1f} | "
            f"{p95:>6.1f} | {ordered[0]:>6.1f} | {ordered[-1]:>6.1f} |")


def start_training(out: Path, threads: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "vae_core", "train", "--dataset", "mnist5k", "--arch", "conv",
               "--epochs", "100", "--out", str(out), "--threads", str(threads), "--quiet"]
    process = subprocess.Popen(command, cwd=PROJECT_DIR, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (out / "metrics.jsonl").exists():  # the first logged step: it is really training
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the background training run did not start")
        time.sleep(0.5)
    return process


def tiny_assets(root: Path) -> Path:
    from tools.tiny_models import TINY_MODELS, make_tiny_checkpoint

    for name in TINY_MODELS:
        make_tiny_checkpoint(root / name, name)
    return root


def measure_bare_reference(playwright, work: Path, n: int) -> str:
    """The same measurement on benchmarks/bare_slider_app.py: one slider, a cached decoder."""
    with serve_app(work / "runs", script="benchmarks/bare_slider_app.py") as app:
        context = launch_browser(playwright, work / "profile-bare")
        page = context.new_page()
        page.goto(app.url)
        row = summary("bare reference page", measure(page, n, BARE_SLIDERS))
        context.close()
    return row


def run(args: argparse.Namespace, work: Path) -> list[str]:
    from playwright.sync_api import sync_playwright

    assets = tiny_assets(work / "assets") if args.tiny else None
    rows = []
    with sync_playwright() as playwright:
        if not args.tiny:
            rows.append(measure_bare_reference(playwright, work, args.n))
        rows += measure_app(args, work, assets, playwright)
    return rows


def measure_app(args: argparse.Namespace, work: Path, assets: Path | None, playwright) -> list:
    rows = []
    with serve_app(work / "runs", assets=assets) as app:
        context = launch_browser(playwright, work / "profile")
        page = context.new_page()
        open_page(page, app, "Explore")
        rows.append(summary("Explore, idle", measure(page, args.n)))
        for threads in (1, 2) if args.with_training else ():
            training = start_training(work / f"train-{threads}", threads)
            try:
                rows.append(summary(f"Explore, training {threads} thr", measure(page, args.n)))
            finally:
                stop_process(training)
        context.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40, help="slider steps per condition")
    parser.add_argument("--tiny", action="store_true", help="tiny untrained models, not assets/")
    parser.add_argument("--with-training", action="store_true",
                        help="also measure while a training run (1, then 2 threads) is busy")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="latent-lab-latency-") as work:
        (Path(work) / "runs").mkdir()
        rows = run(args, Path(work))
    print(f"model: {'tiny (tests/conftest.py)' if args.tiny else 'assets/mnist32 (shipped)'}; "
          f"cores: {os.cpu_count()} (usable {len(os.sched_getaffinity(0))}); "
          "load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print("| condition                |   n | median ms | p95 ms |    min |    max |")
    print("|--------------------------|-----|-----------|--------|--------|--------|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
