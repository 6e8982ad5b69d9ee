"""Serve the app in a subprocess and drive it with Debian Chromium (tests, benchmarks, scripts).

`playwright install` does not work here, so Chromium is the system one at /usr/bin/chromium.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1280, "height": 800}
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# URL paths st.navigation gives the pages (from their file names); Explore is the default at "/".
PAGE_PATHS = {"Explore": "", "Latent map": "latent_map", "Sampling": "sampling",
              "Reconstruct": "reconstruct", "AE vs VAE": "ae_vs_vae", "Train": "train",
              "Disentanglement": "disentanglement"}


@dataclass(frozen=True)
class ServedApp:
    url: str
    runs: Path
    process: subprocess.Popen

    def page_url(self, title: str) -> str:
        return f"{self.url}/{PAGE_PATHS[title]}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode}")
        with contextlib.suppress(OSError), urllib.request.urlopen(
            f"{url}/_stcore/health", timeout=1
        ) as response:
            if response.status == 200:
                return
        time.sleep(0.2)
    raise TimeoutError(f"streamlit did not answer {url}/_stcore/health within {timeout} s")


def stop_process(process: subprocess.Popen) -> None:
    """Terminate, then kill after 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def kill_training_processes(runs: Path) -> None:
    """Kill every process whose command line names the runs folder (the app's training runs).

    Each is killed by its own id, plus its process group when it leads one (start_new_session).
    """
    marker = str(runs)
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if marker not in (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode():
                continue
            pid = int(proc.name)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                if os.getpgid(pid) == pid:
                    os.killpg(pid, signal.SIGKILL)
                else:
                    os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def serve_app(
    runs: Path, assets: Path | None = None, timeout: float = 60, script: str = "app.py"
) -> Iterator[ServedApp]:
    """`streamlit run <script>` on a free port: tiny models when `assets` is given, else assets/."""
    env = {**os.environ, "LATENT_LAB_RUNS": str(runs)}
    env.pop("LATENT_LAB_ASSETS", None)
    if assets is not None:
        env["LATENT_LAB_ASSETS"] = str(assets)
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port),
               "--server.headless", "true", "--server.fileWatcherType", "none",
               "--browser.gatherUsageStats", "false"]
    process = subprocess.Popen(command, cwd=PROJECT_DIR, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, timeout)
        yield ServedApp(url, runs, process)
    finally:
        stop_process(process)
        kill_training_processes(runs)


def launch_browser(playwright, profile_dir: Path, viewport: dict | None = None):
    """A persistent Chromium context (the only way Debian Chromium starts headless here)."""
    return playwright.chromium.launch_persistent_context(
        str(profile_dir), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
        viewport=viewport or VIEWPORT,
    )


def wait_for_idle(page, timeout: float = 30_000) -> None:
    """Wait until the app is connected and its script (or fragment) is not running."""
    page.wait_for_selector(
        "[data-testid=stApp][data-test-connection-state=CONNECTED]"
        "[data-test-script-state=notRunning]",
        timeout=timeout,
    )


# Counts changes of the script's run state from now on: a run can start and end between two
# polls, or within one batch of DOM updates (so the observer may see 'notRunning' both times).
# When a run is already going, the click's rerun may take it over: its end counts too.
# A fast rerun's messages can all be drawn in one React render, leaving the attribute unchanged
# (seen with fragment runs and a cached full run), so the server's answers to the page's own
# messages count too: frames received on a websocket after the last frame the page sent on it.
WATCH_RUNS_JS = """
() => {
  const app = document.querySelector('[data-testid=stApp]');
  window.__latentLabRunsStarted = 0;
  window.__latentLabSends = 0;
  window.__latentLabAnswers = 0;
  window.__latentLabRunWatch?.disconnect();
  window.__latentLabRunWatch = new MutationObserver((records) => {
    window.__latentLabRunsStarted += records.length;
  });
  window.__latentLabRunWatch.observe(
    app, {attributes: true, attributeFilter: ['data-test-script-state']});
  const proto = WebSocket.prototype;
  if (proto.__latentLabSend) return;
  proto.__latentLabSend = proto.send;
  proto.send = function (data) {
    if (!this.__latentLabHeard) {
      this.__latentLabHeard = true;
      this.addEventListener('message', () => { window.__latentLabAnswers += 1; });
    }
    window.__latentLabSends += 1;
    window.__latentLabAnswers = 0;
    return proto.__latentLabSend.call(this, data);
  };
}
"""
RERUN_SEEN_JS = ("() => window.__latentLabRunsStarted > 0"
                 " || (window.__latentLabSends > 0 && window.__latentLabAnswers > 0)")


def rerun_and_wait(page, action, timeout: float = 30_000) -> None:
    """Do `action` (a click that reruns the script) and wait until that rerun has finished."""
    page.evaluate(WATCH_RUNS_JS)
    action()
    page.wait_for_function(RERUN_SEEN_JS, timeout=timeout)
    wait_for_idle(page, timeout)


def open_page(page, app: ServedApp, title: str = "Explore", timeout: float = 60_000) -> None:
    """Load a page by URL (a new Streamlit session) and wait until its first run is done."""
    page.goto(app.page_url(title))
    page.wait_for_selector("[data-testid=stSidebarNav]", timeout=timeout)
    wait_for_idle(page, timeout)


def navigate(page, title: str, timeout: float = 30_000) -> None:
    """Switch page within the same session by clicking the sidebar link."""
    page.locator("[data-testid=stSidebarNav] a", has_text=title).first.click()
    page.wait_for_url(f"**/{PAGE_PATHS[title]}", timeout=timeout)
    wait_for_idle(page, timeout)
