"""Screenshots of every page at 1280x800 (or --size), plus one at the page's full height.

    python scripts/screenshots.py [OUT_DIR] [--tiny] [--url http://host:port]
        [--size 1400x2000] [--models "mnist2d (shipped)" "shapes (shipped)" ...]

Each page is opened fresh (by URL), the script waits until the app is idle and every image has
loaded, then saves <n>-<page>.png (the viewport a person sees first) and <n>-<page>-full.png (the
viewport stretched to the content's height: Streamlit scrolls inside its own container, so
Playwright's full_page option would capture only the viewport). With --models, each model is
picked in the sidebar on every page (labels as the picker shows them) and its shots go to
OUT_DIR/<model>/. Default OUT_DIR: /tmp/latent-lab-shots.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from tools.browser import (
    PAGE_PATHS,
    VIEWPORT,
    ServedApp,
    launch_browser,
    open_page,
    serve_app,
)
from tools.explorer import pick_model

# Images finished loading and Plotly charts drawn: what a person would see after a moment.
SETTLED_JS = """
() => [...document.querySelectorAll('[data-testid=stMain] img')].every(i => i.complete)
  && [...document.querySelectorAll('[data-testid=stPlotlyChart]')]
       .every(c => c.querySelector('.main-svg'))
"""
CONTENT_HEIGHT_JS = """
() => document.querySelector('[data-testid=stMain] [data-testid=stMainBlockContainer]')
        .scrollHeight + 120
"""


def shoot(page, app: ServedApp, title: str, out: Path, viewport: dict,
          model: str | None) -> list[Path]:
    page.set_viewport_size(viewport)
    open_page(page, app, title)
    if model is not None:
        pick_model(page, model)
    page.wait_for_function(SETTLED_JS, timeout=30_000)
    page.wait_for_timeout(800)  # Plotly's and Streamlit's fade-in transitions
    stem = f"{list(PAGE_PATHS).index(title) + 1}-{title.lower().replace(' ', '_')}"
    first = out / f"{stem}.png"
    page.screenshot(path=str(first))
    height = max(viewport["height"], int(page.evaluate(CONTENT_HEIGHT_JS)))
    page.set_viewport_size({"width": viewport["width"], "height": height})
    page.wait_for_timeout(500)
    full = out / f"{stem}-full.png"
    page.screenshot(path=str(full))
    return [first, full]


def shoot_all(app: ServedApp, out: Path, work: Path, viewport: dict,
              models: list[str | None]) -> list[Path]:
    from playwright.sync_api import sync_playwright

    saved = []
    with sync_playwright() as playwright:
        context = launch_browser(playwright, work / "profile")
        page = context.new_page()
        for model in models:
            folder = out / model.split(" (")[0].replace("/", "-") if model else out
            folder.mkdir(parents=True, exist_ok=True)
            for title in PAGE_PATHS:
                saved += shoot(page, app, title, folder, viewport, model)
        context.close()
    return saved


def viewport_size(text: str) -> dict:
    width, height = (int(n) for n in text.lower().split("x"))
    return {"width": width, "height": height}


@contextlib.contextmanager
def app_for(args: argparse.Namespace, work: Path):
    """An app at --url, or one served here (tiny models with --tiny, else assets/)."""
    if args.url:
        yield ServedApp(args.url.rstrip("/"), work, process=None)
        return
    assets = None
    if args.tiny:
        from tools.tiny_models import TINY_MODELS, make_tiny_checkpoint

        assets = work / "assets"
        for name in TINY_MODELS:
            make_tiny_checkpoint(assets / name, name)
    (work / "runs").mkdir()
    with serve_app(work / "runs", assets=assets) as app:
        yield app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=Path("/tmp/latent-lab-shots"))
    parser.add_argument("--tiny", action="store_true", help="tiny untrained models, not assets/")
    parser.add_argument("--url", help="use an app that is already being served")
    parser.add_argument("--size", type=viewport_size, default=VIEWPORT, help="e.g. 1400x2000")
    parser.add_argument("--models", nargs="+", default=[None],
                        help="picker labels, e.g. 'shapes (shipped)'; default: the app's default")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="latent-lab-shots-") as work, \
            app_for(args, Path(work)) as app:
        for path in shoot_all(app, args.out, Path(work), args.size, args.models):
            print(path)


if __name__ == "__main__":
    main()
