"""The server's memory per browser session: sessions open at once, and opened and closed.

    python benchmarks/session_memory.py [--sessions 50] [--at-once] [--browserless] [--tiny]

Each session is a fresh Chromium tab on Explore that waits until the page decodes the model and
steps a latent slider a few times (so the page's fragment reruns, as a person's would).
Opened and closed (the default): each tab is closed before the next opens; Streamlit keeps a
closed session for a reconnect for `server.disconnectedSessionTTL` (120 s by default); the
served app gets a TTL of TTL_SECONDS here so that closed sessions end within the run. The table
gives the server's RSS after the warm-up sessions, every 10 sessions, and once the last ones
have ended. `--at-once`: the tabs stay open; the table gives the RSS every 10 open sessions,
the growth per open session from the 10th to the last, then the RSS once all have ended.
`--browserless`: the sessions are tools/streamlit_client.py visitors instead of tabs (see
`Visitors`): many sessions cost the 2 cores little, but no page fetches the weights or decodes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks.protocol_load import SLIDERS, open_explore
from benchmarks.server_probe import peak_rss_mb, rss_mb
from benchmarks.slider_latency import EXPLORE_SLIDERS, tiny_assets
from tools.browser import launch_browser, open_page, serve_app, wait_for_idle
from tools.explorer import wait_in_page
from vae_core.decoder_export import read_envelope

TTL_SECONDS = 3
WARMUP = 3
STEPS = 3


class Tabs:
    """Chromium tabs: the page's own JavaScript fetches the weights and decodes."""

    def __init__(self, playwright, app, profile: Path):
        self.context = launch_browser(playwright, profile)
        self.app = app

    def open(self):
        """A tab on Explore that decodes in the page and has stepped a slider STEPS times."""
        page = self.context.new_page()
        open_page(page, self.app, "Explore")
        wait_in_page(page)
        slider = page.locator(EXPLORE_SLIDERS).first
        for _ in range(STEPS):
            slider.focus()
            page.keyboard.press("ArrowRight")
            wait_for_idle(page)
        return page

    def close(self, page) -> None:
        page.close()

    def wait(self, seconds: float) -> None:
        time.sleep(seconds)

    def stop(self) -> None:
        self.context.close()


class Visitors:
    """Browserless visitors (tools/streamlit_client.py): each reports that it decodes in the
    page, as the page's JavaScript does once it has the weights, and sends STEPS slider moves."""

    def __init__(self, app):
        self.loop = asyncio.new_event_loop()
        self.url = app.url

    def open(self):
        return self.loop.run_until_complete(self._open())

    async def _open(self):
        session = await open_explore(self.url)
        control, _ = read_envelope(session.widget(SLIDERS).element.bidi_component.bytes)
        values = list(control["values"])
        for seq in range(1, STEPS + 1):
            values[0] = round(values[0] + control["step"], 2)
            await session.set_component_state(
                SLIDERS, "moved", {"values": values, "seq": seq, "revision": control["revision"]})
        return session

    def close(self, session) -> None:
        self.loop.run_until_complete(session.close())

    def wait(self, seconds: float) -> None:  # the open sessions keep answering meanwhile
        self.loop.run_until_complete(asyncio.sleep(seconds))

    def stop(self) -> None:
        self.loop.close()


def settle(visitors) -> None:
    """Let the closed sessions outlive their TTL, then one more session makes the server drop
    them (it expires stored sessions when it stores the next one)."""
    for _ in range(2):
        visitors.wait(TTL_SECONDS + 2)
        visitors.close(visitors.open())
    visitors.wait(2)


def run(sessions: int, work: Path, assets: Path | None, at_once: bool,
        browserless: bool) -> list[tuple[str, float]]:
    os.environ["STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL"] = str(TTL_SECONDS)
    rows = []
    with serve_app(work / "runs", assets=assets) as app, contextlib.ExitStack() as stack:
        pid = app.process.pid
        if browserless:
            visitors = Visitors(app)
        else:
            from playwright.sync_api import sync_playwright

            visitors = Tabs(stack.enter_context(sync_playwright()), app, work / "profile")
        for _ in range(WARMUP):
            visitors.close(visitors.open())
        settle(visitors)
        rows.append(("after warm-up", rss_mb(pid)))
        opened = []
        for n in range(1, sessions + 1):
            opened.append(visitors.open())
            if not at_once:
                visitors.close(opened.pop())
            if n % 10 == 0 or n == sessions:
                state = "open at once" if at_once else "opened and closed"
                rows.append((f"{n} sessions {state}", rss_mb(pid)))
        for session in opened:
            visitors.close(session)
        settle(visitors)
        rows.append((f"{sessions} sessions, all ended", rss_mb(pid)))
        rows.append(("peak (VmHWM)", peak_rss_mb(pid)))
        visitors.stop()
    return rows


def print_table(rows: list[tuple[str, float]], base: float) -> None:
    print("| moment                            | server RSS MB | vs reference MB |")
    print("|-----------------------------------|---------------|-----------------|")
    for label, value in rows:
        print(f"| {label:<33} | {value:>13.1f} | {value - base:>+15.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--at-once", action="store_true", help="keep every session open")
    parser.add_argument("--browserless", action="store_true",
                        help="tools/streamlit_client.py visitors, not Chromium tabs")
    parser.add_argument("--tiny", action="store_true", help="tiny untrained models, not assets/")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="latent-lab-memory-") as work:
        (Path(work) / "runs").mkdir()
        assets = tiny_assets(Path(work) / "assets") if args.tiny else None
        started = time.monotonic()
        rows = run(args.sessions, Path(work), assets, args.at_once, args.browserless)
    print(f"model: {'tiny' if args.tiny else 'assets/mnist32'}; {args.sessions} "
          f"{'browserless visitors' if args.browserless else 'Chromium tabs'} "
          f"{'open at once' if args.at_once else 'opened and closed'}, {STEPS} slider steps "
          f"each; {time.monotonic() - started:.0f} s")
    # The reference is the 10th session: the allocator gives back the warm-up's first-decode
    # memory over the first sessions, so earlier rows would hide growth.
    base = rows[1][1]
    print_table(rows, base)
    if args.at_once:
        growth = rows[-3][1] - base
        print(f"growth from 10 to {args.sessions} sessions open at once: {growth:+.1f} MB, "
              f"{1024 * growth / (args.sessions - 10):+.0f} kB per open session")
        return
    growth = rows[-2][1] - base
    print(f"growth after the 10th session: {growth:+.1f} MB, "
          f"{1024 * growth / (args.sessions - 10):+.0f} kB per session")


if __name__ == "__main__":
    main()
