"""Small files shared between processes: atomic writes and bounded text reads.

A trainer writes status.json, metrics.jsonl and checkpoints while the app reads them; readers
must see the old or the new file, whole. Text files may come from elsewhere (an uploaded
config.json), so a read is capped: a 2 GB "config" costs nothing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

MAX_TEXT_BYTES = 4 * 2**20  # far above any config, status or log tail this project writes


def atomic_write_bytes(path: Path, data: bytes, durable: bool = True) -> None:
    """Write via a temporary file and os.replace: readers see the old or the new file, whole.
    durable=False skips the fsync: still atomic for readers, but a power cut may lose it."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as handle:
        handle.write(data)
        if durable:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(tmp, path)


def atomic_write_json(path: Path, value: Any, durable: bool = True) -> None:
    atomic_write_bytes(path, json.dumps(value, indent=2).encode(), durable)


def read_text(path: Path, max_bytes: int = MAX_TEXT_BYTES) -> str:
    """The file's text (undecodable bytes replaced). Raises OSError when it cannot be read,
    and ValueError when it is larger than max_bytes; callers turn either into their message."""
    with open(path, "rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError(f"{Path(path).name} is larger than {max_bytes // 2**10} kB")
    return data.decode("utf-8", "replace")


def read_tail(path: Path, n_bytes: int = 4096) -> str:
    """The last n_bytes of a file that may be long (a training log), as text; "" if unreadable."""
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, handle.seek(0, os.SEEK_END) - n_bytes))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
