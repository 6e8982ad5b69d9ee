"""Driving Explore's in-page decoder from Playwright (browser tests, benchmarks/drag_benchmark.py).

The latent explorer's root element carries a test hook, `latentLab` (ui/frontend/latent_sliders.js):
decode(z) (a promise: the page decodes in a worker), frames(), times() (decode and draw ms),
lastFrame(), sliderZ() and status() (with decodesOn: "worker" or "main thread").
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

from playwright.sync_api import Error as PlaywrightError

from tools.browser import rerun_and_wait, wait_for_idle

EXPLORER = "[data-testid=stMain] .latent-explorer"
RANGES = f"{EXPLORER} input[type=range]"
VALUES = f"{EXPLORER} output"
MEAN_CANVAS = f"{EXPLORER} canvas.mean"


def hook(page, call: str, arg=None):
    """Evaluate `latentLab.<call>` on the explorer's root, e.g. hook(page, "decode(arg)", z)."""
    return page.locator(EXPLORER).evaluate(f"(el, arg) => el.latentLab.{call}", arg)


def wait_in_page(page, model_key: str | None = None, timeout: float = 60) -> None:
    """Until the page decodes the active model (its weights arrived, Python switched layout);
    with `model_key` (e.g. "asset:mnist2d"), until it decodes that model, not the one before."""
    deadline = time.monotonic() + timeout
    explorer = page.locator(EXPLORER)
    while time.monotonic() < deadline:
        with contextlib.suppress(PlaywrightError):  # it may remount as the layout switches
            status = explorer.evaluate("el => el.latentLab?.status()") if explorer.count() == 1 \
                else None
            if status and status["inPage"] and (
                    model_key is None or (status["version"] or "").startswith(f"{model_key}@")):
                wait_for_idle(page)
                return
        page.wait_for_timeout(100)
    raise TimeoutError(f"the page did not start decoding within {timeout} s")


def wait_sent(page, timeout: float = 10) -> None:
    """Until no slider move waits in the page's throttle, and the rerun it caused is done."""
    deadline = time.monotonic() + timeout
    while hook(page, "status()")["pending"]:
        if time.monotonic() > deadline:
            raise TimeoutError(f"a slider move still waits to be sent after {timeout} s")
        page.wait_for_timeout(50)
    wait_for_idle(page)


def pick_model(page, label: str) -> None:
    """Choose a model in the sidebar's picker, e.g. 'shapes (shipped)'."""
    picker = page.locator("[data-testid=stSidebar] [data-testid=stSelectbox]").first
    for _ in range(3):
        if picker.locator("input").input_value() == label:
            wait_for_idle(page)
            return  # chosen (or already chosen): its rerun is over
        wait_for_idle(page)
        picker.click()
        option = page.get_by_role("option", name=label, exact=True)
        # A rerun the page started itself (the explorer reporting that it decodes, once its
        # weights arrive) can close the list under the click, which then chooses nothing.
        with contextlib.suppress(PlaywrightError):
            rerun_and_wait(page, option.click, timeout=15_000)
    raise TimeoutError(f"the sidebar did not choose {label!r} in 3 tries")


def thumb_center(page, index: int = 0) -> tuple[float, float, float]:
    """(x, y, width) of a slider's track centre (its thumb at z = 0)."""
    slider = page.locator(RANGES).nth(index)
    slider.wait_for(state="visible")
    box = slider.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, box["width"]


# A drag as Chromium delivers it: one `input` event per animation frame (pointer moves are
# coalesced per frame), the thumb sweeping between -2.5 and 2.5 by 0.1 a frame, then `change`
# on release. Driven inside the page: under load each Playwright mouse.move is a
# round trip of 40-400 ms, which would measure the test driver, not the page. The animation
# frames' timestamps give the intervals between frames: a main thread busy past a frame shows.
SWEEP_JS = """
(el, [index, ms, end]) => new Promise((resolve) => {
  const input = el.querySelectorAll('input[type=range]')[index];
  const intervals = [];
  let start = null;
  let last = null;
  let events = 0;
  const tick = (now) => {
    start ??= now;
    if (last !== null) intervals.push(now - last);
    last = now;
    if (now - start >= ms) {
      if (end !== null) {  // a last move to where the drag is released
        input.value = String(end);
        input.dispatchEvent(new Event('input', { bubbles: true }));
      }
      input.dispatchEvent(new Event('change', { bubbles: true }));
      resolve({ events, intervals });
      return;
    }
    const phase = (events % 100) / 50;  // 0..2: up then down
    const value = phase <= 1 ? -2.5 + 5 * phase : 2.5 - 5 * (phase - 1);
    input.value = String(Math.round(value * 20) / 20);
    input.dispatchEvent(new Event('input', { bubbles: true }));
    events += 1;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})
"""


@dataclass(frozen=True)
class Sweep:
    events: int  # input events, one per animation frame
    frame_ms: list[float]  # the intervals between those frames


def timed_sweep(page, index: int, seconds: float, end: float | None = None) -> Sweep:
    """Drag slider `index` back and forth for `seconds`, one input event per frame; released
    where it is, or at `end`."""
    result = page.locator(EXPLORER).evaluate(SWEEP_JS, [index, seconds * 1000, end])
    return Sweep(result["events"], result["intervals"])


def sweep_slider(page, index: int, seconds: float, end: float | None = None) -> int:
    """timed_sweep's number of input events."""
    return timed_sweep(page, index, seconds, end).events


def drag_first_slider(page) -> None:
    """A short mouse drag on the first slider (to 30% of the track right of its centre), as a
    person would, then a moment for the page to draw it."""
    x, y, width = thumb_center(page, 0)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + width * 0.3, y, steps=6)
    page.mouse.up()
    page.wait_for_timeout(200)
