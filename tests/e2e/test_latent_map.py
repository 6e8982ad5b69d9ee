"""Latent map in a real browser: the Plotly scatter draws, and clicking a point decodes it; the
picture map draws the test images themselves, zoomed, hovered and selected."""

import re

import numpy as np
import pytest
from playwright.sync_api import expect

from tools.browser import open_page
from vae_core.config import DataConfig
from vae_core.data import load_dataset

pytestmark = pytest.mark.e2e


def test_clicking_a_point_shows_its_example_and_reconstruction(served_app, page):
    open_page(page, served_app, "Latent map")
    chart = page.locator("[data-testid=stPlotlyChart] .js-plotly-plot").first
    expect(chart).to_be_visible()
    points = chart.locator(".scatterlayer .points path.point")
    assert points.count() > 100  # the test set's posterior means
    expect(page.get_by_text("Click a point to see its image")).to_be_visible()

    box = points.first.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.get_by_text(re.compile(r"^Example #\d+$"))).to_be_visible()
    main = page.get_by_test_id("stMain")
    expect(main.get_by_test_id("stImageCaption").filter(has_text="reconstruction")).to_be_visible()
    expect(main.get_by_test_id("stImage").filter(has_text="original").locator("img")).to_be_visible()


MAP = "[data-testid=stMain] .picture-map"
# An image's grey values as a canvas shows them: each image pixel read at its cell's centre.
SAMPLE = """(el, [selector, rect, rows, cols]) => {
  const canvas = el.querySelector(selector);
  const { data, width } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
  const values = [];
  for (let r = 0; r < rows; r += 1) {
    for (let c = 0; c < cols; c += 1) {
      const x = Math.floor(rect.x + ((c + 0.5) * rect.width) / cols);
      const y = Math.floor(rect.y + ((r + 0.5) * rect.height) / rows);
      values.push(data[(y * width + x) * 4]);
    }
  }
  return values;
}"""


def _hook(page, call: str, arg=None):
    return page.locator(MAP).evaluate(f"(el, arg) => el.latentLab.{call}", arg)


def _shown(page, selector: str, rect: dict) -> np.ndarray:
    values = page.locator(MAP).evaluate(SAMPLE, [selector, rect, 28, 28])
    return np.array(values, dtype=np.float64).reshape(28, 28)


def _assert_is_test_image(shown: np.ndarray, example: int, test_images: np.ndarray) -> None:
    """The drawn pixels are this example's (within PNG's 8 bits), and far from other digits'."""
    expected = np.round(test_images[example, 0] * 255)
    assert np.abs(shown - expected).mean() < 1.0, f"example #{example} is not what is drawn"
    others = [np.abs(shown - np.round(test_images[k, 0] * 255)).mean()
              for k in range(50) if k != example]
    assert min(others) > 10  # no other test image passes for it


def _wait(page, condition: str) -> None:
    page.locator(MAP).evaluate(
        "(el, condition) => new Promise((resolve, reject) => {"
        "  const check = new Function('lab', `return ${condition};`);"
        "  const started = performance.now();"
        "  const poll = () => check(el.latentLab) ? resolve()"
        "    : performance.now() - started > 15000 ? reject(new Error(condition))"
        "    : requestAnimationFrame(poll);"
        "  poll(); })", condition)


def _inside(rect: dict, canvas: dict) -> bool:
    return (rect["x"] >= 0 and rect["y"] >= 0 and rect["x"] + rect["width"] <= canvas["width"]
            and rect["y"] + rect["height"] <= canvas["height"])


def test_the_picture_map_zooms_into_the_test_images_and_hover_enlarges_one(served_app, page):
    test_images = load_dataset(DataConfig(name="mnist5k")).test_x.numpy()
    open_page(page, served_app, "Latent map")
    page.get_by_text("Images on the map", exact=True).click()
    _wait(page, "lab.status().atlas === 'ready' && lab.frames() > 0")
    assert _hook(page, "status()")["points"] == 1000
    assert not _hook(page, "status()")["pictures"]  # crowded: dots for the overview

    canvas = page.locator(f"{MAP} canvas.map")
    canvas.evaluate("c => c.scrollIntoView({ block: 'center' })")  # all of it in the window
    box = canvas.bounding_box()
    size = canvas.evaluate("c => ({ width: c.width, height: c.height })")
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(12):  # until pictures are drawn at least at their own size
        page.mouse.wheel(0, -200)
        page.wait_for_timeout(100)
        drawn = _hook(page, "drawnPictures()")
        if drawn and drawn[0]["width"] >= 28:
            break
    assert drawn and drawn[0]["width"] >= 28  # each image pixel at least one canvas pixel
    page.mouse.move(box["x"] - 20, box["y"] - 20)  # off the map: no enlarged image on top
    _wait(page, "lab.status().hovered === null && lab.hoverPicture() === null")
    drawn = [r for r in _hook(page, "drawnPictures()") if _inside(r, size)]
    assert len(drawn) >= 2
    topmost = drawn[-1]
    _assert_is_test_image(_shown(page, "canvas.map", topmost), topmost["example"], test_images)

    example = drawn[0]["example"]
    point = _hook(page, "pointAt(arg)", example)
    page.mouse.move(point["x"], point["y"])
    _wait(page, f"lab.status().hovered === {example} && lab.hoverPicture() !== null")
    enlarged = _hook(page, "hoverPicture()")
    assert enlarged["width"] >= 4 * 28
    _assert_is_test_image(_shown(page, "canvas.map", enlarged), example, test_images)

    page.get_by_role("button", name="Box select").click()
    page.mouse.move(box["x"] + 10, box["y"] + 10)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] - 10, box["y"] + box["height"] - 10, steps=4)
    page.mouse.up()
    _wait(page, "lab.status().selected.length > 0")
    cell = _hook(page, "gridPictures()")[0]
    _assert_is_test_image(_shown(page, "canvas.grid", cell), cell["example"], test_images)
    page.get_by_role("button", name="Clear selection").click()
    _wait(page, "lab.status().selected.length === 0 && lab.gridPictures().length === 0")

    page.get_by_role("button", name="Pan").click()
    point = _hook(page, "pointAt(arg)", example)
    page.mouse.click(point["x"], point["y"])
    expect(page.get_by_text(f"Example #{example}", exact=True)).to_be_visible()
