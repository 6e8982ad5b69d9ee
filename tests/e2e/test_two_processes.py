"""Two Streamlit processes behind haproxy (deploy/serve.sh, deploy/haproxy.cfg) on loopback,
sharing one runs folder: a run started through one process is listed, followed and cancelled
through the other, and a browser stays on one process across reruns, page changes and a reload.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from dataclasses import dataclass

import pytest

from tests.conftest import kill_live_runs
from tests.e2e.conftest import in_ci
from tools.browser import PAGE_PATHS, navigate, open_page, rerun_and_wait
from tools.explorer import wait_in_page
from tools.streamlit_client import StreamlitSession, run_sync
from tools.two_processes import TwoProcesses, serve_two_processes
from vae_core.runs import read_status

RUN = "two-processes"
COOKIE = "LATENT_LAB_PROCESS"  # deploy/haproxy.cfg


@pytest.fixture(scope="module")
def deployment(tiny_assets, tmp_path_factory):
    if shutil.which("haproxy") is None:
        reason = "haproxy is missing: apt-get install -y haproxy (scripts/setup.sh --dev does it)"
        if in_ci():
            pytest.fail(f"CI is set and {reason}")
        pytest.skip(reason)
    work = tmp_path_factory.mktemp("two-processes")
    try:
        with serve_two_processes(work / "runs", work / "serve.log", tiny_assets) as served:
            yield served
    finally:
        kill_live_runs(work / "runs")


async def _until_shown(session: StreamlitSession, fragment_id: str, text: str,
                       timeout: float = 120) -> None:
    """Rerun the runs list (the browser does it every 2 s) until it shows `text`."""
    deadline = time.monotonic() + timeout
    while not any(text in shown for shown in session.texts()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{text!r} not shown within {timeout} s: {session.texts()}")
        await asyncio.sleep(1)
        await session.rerun(fragment_id)


async def _start_on_a_cancel_on_b(deployment: TwoProcesses) -> None:
    a = await StreamlitSession.open(deployment.a, page="train")
    b = None
    try:
        a.stage("train_name", "string_value", RUN)
        started = await a.set_widget("", "trigger_value", True, label="Start training")
        assert not started.errors, started.errors
        assert (deployment.runs / RUN).is_dir()
        b = await StreamlitSession.open(deployment.b, page="train")
        cancel = b.widget(f"cancel-{RUN}")  # listed as live on B, with its Cancel button
        await _until_shown(b, cancel.fragment_id, "-badge[running]")  # B follows its progress
        cancelled = await b.set_widget(f"cancel-{RUN}", "trigger_value", True)
        assert not cancelled.errors, cancelled.errors
        await _until_shown(b, cancel.fragment_id, "-badge[cancelled]")
        await _until_shown(a, a.widget(f"cancel-{RUN}").fragment_id, "-badge[cancelled]")
    finally:
        for session in (a, b):
            if session is not None:
                await session.close()


def test_a_run_started_through_one_process_is_followed_and_cancelled_through_the_other(
        deployment):
    run_sync(_start_on_a_cancel_on_b(deployment), 300)
    assert read_status(deployment.runs / RUN)["state"] == "cancelled"


def _visit(context, deployment: TwoProcesses) -> set[str]:
    """Explore through the proxy, three reruns, another page, a reload; returns the servers
    that answered its requests (websockets are logged when they close)."""
    since = deployment.log.stat().st_size
    page = context.new_page()
    try:
        open_page(page, _ProxyApp(deployment.proxy))
        # The page reruns itself once it decodes (its weights cached from the first visit, soon
        # after the load): a click during that rerun could start none of its own.
        wait_in_page(page)
        for _ in range(3):
            rerun_and_wait(page, lambda: page.get_by_role("button", name="Random z").click())
        navigate(page, "Sampling")
        page.reload()
        page.wait_for_selector("[data-testid=stSidebarNav]")
    finally:
        page.close()
    deadline = time.monotonic() + 20  # its two websockets (the load, the reload) are logged
    while sum(path == "/_stcore/stream" for *_, path in deployment.served(since)) < 2:  # on close
        assert time.monotonic() < deadline, "the proxy did not log the visit's two websockets"
        time.sleep(0.2)
    served = deployment.served(since)
    media = [(server, status) for server, status, path in served if path.startswith("/media/")]
    assert media and all(status == 200 for _, status in media), media
    return {server for server, _, _ in served}


@dataclass(frozen=True)
class _ProxyApp:
    """What open_page needs of a served app: the proxy's URL of each page."""

    url: str

    def page_url(self, title: str) -> str:
        return f"{self.url}/{PAGE_PATHS[title]}"


def test_a_browser_stays_on_one_process_and_the_next_goes_to_the_other(
        deployment, browser_context):
    browser_context.clear_cookies(name=COOKIE)
    first = _visit(browser_context, deployment)
    assert len(first) == 1, f"one browser session was served by {sorted(first)}"
    browser_context.clear_cookies(name=COOKIE)  # a new visitor
    second = _visit(browser_context, deployment)
    assert len(second) == 1 and second != first, (first, second)
