"""The Latent map's picture map (ui/picture_map.py) at 1,000 and 10,000 points, in Chromium.

The points are the shipped mnist32's posterior means of mnist5k (train and test, 5,000 images),
PCA; past 5,000 they repeat, each repeat moved by noise of 2% of the map's spread, with its image.
The component's JavaScript runs in a plain page (no Streamlit: the figures are the map's own),
fed the payload Python sends. Per size: the atlas's bytes and build time (Python), its decode
time in the page, then per gesture, driven by one synthetic event each animation frame for
--seconds: the map's draw time (JavaScript, timed in the page) and the interval between animation
frames (16.7 ms is 60 fps; what a person sees), median and p95, and the share of frames over
33 ms. Gestures: hovering the overview (dots), zooming in by the wheel (dots, then pictures),
panning zoomed in (pictures), hovering zoomed in (pictures and the enlarged one).

    python benchmarks/picture_map.py [--seconds 3] [--sizes 1000 10000]
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

import numpy as np
import torch

from tools.browser import PROJECT_DIR, launch_browser
from ui.figures_latent import Colouring
from ui.inline_js import inline_modules, stylesheet
from ui.picture_map import MODULES, MapPoints, map_payload
from ui.thumbnails import thumbnail_atlas
from vae_core.checkpoint import load_checkpoint
from vae_core.data import load_dataset
from vae_core.latent import encode_images
from vae_core.projection import pca

PAGE = """<!doctype html><html><head><style>{css}</style></head>
<body style="margin: 0; width: 900px"><div id="map"></div></body></html>"""
# One synthetic event per animation frame for `seconds`; returns the frame intervals (ms).
DRIVE = """async ([gesture, seconds]) => {
  const root = document.querySelector(".picture-map");
  const canvas = root.querySelector("canvas.map");
  const rect = canvas.getBoundingClientRect();
  const at = (x, y) => ({ clientX: rect.left + x, clientY: rect.top + y, bubbles: true,
    pointerId: 1, button: 0, buttons: gesture === "pan" ? 1 : 0 });
  const [width, height] = [rect.width, rect.height];
  const centre = at(width / 2, height / 2);
  if (gesture === "pan") canvas.dispatchEvent(new PointerEvent("pointerdown", centre));
  const intervals = [];
  let last = null;
  let k = 0;
  const started = performance.now();
  await new Promise((resolve) => {
    const step = (now) => {
      if (last !== null) intervals.push(now - last);
      last = now;
      k += 1;
      const phase = (k % 120) / 120;
      if (gesture === "zoom") {
        canvas.dispatchEvent(new WheelEvent("wheel", { ...at(width / 2, height / 2),
          deltaY: k % 200 < 100 ? -20 : 20, cancelable: true }));
      } else {
        const x = width / 2 + Math.cos(2 * Math.PI * phase) * width * 0.3;
        const y = height / 2 + Math.sin(2 * Math.PI * phase) * height * 0.3;
        canvas.dispatchEvent(new PointerEvent("pointermove", at(x, y)));
      }
      if (performance.now() - started < seconds * 1000) requestAnimationFrame(step);
      else resolve();
    };
    requestAnimationFrame(step);
  });
  if (gesture === "pan") canvas.dispatchEvent(new PointerEvent("pointerup", centre));
  return intervals;
}"""


def points_and_images(count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(coords (count, 2), labels (count,), images (count, 1, 28, 28)) as described above."""
    data = load_dataset(load_checkpoint(PROJECT_DIR / "assets" / "mnist32").data_config)
    images = torch.cat([data.train_x, data.test_x]).numpy()
    labels = torch.cat([data.train_y, data.test_y]).numpy()
    model = load_checkpoint(PROJECT_DIR / "assets" / "mnist32").model
    coords = pca(encode_images(model, images).mean).coords
    repeats = -(-count // len(images))
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.02 * coords.std(), (repeats * len(coords), 2))
    noise[: len(coords)] = 0  # the first copy is the data as encoded
    tiled = np.tile(coords, (repeats, 1)) + noise
    images = np.tile(images, (repeats, 1, 1, 1))
    return tiled[:count], np.tile(labels, repeats)[:count], images[:count]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure_size(context, count: int, seconds: float) -> list[str]:
    coords, labels, images = points_and_images(count)
    started = time.perf_counter()
    atlas = thumbnail_atlas(images)
    atlas_s = time.perf_counter() - started
    colouring = Colouring("label", labels, tuple(str(d) for d in range(10)))
    points = MapPoints(coords, np.arange(count), colouring, ("PC 1", "PC 2"))
    payload = map_payload(points, atlas, f"bench-{count}", None)
    page = context.new_page()
    page.on("pageerror", lambda error: print("page error:", error))
    page.set_content(PAGE.format(css=stylesheet("picture_map.css")))
    page.add_script_tag(type="module", content=inline_modules(MODULES)
                        + "\nwindow.pictureMap = pictureMap;")
    page.wait_for_function("() => window.pictureMap")
    decode_ms = page.evaluate("""async (b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const started = performance.now();
      window.pictureMap({ data: bytes, parentElement: document.getElementById("map"),
        setStateValue: () => {} });
      const lab = () => document.querySelector(".picture-map").latentLab;
      while (lab().status().atlas !== "ready") await new Promise((r) => setTimeout(r, 5));
      return performance.now() - started;
    }""", base64.b64encode(payload).decode())
    hook = "(call) => document.querySelector('.picture-map').latentLab[call]()"
    rows = [f"| {count:>6,} | atlas {len(atlas.png) / 1e6:.2f} MB ({atlas.columns} x "
            f"{atlas.tile_width} px tiles), built in {atlas_s:.2f} s, decoded in the page in "
            f"{decode_ms:.0f} ms; points {(len(payload) - len(atlas.png)) / 1e3:.0f} kB |"]
    for gesture, label in (("hover", "hover, overview"), ("zoom", "wheel zoom in and out"),
                           ("pan", "pan, zoomed in"), ("hover", "hover, zoomed in")):
        if label == "pan, zoomed in":  # zoom to about 6x at the centre, where the data is dense
            page.evaluate("() => { const lab = document.querySelector('.picture-map').latentLab;"
                          " const c = document.querySelector('.picture-map canvas.map');"
                          " lab.zoomAt(c.clientWidth / 2, c.clientHeight / 2, 6 / "
                          "lab.status().zoom); }")
            page.wait_for_timeout(100)
        before = page.evaluate(hook, "frames")
        intervals = page.evaluate(DRIVE, [gesture, seconds])
        drawn_since = page.evaluate(hook, "frames") - before
        draws = page.evaluate(hook, "frameTimes")[-drawn_since:]  # the page keeps the last 600
        status = page.evaluate(hook, "status")
        drawn = "pictures" if status["pictures"] else "dots"
        slow = sum(i > 33.4 for i in intervals) / max(1, len(intervals))
        rows.append(f"| {count:>6,} | {label:<22} | {drawn:<8} | {status['inView']:>6,} | "
                    f"{statistics.median(draws):>5.2f} | {percentile(draws, 0.95):>5.2f} | "
                    f"{statistics.median(intervals):>5.1f} | {percentile(intervals, 0.95):>5.1f} | "
                    f"{100 * slow:>4.1f}% |")
    page.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000])
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    torch.set_num_threads(1)
    header = ("| points | gesture                | drawn    | in view | draw ms | p95 | "
              "frame ms | p95 | over 33 ms |\n"
              "|--------|------------------------|----------|---------|---------|-----|"
              "----------|-----|------------|")
    lines = []
    with tempfile.TemporaryDirectory() as work, sync_playwright() as playwright:
        context = launch_browser(playwright, Path(work) / "profile")
        for count in args.sizes:
            lines += measure_size(context, count, args.seconds)
        context.close()
    print(f"{os.cpu_count()} cores; {args.seconds:.0f} s per gesture, one event a frame")
    print("\n".join(line for line in lines if "atlas" in line))
    print(header)
    print("\n".join(line for line in lines if "atlas" not in line))


if __name__ == "__main__":
    main()
