"""The page's decoder weights as files named by their SHA-256 (ui/weights_files.py), and the
page's own SHA-256 (ui/frontend/weights_cache.js, run by Node) that checks what it fetched."""

import hashlib
import json
import os
import shutil
import subprocess
import time

import pytest
from streamlit.testing.v1 import AppTest

import ui.weights_files as weights_files
from ui.weights_files import WeightsFile, is_present, publish, sweep

from ..conftest import PROJECT_DIR
from .conftest import EXPLORE_PAGE, sliders_data

NODE = shutil.which("node")
WEIGHTS_CACHE_JS = PROJECT_DIR / "ui" / "frontend" / "weights_cache.js"


def _age(path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_file_is_named_by_its_sha256_and_written_once(tmp_path):
    data = os.urandom(1000)
    file = publish(data, tmp_path)
    path = tmp_path / f"{hashlib.sha256(data).hexdigest()}.bin"
    assert file == WeightsFile(hashlib.sha256(data).hexdigest(), 1000)
    assert path.read_bytes() == data
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left
    inode = path.stat().st_ino
    assert publish(data, tmp_path) == file and path.stat().st_ino == inode  # not rewritten


def test_a_truncated_or_missing_file_is_not_present_and_is_written_again(tmp_path):
    data = os.urandom(100)
    file = publish(data, tmp_path)
    path = tmp_path / file.name
    path.write_bytes(data[:50])
    assert not is_present(file, tmp_path)
    publish(data, tmp_path)
    assert path.read_bytes() == data
    path.unlink()
    assert not is_present(file, tmp_path)


def test_a_file_handed_out_is_touched_so_it_never_goes_stale(tmp_path):
    file = publish(b"weights", tmp_path)
    _age(tmp_path / file.name, weights_files.STALE_SECONDS - 10)
    assert is_present(file, tmp_path)
    assert sweep(tmp_path) == [] and is_present(file, tmp_path)


def test_the_sweep_deletes_stale_files_and_a_killed_writers_leftovers(tmp_path):
    fresh = publish(b"fresh", tmp_path)
    stale = publish(b"stale", tmp_path)
    _age(tmp_path / stale.name, weights_files.STALE_SECONDS + 10)
    leftover = tmp_path / f"{weights_files.TEMP_PREFIX}abc"
    leftover.write_bytes(b"half")
    _age(leftover, weights_files.STALE_SECONDS + 10)
    other = tmp_path / "README"
    other.write_text("not ours")
    _age(other, weights_files.STALE_SECONDS + 10)
    assert sorted(sweep(tmp_path)) == sorted([tmp_path / stale.name, leftover])
    assert is_present(fresh, tmp_path) and other.exists()


def test_over_the_size_limit_the_least_recently_handed_out_go_first(tmp_path, monkeypatch):
    files = [publish(os.urandom(1000), tmp_path) for _ in range(3)]
    for age, file in zip([30, 10, 20], files, strict=True):
        _age(tmp_path / file.name, age)
    monkeypatch.setattr(weights_files, "MAX_BYTES", 2500)
    assert sweep(tmp_path) == [tmp_path / files[0].name]
    assert publish(os.urandom(1000), tmp_path) and not (tmp_path / files[2].name).exists()


def test_a_file_is_served_under_the_base_url_path(monkeypatch):
    file = WeightsFile("ab" * 32, 10)
    assert file.url() == f"/app/static/weights/{'ab' * 32}.bin"
    monkeypatch.setattr(weights_files.config, "get_option",
                        lambda name: "/lab/" if name == "server.baseUrlPath" else None)
    assert file.url() == f"/lab/app/static/weights/{'ab' * 32}.bin"


def _explore() -> AppTest:
    return AppTest.from_file(str(PROJECT_DIR / EXPLORE_PAGE), default_timeout=60).run()


def test_explore_names_a_file_of_the_decoder_and_rewrites_it_if_deleted(app_env, tmp_path,
                                                                        monkeypatch):
    monkeypatch.setattr(weights_files, "WEIGHTS_DIR", tmp_path)
    weights = sliders_data(_explore())["weights"]
    path = tmp_path / f"{weights['sha256']}.bin"
    assert weights["url"].endswith(f"/app/static/weights/{path.name}")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == weights["sha256"]
    assert path.stat().st_size == weights["bytes"]
    path.unlink()
    assert sliders_data(_explore())["weights"] == weights and path.exists()


def test_a_server_that_cannot_write_the_file_draws_the_images_and_says_why(app_env, tmp_path,
                                                                         monkeypatch):
    blocked = tmp_path / "a-file"
    blocked.write_text("a file where the folder should be")
    monkeypatch.setattr(weights_files, "WEIGHTS_DIR", blocked / "weights")
    at = _explore()
    assert not at.exception and "weights" not in sliders_data(at)
    assert "could not store its weights file" in at.warning[0].value
    assert at.image[0].captions == ["Decoder mean E[x|z]"]


SHA_JS = """
import { readFileSync } from "node:fs";
import { sha256Hex } from "%s";
const data = new Uint8Array(readFileSync(process.argv[2]));
const lengths = JSON.parse(process.argv[3]);
process.stdout.write(JSON.stringify(lengths.map((n) => sha256Hex(data.subarray(0, n)))));
"""


@pytest.mark.skipif(NODE is None, reason="node is missing: apt-get install nodejs")
def test_the_pages_sha256_equals_hashlibs(tmp_path):
    data = os.urandom(300_000)
    (tmp_path / "data.bin").write_bytes(data)
    (tmp_path / "sha.mjs").write_text(SHA_JS % WEIGHTS_CACHE_JS.as_uri())
    lengths = [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 300_000]  # around the padding's edges
    result = subprocess.run([NODE, tmp_path / "sha.mjs", tmp_path / "data.bin",
                             str(lengths)], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == [hashlib.sha256(data[:n]).hexdigest() for n in lengths]
