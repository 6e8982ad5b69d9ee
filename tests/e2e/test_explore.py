"""Explore in a real browser: the page decodes the latent sliders' z itself and redraws on arrow
keys and WHILE a mouse drags them (before the button is released); the server hears z on a key
press and on release, not during the drag; z = 0 moves them back and restores the image."""

import time

import pytest
from playwright.sync_api import expect

from tools.browser import open_page
from tools.explorer import RANGES, VALUES, hook, wait_in_page

pytestmark = pytest.mark.e2e


def _explore(page, served_app):
    open_page(page, served_app, "Explore")
    wait_in_page(page)
    expect(page.locator(VALUES).first).to_have_text("0.00")


def _wait_until_heard(page, value: float, timeout: float = 10) -> None:
    """Until Python sends the page the first slider at `value`: the server has heard it."""
    deadline = time.monotonic() + timeout
    while hook(page, "serverValues()")[0] != value:
        if time.monotonic() > deadline:
            raise AssertionError(f"the server did not hear {value} within {timeout} s")
        page.wait_for_timeout(50)


def _wait_for_frame(page, wanted, timeout: float = 10) -> dict:
    """The frame the page draws once it has drawn a z for which `wanted(z)` is true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        frame = hook(page, "lastFrame()")
        if wanted(frame["z"]):
            return frame
        page.wait_for_timeout(20)
    raise AssertionError(f"no frame drawn for a new z within {timeout} s")


def test_arrow_keys_step_a_slider_and_z0_moves_it_back(served_app, page):
    _explore(page, served_app)
    start = hook(page, "lastFrame()")
    page.locator(RANGES).first.focus()
    for _ in range(6):
        page.keyboard.press("ArrowRight")
    expect(page.locator(VALUES).first).to_have_text("0.30")
    moved = _wait_for_frame(page, lambda z: sorted(z)[-1] == 0.3)  # one dimension moved...
    assert sorted(moved["z"])[-2] == 0.0  # ... only one
    assert moved["mean"] != start["mean"]
    _wait_until_heard(page, 0.3)  # the server heard it too

    page.get_by_role("button", name="z = 0").click()
    expect(page.locator(VALUES).first).to_have_text("0.00")
    expect(page.locator(RANGES).first).to_have_value("0")
    back = _wait_for_frame(page, lambda z: z == start["z"])
    assert back["mean"] == start["mean"]  # z = 0 gives the first image again


def test_dragging_a_slider_redraws_the_image_before_the_mouse_is_released(served_app, page):
    _explore(page, served_app)
    start = hook(page, "lastFrame()")
    box = page.locator(RANGES).first.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2  # the thumb at z = 0
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + box["width"] * 0.15, y, steps=8)
    expect(page.locator(VALUES).first).not_to_have_text("0.00")
    first = _wait_for_frame(page, lambda z: z != start["z"])  # still dragging: it redrew
    page.mouse.move(x + box["width"] * 0.35, y, steps=8)
    second = _wait_for_frame(page, lambda z: z != first["z"])  # and keeps redrawing
    assert second["mean"] != first["mean"]
    shown = float(page.locator(VALUES).first.text_content())
    page.mouse.up()
    assert 0.5 < shown <= 3.0  # the thumb moved right along with the mouse
    _wait_until_heard(page, shown)  # the release reached the server
