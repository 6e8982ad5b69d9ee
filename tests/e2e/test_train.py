"""Train in a real browser: a background run reports progress by itself (the run_every fragment),
Explore stays responsive while it trains, and the stopped run can become the active model.

The run is cancelled rather than waited for: on this shared machine the same epochs take from
0.1 s to 1 s each, so no epoch count both finishes quickly and is surely still training while
Explore is used.
"""

import json
import re

import pytest
from playwright.sync_api import expect

from tests.conftest import wait_until
from tools.browser import navigate, open_page, rerun_and_wait, wait_for_idle
from tools.explorer import hook, wait_in_page, wait_sent

pytestmark = pytest.mark.e2e

RUN = "e2e-digits"
EPOCHS, BATCH = 500, 32  # far more than the test waits for: it cancels the run


def choose(page, label: str, option: str, reruns: bool = False) -> None:
    """Pick `option` in the select box `label`; with `reruns` (a box outside the form), wait
    until the rerun it starts has ended: it redraws the form, closing a list opened meanwhile."""
    box = page.locator("[data-testid=stSelectbox]", has_text=label).first
    # Centred first: a box on the window's bottom edge takes the focus but opens no list.
    box.evaluate("element => element.scrollIntoView({block: 'center'})")
    box.click()
    pick = page.get_by_role("option", name=option).click
    if reruns:
        rerun_and_wait(page, pick)
    else:
        pick()


def fill(page, label: str, value: str) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(value)
    field.press("Tab")


def start_tiny_run(page) -> None:
    choose(page, "Dataset", "digits, 1,797 (8x8)", reruns=True)
    choose(page, "Architecture", "mlp")
    fill(page, "Hidden sizes", "16")
    fill(page, "Latent size", "2")
    fill(page, "Epochs", str(EPOCHS))
    fill(page, "Batch size", str(BATCH))
    fill(page, "Early stopping patience (epochs)", "0")  # it must still train when cancelled
    fill(page, "Run name", RUN)
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text(f"Started {RUN}")).to_be_visible()


def run_card(page):
    """The innermost block holding the run's name and its progress bar."""
    blocks = page.get_by_test_id("stVerticalBlock").filter(has=page.get_by_text(RUN, exact=True))
    return blocks.filter(has=page.get_by_test_id("stProgress")).last


def epoch_shown(progress) -> int:
    match = re.search(r"epoch (\d+)/", progress.inner_text())
    return int(match.group(1)) if match else -1


def test_a_run_trains_in_the_background_and_becomes_the_active_model(served_app, page):
    open_page(page, served_app, "Train")
    start_tiny_run(page)
    progress = run_card(page).get_by_test_id("stProgress")
    expect(progress).to_contain_text(re.compile(rf"epoch [1-9]\d*/{EPOCHS}"), timeout=40_000)
    # Nobody touches the page: only the fragment's own timer can move the epoch on.
    first = epoch_shown(progress)
    expect(progress).not_to_contain_text(f"epoch {first}/")
    assert epoch_shown(progress) > first

    navigate(page, "Explore")  # usable meanwhile: the page draws a move, the server hears it
    wait_in_page(page)
    start = hook(page, "sliderZ()")
    page.locator("[data-testid=stMain] .latent-sliders input[type=range]").first.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    wait_until(lambda: hook(page, "lastFrame()")["z"] == hook(page, "sliderZ()") != start)
    assert json.loads((served_app.runs / RUN / "status.json").read_text())["state"] == "running"
    wait_sent(page)  # the second key's z may wait in the throttle: leave after it is sent
    heard = hook(page, "heard()")
    assert heard["seq"] == heard["sent"]

    navigate(page, "Train")
    card = run_card(page)
    card.get_by_role("button", name="Cancel").click()
    expect(card.get_by_text("cancelled").first).to_be_visible()
    expect(card.get_by_role("button", name="Resume")).to_be_visible()  # the card has settled
    wait_for_idle(page)
    card.get_by_role("button", name="Use this model").click()
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_role("combobox", name="Model")).to_have_value(f"{RUN} (run)")
    card_text = sidebar.get_by_test_id("stMarkdown").first
    expect(card_text).to_contain_text("digits · mlp · latent 2")
    navigate(page, "Explore")  # a full rerun must keep the choice
    expect(sidebar.get_by_role("combobox", name="Model")).to_have_value(f"{RUN} (run)")
    expect(card_text).to_contain_text("digits · mlp · latent 2")
