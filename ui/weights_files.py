"""The page's decoder weights (and our components' JavaScript, ui/inline_js.py) as immutable files
named by their SHA-256, served by Streamlit's static serving (`server.enableStaticServing`:
<app folder>/static/ at /app/static/).

A file is written once per content, atomically (a temporary file in the same folder, then a
rename), so several server processes and sessions share it and none holds the bytes in memory.
The page keeps what it fetched under the hash (ui/frontend/weights_cache.js) and checks the
hash of what arrives. A file no server has handed out for STALE_SECONDS is deleted, and the
least recently handed out go first when the folder grows over MAX_BYTES (Streamlit turns static
serving off at startup when its folder exceeds 1 GB). Directories are not listed, so a file is
reachable only by a page that was given its hash: an uploaded checkpoint's weights, like a
shipped model's, only by its own session (or by someone who already holds the same bytes).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from streamlit import config

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"  # beside app.py
WEIGHTS_DIR = STATIC_DIR / "weights"
URL_PATH = "app/static"
SUFFIX = ".bin"
TEMP_PREFIX = ".writing-"
STALE_SECONDS = 3600
TOUCH_SECONDS = 300  # a file handed out is touched at most this often, so it never goes stale
MAX_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class WeightsFile:
    sha256: str
    size: int
    suffix: str = SUFFIX  # its type, for the Content-Type the server sends (".js": JavaScript)

    @property
    def name(self) -> str:
        return self.sha256 + self.suffix

    def url(self, folder: str = WEIGHTS_DIR.name) -> str:
        """Its path on this server (under server.baseUrlPath), in `folder` under STATIC_DIR."""
        base = (config.get_option("server.baseUrlPath") or "").strip("/")
        return "/" + "/".join(part for part in (base, URL_PATH, folder, self.name) if part)


def publish(data: bytes, folder: Path | None = None, suffix: str = SUFFIX) -> WeightsFile:
    """Write `data` under its hash unless it is there already; raises OSError if it cannot."""
    folder = folder or WEIGHTS_DIR
    file = WeightsFile(hashlib.sha256(data).hexdigest(), len(data), suffix)
    if not is_present(file, folder):
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=folder)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.chmod(temporary, 0o644)
            os.replace(temporary, folder / file.name)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
        sweep(folder, suffix=suffix)
    return file


def is_present(file: WeightsFile, folder: Path | None = None) -> bool:
    """Whether the file is there, whole; touched so that a file in use never goes stale."""
    path = (folder or WEIGHTS_DIR) / file.name
    try:
        stat = path.stat()
        if time.time() - stat.st_mtime > TOUCH_SECONDS:
            os.utime(path)
    except OSError:
        return False
    return stat.st_size == file.size


def sweep(folder: Path | None = None, now: float | None = None, suffix: str = SUFFIX) -> list[Path]:
    """Delete stale files (and a killed writer's leftovers), then the oldest over MAX_BYTES."""
    now = time.time() if now is None else now
    files = []
    for path in (folder or WEIGHTS_DIR).iterdir():
        if path.name.endswith(suffix) or path.name.startswith(TEMP_PREFIX):
            with contextlib.suppress(OSError):
                stat = path.stat()
                files.append((stat.st_mtime, stat.st_size, path))
    files.sort(reverse=True)  # newest first
    removed, kept_bytes = [], 0
    for mtime, size, path in files:
        kept_bytes += size
        if now - mtime > STALE_SECONDS or kept_bytes > MAX_BYTES:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(path)
    return removed
