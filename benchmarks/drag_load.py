"""What simultaneous slider drags cost the server: N sessions drag a latent slider at once.

    python benchmarks/drag_load.py [--sessions 8] [--seconds 5]

Each session is a Chromium tab on Explore (served on 127.0.0.1 by tools/browser.py). All of
them drag their first latent slider at once for --seconds: inside the page, one `input` event per
animation frame sweeps the slider between -3 and 3 (a real drag sends about one per frame; a
Playwright mouse moves slower than that when the machine is busy). Reported: the server's CPU
seconds per second of drag (/proc/<pid>/stat), the messages the browsers sent to the server per
session and second (each is a rerun request or a widget change), and the machine's busy share.
Run it from a checkout of an older commit (with this file copied in) to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from benchmarks.server_probe import cpu_seconds, machine_cpu_seconds
from tools.browser import PAGE_PATHS, launch_browser, serve_app

IDLE = ("[data-testid=stApp][data-test-connection-state=CONNECTED]"
        "[data-test-script-state=notRunning]")
# Finds the first range input in the main area (piercing open shadow roots) and sweeps it.
DRAG_JS = """
(seconds) => {
  const find = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.matches('input[type=range]')) return el;
      if (el.shadowRoot) { const hit = find(el.shadowRoot); if (hit) return hit; }
    }
    return null;
  };
  const input = find(document.querySelector('[data-testid=stMain]'));
  const start = performance.now();
  const frame = (now) => {
    const t = (now - start) / 1000;
    if (t > seconds) { input.dispatchEvent(new Event('change', {bubbles: true})); return; }
    input.value = String(3 * Math.sin(2 * Math.PI * t / 2));
    input.dispatchEvent(new Event('input', {bubbles: true}));
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}
"""


async def _open(context, url: str, sent: list[int]):
    page = await context.new_page()
    page.on("websocket", lambda ws: ws.on("framesent", lambda _: sent.__setitem__(0, sent[0] + 1)))
    await page.goto(url)
    await page.wait_for_selector("[data-testid=stMain] input[type=range]", state="attached")
    await page.wait_for_selector(IDLE)
    await page.wait_for_timeout(3000)  # the in-page decoder (where there is one) has loaded
    return page


async def run(sessions: int, seconds: float, work: Path) -> str:
    from playwright.async_api import async_playwright

    with serve_app(work / "runs") as app:
        pid, url = app.process.pid, f"{app.url}/{PAGE_PATHS['Explore']}"
        async with async_playwright() as playwright:
            context = await launch_browser(playwright, work / "profile")
            counters = [[0] for _ in range(sessions)]
            pages = await asyncio.gather(*(_open(context, url, c) for c in counters))
            sent_before = [c[0] for c in counters]
            before, (busy, total), started = cpu_seconds(pid), machine_cpu_seconds(), time.time()
            await asyncio.gather(*(p.evaluate(DRAG_JS, seconds) for p in pages))
            await asyncio.sleep(seconds + 1.0)  # the drags, and the last rerun they asked for
            wall = time.time() - started
            server = cpu_seconds(pid) - before
            busy_after, total_after = machine_cpu_seconds()
            sent = sum(c[0] - b for c, b in zip(counters, sent_before, strict=True))
            await context.close()
    machine = (busy_after - busy) / max(total_after - total, 1e-9)
    return (f"| {sessions} | {seconds:g} | {server / wall:.2f} | "
            f"{sent / sessions / seconds:.1f} | {100 * machine:.0f}% |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        row = asyncio.run(run(args.sessions, args.seconds, Path(tmp)))
    print("| sessions dragging | seconds | server CPU s per s | messages sent per session and s "
          "| machine busy |")
    print("|---:|---:|---:|---:|---:|")
    print(row)


if __name__ == "__main__":
    main()
