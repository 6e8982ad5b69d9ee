"""The Train page's full MNIST and Fashion-MNIST: the run's own process downloads them, with
its progress on the run's card; a wrong SHA-256, a broken connection and no network fail the
run with a message saying what happened and what to do, and nothing half-written is kept.

A loopback HTTP server this test starts serves small IDX files it makes; the internet is never
reached. The trainer is a separate process (runs.start_run), so it learns the server's address
and the files' sums from a sitecustomize module put on its PYTHONPATH by the test; the page,
in this process, reads the same through monkeypatch.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import re
import shutil
import threading
import time
from pathlib import Path
from typing import ClassVar

import pytest

from tests.app.conftest import submit_train_form, train_page
from tests.conftest import wait_until
from tests.core.conftest import make_idx_files
from ui.train_datasets import DOWNLOADED
from vae_core.data import download
from vae_core.runs import RUN_CONFIG_FILE, read_status, run_info

IMAGES = "train-images-idx3-ubyte.gz"
FAST_FORM = {"train_patience": 0, "train_shift": 0}
CHILD_HOOK = '''\
import json, os
from vae_core.data import download
for name, (mirrors, sums) in json.loads(os.environ["TEST_DOWNLOAD_SOURCES"]).items():
    download.SOURCES[name] = download.Source(tuple(mirrors), sums)
'''


class _Mirror(http.server.SimpleHTTPRequestHandler):
    """Serves the folder; `slow` files trickle in 1 kB pieces, `cut` files stop halfway."""

    slow: ClassVar[set[str]] = set()
    cut: ClassVar[set[str]] = set()

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        name = self.path.lstrip("/")
        if name not in self.slow | self.cut:
            super().do_GET()
            return
        body = (Path(self.directory) / name).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if name in self.cut:
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return
        try:
            for start in range(0, len(body), 1024):
                self.wfile.write(body[start : start + 1024])
                self.wfile.flush()
                time.sleep(0.25)
        except (BrokenPipeError, ConnectionResetError):  # the test cancelled the run
            self.close_connection = True


@pytest.fixture
def mirror(tmp_path):
    """(base URL, served folder, handler class) of a loopback server over gzipped IDX files."""
    folder = tmp_path / "served"
    folder.mkdir()
    make_idx_files(folder, n_train=30, n_test=10, gz=True)
    handler = type("Handler", (_Mirror,), {"slow": set(), "cut": set()})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", folder, handler
    server.shutdown()
    server.server_close()


def _sums(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("*.gz")}


def _serve(monkeypatch, tmp_path, name: str, mirrors: tuple[str, ...], sums: dict) -> Path:
    """Point the page (here) and the trainer (its process) at the mirror; returns the cache."""
    monkeypatch.setitem(download.SOURCES, name, download.Source(mirrors, sums, 0.1))
    hook = tmp_path / "hook"
    hook.mkdir(exist_ok=True)
    (hook / "sitecustomize.py").write_text(CHILD_HOOK)
    monkeypatch.setenv("PYTHONPATH", str(hook))
    monkeypatch.setenv("TEST_DOWNLOAD_SOURCES", json.dumps({name: [list(mirrors), sums]}))
    monkeypatch.setenv(download.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache" / name


def _cache_files(cache: Path) -> list[str]:
    """What the cache holds, hidden files too, but not the lock."""
    return sorted(p.name for p in cache.iterdir() if p.name != ".lock") if cache.is_dir() else []


def _downloading(run_dir: Path, file_name: str) -> bool:
    """Is the run's status part-way through downloading file_name?"""
    record = (read_status(run_dir) or {}).get("download") or {}
    return record.get("file") == file_name and 0 < record["done"] < record["total"]


def _card_captions(at) -> list[str]:
    return [c.value for c in at.caption]


def _failed(runs: Path, name: str) -> str:
    """The run's failure message, once it has failed."""
    wait_until(lambda: run_info(runs / name).state == "failed", timeout=90)
    return run_info(runs / name).message


def test_the_page_offers_the_full_sets_and_says_what_the_first_use_does(runs, monkeypatch,
                                                                       tmp_path, mirror):
    base, folder, _ = mirror
    cache = _serve(monkeypatch, tmp_path, "mnist", (base,), _sums(folder))
    at = train_page()
    assert _full_sets(at) == list(DOWNLOADED.values())
    at.selectbox(key="train_dataset").set_value("mnist").run()
    (note,) = [i.value for i in at.info if "downloaded when the run starts" in i.value]
    assert str(cache) in note and "needs the internet this once" in note
    assert "python -m vae_core download mnist" in note
    estimate = next(c for c in _card_captions(at) if c.startswith("Estimate"))
    assert "of 844 steps" in estimate  # 54,000 training images in batches of 64: none read
    assert _cache_files(cache) == []  # choosing it downloads nothing


def test_a_run_downloads_with_progress_on_its_card_and_a_cancel_keeps_nothing_half_written(
    runs, monkeypatch, tmp_path, mirror
):
    base, folder, handler = mirror
    cache = _serve(monkeypatch, tmp_path, "mnist", (base,), _sums(folder))
    handler.slow.add(IMAGES)  # ~24 kB in 1 kB pieces: about 6 s
    at = submit_train_form(train_page(), "mnist", train_name="full", **FAST_FORM)
    assert not at.exception and not at.error
    wait_until(lambda: _downloading(runs / "full", IMAGES), timeout=60)
    at.run()
    (bar,) = at.get("progress")
    assert re.fullmatch(rf"downloading {IMAGES} \(file \d of 4\): \d+ kB of 24 kB",
                        bar.proto.text)
    assert bar.value < 100
    at.button(key="cancel-full").click().run()
    wait_until(lambda: run_info(runs / "full").state == "cancelled", timeout=30)
    assert IMAGES not in _cache_files(cache)
    assert not [name for name in _cache_files(cache) if ".part-" in name]


def test_a_downloaded_run_trains_and_later_runs_use_the_cache(runs, monkeypatch, tmp_path,
                                                              mirror):
    base, folder, _ = mirror
    cache = _serve(monkeypatch, tmp_path, "fashion_mnist", (base,), _sums(folder))
    at = submit_train_form(train_page(), "fashion_mnist", train_name="clothes", **FAST_FORM)
    assert not at.exception and not at.error
    wait_until(lambda: run_info(runs / "clothes").state == "finished", timeout=120)
    assert _cache_files(cache) == sorted(_sums(folder))
    assert json.loads((runs / "clothes" / RUN_CONFIG_FILE).read_text())["data"]["name"] == \
        "fashion_mnist"
    at.selectbox(key="train_dataset").set_value("mnist5k").run()
    at.selectbox(key="train_dataset").set_value("fashion_mnist").run()
    assert any("is in the cache" in c and "nothing to download" in c
               for c in _card_captions(at))


def test_a_wrong_sum_fails_the_run_and_keeps_nothing(runs, monkeypatch, tmp_path, mirror):
    base, folder, _ = mirror
    sums = {**_sums(folder), IMAGES: "0" * 64}  # the served file is not the published one
    cache = _serve(monkeypatch, tmp_path, "mnist", (base,), sums)
    at = submit_train_form(train_page(), "mnist", train_name="altered", **FAST_FORM)
    message = _failed(runs, "altered")
    assert f"Could not download {IMAGES}" in message
    assert "SHA-256" in message and "a damaged or altered file; not kept" in message
    assert IMAGES not in _cache_files(cache)
    at.run()
    assert any("red-badge[failed]" in m.value for m in at.markdown)
    assert message in _card_captions(at)


def test_a_broken_connection_fails_the_run_and_keeps_nothing(runs, monkeypatch, tmp_path,
                                                             mirror):
    base, folder, handler = mirror
    handler.cut.add(IMAGES)
    cache = _serve(monkeypatch, tmp_path, "mnist", (base,), _sums(folder))
    submit_train_form(train_page(), "mnist", train_name="cut", **FAST_FORM)
    message = _failed(runs, "cut")
    assert "the connection closed after" in message and "an interrupted download" in message
    assert IMAGES not in _cache_files(cache)
    assert not [name for name in _cache_files(cache) if ".part-" in name]


def test_offline_the_run_fails_saying_what_to_do(runs, monkeypatch, tmp_path, mirror):
    _, folder, _ = mirror
    _serve(monkeypatch, tmp_path, "mnist", ("http://127.0.0.1:9/",), _sums(folder))
    submit_train_form(train_page(), "mnist", train_name="offline", **FAST_FORM)
    message = _failed(runs, "offline")
    assert "Connect to the internet once (later runs use the cache)" in message
    assert "copy the four files there yourself" in message


def test_shared_mode_offers_a_full_set_only_once_it_is_in_the_cache(runs, monkeypatch,
                                                                     tmp_path, mirror):
    base, folder, _ = mirror
    cache = _serve(monkeypatch, tmp_path, "mnist", (base,), _sums(folder))
    monkeypatch.setenv("LATENT_LAB_MODE", "shared")
    monkeypatch.setenv("LATENT_LAB_ALLOW", "training")
    at = train_page()
    assert not _full_sets(at)
    assert any("once the server's admin has put them in its cache" in c
               for c in _card_captions(at))
    cache.mkdir(parents=True)
    for path in folder.glob("*.gz"):  # the admin's copy
        shutil.copy(path, cache / path.name)
    at = train_page()
    assert _full_sets(at) == [DOWNLOADED["mnist"]]  # Fashion-MNIST's cache is still empty
    at.selectbox(key="train_dataset").set_value("mnist").run()
    assert any("is in the server's cache" in c for c in _card_captions(at))
    assert not any(str(cache) in c for c in _card_captions(at))  # no server path for visitors


def _full_sets(at) -> list[str]:
    return [o for o in at.selectbox(key="train_dataset").options if o in DOWNLOADED.values()]
