"""Explore where the page decodes, in Chromium: the samples x ~ p(x|z) the page draws are the
server's for the same z and seed; the traversal is drawn in the page; Python hears z when a move
ends or pauses, not during a drag; leaving Explore right after a move neither loses it nor
breaks the next page."""


import numpy as np
import pytest
import torch
from playwright.sync_api import expect

from tests.conftest import wait_until
from tools.browser import navigate, open_page, wait_for_idle
from tools.explorer import EXPLORER, RANGES, VALUES, hook, pick_model, sweep_slider, wait_in_page
from vae_core.checkpoint import load_checkpoint
from vae_core.hashed_samples import draw_samples

pytestmark = pytest.mark.e2e

# A drag in progress: one input event, no release (no change event).
DRAG_TO_JS = """
(el, value) => {
  const input = el.querySelectorAll('input[type=range]')[0];
  input.value = String(value);
  input.dispatchEvent(new Event('input', { bubbles: true }));
}
"""


def _count_sent(page) -> list[int]:
    """[messages sent to the server so far]; attach before the page opens its websocket."""
    sent = [0]
    page.on("websocket", lambda ws: ws.on("framesent", lambda _: sent.__setitem__(0, sent[0] + 1)))
    return sent


def _server_samples(model, z: list[float], seed: int) -> np.ndarray:
    with torch.no_grad():
        return draw_samples(model.decode(torch.tensor([z])), seed, 4).reshape(4, -1)


def _assert_same_samples(page_samples: dict, model) -> None:
    drawn = np.array(page_samples["images"])
    expected = _server_samples(model, page_samples["z"], page_samples["seed"])
    if model.config.likelihood == "bernoulli":  # a pixel flips only where u falls within the
        assert (drawn != expected).mean() < 1e-3  # page's and torch's ~1e-6 apart p(x=1|z)
    else:
        assert np.abs(drawn - expected).max() < 1e-3


@pytest.mark.parametrize("name", ["mnist32", "mnist2d"])  # Gaussian (identity loc), Bernoulli
def test_the_pages_samples_are_the_servers_for_the_same_z_and_seed(served_app, tiny_assets,
                                                                    page, name):
    model = load_checkpoint(tiny_assets / name).model.eval()
    open_page(page, served_app, "Explore")
    if name != "mnist32":
        pick_model(page, f"{name} (shipped)")
    wait_in_page(page, f"asset:{name}")
    page.locator(RANGES).first.focus()
    for _ in range(30):
        page.keyboard.press("ArrowRight")
    expect(page.locator(VALUES).first).to_have_text("1.50")
    moved = wait_until(lambda: (s := hook(page, "samples()")) and 1.5 in s["z"] and s)
    assert moved["seed"] == 0
    _assert_same_samples(moved, model)
    page.locator(f"{EXPLORER} button.new-samples").click()
    again = wait_until(lambda: (s := hook(page, "samples()"))["seed"] == 1 and s)
    assert again["z"] == moved["z"] and again["images"] != moved["images"]
    _assert_same_samples(again, model)


def test_a_two_second_drag_reruns_the_script_at_most_twice(served_app, page):
    sent = _count_sent(page)
    open_page(page, served_app, "Explore")
    wait_in_page(page)
    page.wait_for_timeout(500)
    wait_for_idle(page)
    before, frames, renders = sent[0], hook(page, "frames()"), hook(page, "renders()")
    events = sweep_slider(page, 0, seconds=2.0, end=1.25)  # not where it started
    page.wait_for_timeout(1500)  # the release's rerun
    wait_for_idle(page)
    # A run is counted by the explorer's renders: a fast fragment run can start and end within
    # one batch of the page's DOM updates, leaving no trace in the script-state attribute.
    runs, messages = hook(page, "renders()") - renders, sent[0] - before
    assert events >= 20, f"only {events} input events in a 2 s drag"
    assert hook(page, "frames()") - frames >= events // 2  # the page drew the drag
    assert 1 <= runs <= 2, f"{runs} reruns for a 2 s drag"
    assert 1 <= messages <= 2, f"{messages} messages to the server for a 2 s drag"
    assert hook(page, "serverValues()")[0] == 1.25  # the release was heard


def test_a_drag_is_heard_when_it_pauses_not_before(served_app, page):
    open_page(page, served_app, "Explore")
    wait_in_page(page)
    explorer = page.locator(EXPLORER)
    explorer.evaluate(DRAG_TO_JS, 1.0)
    assert hook(page, "serverValues()")[0] == 0  # still dragging: not sent
    wait_until(lambda: hook(page, "serverValues()")[0] == 1.0)  # the pause sent it


def test_the_traversal_is_drawn_in_the_page_for_the_dimension_chosen_there(served_app, page):
    sent = _count_sent(page)
    open_page(page, served_app, "Explore")
    wait_in_page(page)
    strip = page.locator(f"{EXPLORER} canvas.traversal-strip")
    expect(strip).to_be_visible()
    pixels = "(c) => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)"
    first = wait_until(lambda: len(set(p := strip.evaluate(pixels))) > 2 and p)  # not all grey
    before = sent[0]
    page.locator(f"{EXPLORER} .traversal select").select_option(index=1)
    wait_until(lambda: strip.evaluate(pixels) != first)
    assert sent[0] == before  # no server rerun for it


@pytest.mark.parametrize("move", ["key press", "drag not yet sent"])
def test_leaving_explore_right_after_a_move_keeps_it_and_the_next_page_works(served_app, page,
                                                                             move):
    open_page(page, served_app, "Explore")
    wait_in_page(page)
    for round_, delay in enumerate([0, 60, 150], start=1):
        value = round(0.25 * round_, 2)
        if move == "key press":
            page.locator(RANGES).first.focus()
            for _ in range(5):
                page.keyboard.press("ArrowRight")
        else:
            page.locator(EXPLORER).evaluate(DRAG_TO_JS, value)
        shown = page.locator(VALUES).first.text_content()
        page.wait_for_timeout(delay)
        navigate(page, "Latent map")
        page.wait_for_timeout(300)
        wait_for_idle(page)
        main = page.locator("[data-testid=stMain]")
        expect(main.get_by_role("heading", level=1)).to_be_visible()
        assert "delta path" not in page.locator("body").inner_text()
        assert not main.locator("[data-testid=stException]").count()
        navigate(page, "Explore")
        wait_in_page(page)
        expect(page.locator(VALUES).first).to_have_text(shown)  # the page kept the move
        wait_until(lambda s=float(shown): hook(page, "serverValues()")[0] == s)  # Python too
