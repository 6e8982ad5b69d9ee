"""Slider latency on the Explore page, measured in the browser: the page's picture and the
server's catch-up after a key press, beside a bare one-slider page served in the same run.

For each slider step (ArrowRight on a focused slider; a capture listener stamps the keydown with
performance.now()):
- page: to the animation frame that shows the explorer's new image (the time its test hook
  stamped on that frame: the one that drew it, or for a key step drawn in the key's own task,
  the next), where the page decodes;
- server: to the server's answer on the page with every image in the main area loaded: on
  Explore, the sliders' data saying Python has read that move (it comes last in the rerun); on
  the bare page, its new image.
Python-side timing is not used.

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
from tools.explorer import EXPLORER, sweep_slider, wait_in_page

# Explore's latent sliders are range inputs in one component's open shadow root (Playwright's CSS
# selectors pierce it, and their keydown reaches the document); the bare page has one st.slider.
EXPLORE_SLIDERS = "[data-testid=stMain] .latent-sliders input[type=range]"
BARE_SLIDERS = "[data-testid=stMain] [data-testid=stSlider] input[type=range]"

# Installs the keydown stamp once, and window.__arm(), after which window.__result resolves to the
# ms from the next keydown to the server's answer: on Explore, the sliders' data saying Python has
# read the move (they come last in the rerun), the main area's images loaded; on the bare page,
# its new image loaded.
MEASURE_JS = """
() => {
  document.addEventListener('keydown', () => { window.__t0 = performance.now(); }, true);
  const images = () => [...document.querySelectorAll('[data-testid=stMain] img')];
  const loaded = () => Promise.all(images().filter((image) => !image.complete)
    .map((image) => new Promise((done) => {
      image.addEventListener('load', done, {once: true});
      image.addEventListener('error', done, {once: true});
    })));
  const explorer = (root = document) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.latentLab) return el;
      const inside = el.shadowRoot && explorer(el.shadowRoot);
      if (inside) return inside;
    }
    return null;
  };
  window.__arm = () => {
    const hook = explorer()?.latentLab;
    const sentBefore = hook?.heard().sent;
    const srcBefore = new Set(images().map((image) => image.src));
    window.__result = new Promise((resolve, reject) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        observer.disconnect();
        loaded().then(() => resolve(performance.now() - window.__t0));
      };
      const observer = new MutationObserver(() => {
        if (!hook && images().some((image) => !srcBefore.has(image.src))) finish();
      });
      observer.observe(document.querySelector('[data-testid=stMain]'), {subtree: true,
                       childList: true, attributes: true, attributeFilter: ['src']});
      const poll = () => {
        const heard = hook.heard();
        if (heard.sent > sentBefore && heard.seq === heard.sent) finish();
        else if (!done) setTimeout(poll, 2);
      };
      if (hook) poll();
      setTimeout(() => reject(new Error('no answer from the server within 10 s')), 10000);
    });
  };
}
"""

# window.__armPage(explorer): window.__pageResult resolves to the ms from the next keydown to the
# animation frame in which the explorer drew a new image (its own stamp, read once it has drawn).
PAGE_JS = """
() => {
  window.__armPage = (explorer) => {
    const before = explorer.latentLab.frames();
    window.__pageResult = new Promise((resolve) => {
      const check = () => {
        const hook = explorer.latentLab;
        if (hook.frames() > before) resolve(hook.drawnAt() - window.__t0);
        else requestAnimationFrame(check);
      };
      requestAnimationFrame(check);
    });
  };
}
"""


def drag_reruns(page, seconds: float = 2.0) -> tuple[int, int, int]:
    """(input events, messages to the server, reruns) of a `seconds` drag of the first slider,
    one input event per animation frame (tools/explorer.py sweep_slider), counted until 1 s
    after the release. A rerun is counted by the explorer's renders: a fast fragment run can
    start and end within one batch of DOM updates, unseen in the script-state attribute."""
    sent = [0]
    page.on("websocket", lambda ws: ws.on("framesent", lambda _: sent.__setitem__(0, sent[0] + 1)))
    page.reload()  # the listener sees the page's new websocket
    page.wait_for_selector("[data-testid=stSidebarNav]", timeout=60_000)
    wait_in_page(page)
    page.wait_for_timeout(1000)
    wait_for_idle(page)
    before, renders = sent[0], page.locator(EXPLORER).evaluate("el => el.latentLab.renders()")
    events = sweep_slider(page, 0, seconds, end=1.25)  # released away from where it started
    page.wait_for_timeout(1000)
    wait_for_idle(page)
    runs = page.locator(EXPLORER).evaluate("el => el.latentLab.renders()") - renders
    return events, sent[0] - before, runs


def measure_steps(page, n: int, selector: str = EXPLORE_SLIDERS, warmup: int = 3,
                  in_page: bool = False) -> tuple[list[float], list[float]]:
    """(server, page) latencies in ms of n slider steps, cycling over the sliders so no z
    repeats (no cache hit); page ones only with `in_page`."""
    sliders = page.locator(selector)
    # The first script run may still be loading the model when the page first looks idle.
    page.wait_for_selector(selector, state="attached", timeout=60_000)
    count = sliders.count()
    page.evaluate(MEASURE_JS)
    page.evaluate(PAGE_JS)
    server, drawn = [], []
    for step in range(warmup + n):
        slider = sliders.nth(step % count)
        slider.focus()
        page.evaluate("() => window.__arm()")
        if in_page:
            page.locator(EXPLORER).evaluate("(el) => window.__armPage(el)")
        page.keyboard.press("ArrowRight")
        latency = page.evaluate("() => window.__result")
        if step >= warmup:
            server.append(latency)
            if in_page:
                drawn.append(page.evaluate("() => window.__pageResult"))
        wait_for_idle(page)
    return server, drawn


def measure(page, n: int, selector: str = EXPLORE_SLIDERS, warmup: int = 3) -> list[float]:
    """The server's catch-up (ms) of n slider steps."""
    return measure_steps(page, n, selector, warmup)[0]


def summary(condition: str, latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (f"| {condition:<29} | {len(ordered):>3} | {statistics.median(ordered):>9.1f} | "
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
        row = summary("bare reference page, server", measure(page, n, BARE_SLIDERS))
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
        wait_in_page(page)
        rows += _explore_rows("idle", page, args.n)
        events, sent, reruns = drag_reruns(page)
        print(f"A 2 s drag: {events} input events, {sent} messages to the server, "
              f"{reruns} reruns")
        for threads in (1, 2) if args.with_training else ():
            training = start_training(work / f"train-{threads}", threads)
            try:
                rows += _explore_rows(f"training {threads} thr", page, args.n)
            finally:
                stop_process(training)
        context.close()
    return rows


def _explore_rows(condition: str, page, n: int) -> list[str]:
    server, drawn = measure_steps(page, n, in_page=True)
    return [summary(f"Explore {condition}, page", drawn),
            summary(f"Explore {condition}, server", server)]


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
    print("| condition                     |   n | median ms | p95 ms |    min |    max |")
    print("|-------------------------------|-----|-----------|--------|--------|--------|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
