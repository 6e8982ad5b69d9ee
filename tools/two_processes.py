"""The app from two Streamlit processes behind haproxy, as deploy/serve.sh serves it, on free
loopback ports (the deployment test and benchmarks/protocol_load.py)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tools.browser import PROJECT_DIR, free_port

# haproxy's httplog line: ... backend/server timers status bytes ... "METHOD path HTTP/1.1"
LOG_LINE = re.compile(r' streamlit/(?P<server>\w+) \S+ (?P<status>\d{3}) .*"\w+ (?P<path>\S+) ')


@dataclass(frozen=True)
class TwoProcesses:
    proxy: str  # where visitors connect
    a: str  # each process, directly
    b: str
    runs: Path
    log: Path  # the script's output: both processes' and haproxy's (one line per request)
    script: subprocess.Popen

    def served(self, since: int = 0) -> list[tuple[str, int, str]]:
        """(server "a" or "b", status, path) of each request haproxy logged after byte `since`
        of the log (a websocket is logged when it closes)."""
        text = self.log.read_bytes()[since:].decode(errors="replace")
        return [(m["server"], int(m["status"]), m["path"]) for m in LOG_LINE.finditer(text)]

    def server_pids(self) -> list[int]:
        """The two Streamlit processes (the script's children that run streamlit)."""
        children = Path(f"/proc/{self.script.pid}/task/{self.script.pid}/children")
        pids = [int(pid) for pid in children.read_text().split()]
        return [pid for pid in pids
                if b"streamlit" in Path(f"/proc/{pid}/cmdline").read_bytes()]


def _wait_healthy(urls: list[str], script: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for url in urls:
        while True:
            if script.poll() is not None:
                raise RuntimeError(f"deploy/serve.sh exited with code {script.returncode}")
            with contextlib.suppress(OSError), urllib.request.urlopen(
                    f"{url}/_stcore/health", timeout=1) as response:
                if response.status == 200:
                    break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer within {timeout} s")
            time.sleep(0.3)


@contextlib.contextmanager
def serve_two_processes(runs: Path, log: Path, assets: Path | None = None,
                        timeout: float = 120) -> Iterator[TwoProcesses]:
    """`bash deploy/serve.sh` on three free ports of 127.0.0.1: tiny models when `assets` is
    given, else assets/; stopped (the script stops its three processes) on leaving."""
    ports = [free_port() for _ in range(3)]
    env = {**os.environ, "LATENT_LAB_RUNS": str(runs), "LATENT_LAB_VENV": sys.prefix,
           "LATENT_LAB_BIND": f"127.0.0.1:{ports[0]}", "LATENT_LAB_PORT_A": str(ports[1]),
           "LATENT_LAB_PORT_B": str(ports[2])}
    env.pop("LATENT_LAB_ASSETS", None)
    if assets is not None:
        env["LATENT_LAB_ASSETS"] = str(assets)
    with open(log, "wb") as output:
        script = subprocess.Popen(["bash", "deploy/serve.sh"], cwd=PROJECT_DIR, env=env,
                                  stdout=output, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    proxy, a, b = (f"http://127.0.0.1:{port}" for port in ports)
    try:
        _wait_healthy([a, b, proxy], script, timeout)
        yield TwoProcesses(proxy, a, b, runs, log, script)
    finally:
        script.terminate()
        try:
            script.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(script.pid, signal.SIGKILL)
            script.wait()
