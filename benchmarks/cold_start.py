"""Cold start: `streamlit run` to the first decoded image on the page, in Chromium.

For each of the app (Explore on the shipped default model) and the bare reference page
(benchmarks/bare_slider_app.py: imports torch, loads mnist32, shows one decoded image), alternately:
Chromium is already running; the clock starts just before `streamlit run` and stops when the
main area shows a decoded image (an <img> loaded, or a canvas the page decoder has drawn on).

    python benchmarks/cold_start.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from tools.browser import launch_browser, serve_app

PAGES = {"Explore (app.py)": "app.py", "bare page": "benchmarks/bare_slider_app.py"}
# An image decoded on the server (a loaded <img>) or in the page (a canvas with drawn frames).
FIRST_IMAGE_JS = """
() => {
  const main = document.querySelector('[data-testid=stMain]');
  if (!main) return false;
  if ([...main.querySelectorAll('img')].some(i => i.complete && i.naturalWidth > 0)) return true;
  const hosts = [main, ...[...main.querySelectorAll('*')].map(e => e.shadowRoot).filter(Boolean)];
  return hosts.some(h => [...h.querySelectorAll('*')].some(
    e => e.latentLab && e.latentLab.frames && e.latentLab.frames() > 0));
}
"""


def time_to_first_image(context, script: str, runs: Path) -> float:
    start = time.perf_counter()
    with serve_app(runs, script=script, timeout=120) as app:
        page = context.new_page()
        page.goto(app.url)
        page.wait_for_function(FIRST_IMAGE_JS, timeout=120_000, polling=20)
        elapsed = time.perf_counter() - start
        page.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    times: dict[str, list[float]] = {name: [] for name in PAGES}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        context = launch_browser(playwright, Path(tmp) / "profile")
        for _ in range(args.rounds):  # alternate, so both see the same machine
            for name, script in PAGES.items():
                times[name].append(time_to_first_image(context, script, Path(tmp) / "runs"))
        context.close()
    bare = statistics.median(times["bare page"])
    print("| page | rounds | median s | min s | vs bare page |")
    print("|---|---:|---:|---:|---:|")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {len(values)} | {median:.2f} | {min(values):.2f} | "
              f"{median / bare:.2f}x |")


if __name__ == "__main__":
    main()
