"""The server's memory over many browser sessions opened and closed: it must stay flat.

    python benchmarks/session_memory.py [--sessions 50] [--tiny]

Each session is a fresh Chromium tab on Explore that steps a latent slider a few times (so the
page's fragment reruns, as a person's would) and is then closed. Streamlit keeps a closed
session for a reconnect for `server.disconnectedSessionTTL` (120 s by default); the served app
gets a TTL of TTL_SECONDS here so that closed sessions end within the run. The table gives the
server's RSS after the warm-up sessions, every 10 sessions, and once the last ones have ended.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks.server_probe import peak_rss_mb, rss_mb
from benchmarks.slider_latency import EXPLORE_SLIDERS, tiny_assets
from tools.browser import launch_browser, open_page, serve_app, wait_for_idle

TTL_SECONDS = 3
WARMUP = 3
STEPS = 3


def one_session(context, app) -> None:
    page = context.new_page()
    open_page(page, app, "Explore")
    slider = page.locator(EXPLORE_SLIDERS).first
    slider.wait_for(state="attached", timeout=60_000)
    for _ in range(STEPS):
        slider.focus()
        page.keyboard.press("ArrowRight")
        wait_for_idle(page)
    page.close()


def settle(context, app) -> None:
    """Let the closed sessions outlive their TTL, then one more session makes the server drop
    them (it expires stored sessions when it stores the next one)."""
    time.sleep(TTL_SECONDS + 2)
    one_session(context, app)
    time.sleep(TTL_SECONDS + 2)
    one_session(context, app)
    time.sleep(2)


def run(sessions: int, work: Path, assets: Path | None) -> list[tuple[str, float]]:
    from playwright.sync_api import sync_playwright

    os.environ["STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL"] = str(TTL_SECONDS)
    rows = []
    with serve_app(work / "runs", assets=assets) as app, sync_playwright() as playwright:
        pid = app.process.pid
        context = launch_browser(playwright, work / "profile")
        for _ in range(WARMUP):
            one_session(context, app)
        settle(context, app)
        rows.append(("after warm-up", rss_mb(pid)))
        for n in range(1, sessions + 1):
            one_session(context, app)
            if n % 10 == 0:
                rows.append((f"{n} sessions opened and closed", rss_mb(pid)))
        settle(context, app)
        rows.append((f"{sessions} sessions, all ended", rss_mb(pid)))
        rows.append(("peak (VmHWM)", peak_rss_mb(pid)))
        context.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--tiny", action="store_true", help="tiny untrained models, not assets/")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="latent-lab-memory-") as work:
        (Path(work) / "runs").mkdir()
        assets = tiny_assets(Path(work) / "assets") if args.tiny else None
        started = time.monotonic()
        rows = run(args.sessions, Path(work), assets)
    # The reference is the 10th session: the allocator gives back the warm-up's first-decode
    # memory over the first sessions, so earlier rows would hide growth.
    base = rows[1][1]
    print(f"model: {'tiny' if args.tiny else 'assets/mnist32'}; {args.sessions} sessions, "
          f"{STEPS} slider steps each; {time.monotonic() - started:.0f} s")
    print("| moment                            | server RSS MB | vs 10 sessions MB |")
    print("|-----------------------------------|---------------|-------------------|")
    for label, value in rows:
        print(f"| {label:<33} | {value:>13.1f} | {value - base:>+17.1f} |")
    growth = rows[-2][1] - base
    print(f"growth after the 10th session: {growth:+.1f} MB, "
          f"{1024 * growth / (args.sessions - 10):+.0f} kB per session")


if __name__ == "__main__":
    main()
