"""One bytes payload for a custom component: a small JSON part plus named binary blobs.

st.components.v2 takes raw bytes only as the whole `data`; this lets a component get its
settings and, when needed, large arrays (a decoder's weights) without JSON number lists.
Layout: u32 JSON length (little-endian), the JSON (with "blobs": {name: [offset, length]}),
padding to 8 bytes, then the blobs, each starting at a multiple of 8.
"""

from __future__ import annotations

import json
import struct

_ALIGN = 8


def pack_envelope(control: dict, blobs: dict[str, bytes] | None = None) -> bytes:
    table, chunks, offset = {}, [], 0
    for name, blob in (blobs or {}).items():
        table[name] = [offset, len(blob)]
        padded = blob + b"\0" * (-len(blob) % _ALIGN)
        chunks.append(padded)
        offset += len(padded)
    text = json.dumps({**control, "blobs": table}, separators=(",", ":")).encode()
    text += b" " * (-(4 + len(text)) % _ALIGN)
    return struct.pack("<I", len(text)) + text + b"".join(chunks)


def read_envelope(data: bytes) -> tuple[dict, dict[str, bytes]]:
    """The inverse of pack_envelope: (control, blobs)."""
    (length,) = struct.unpack_from("<I", data)
    control = json.loads(data[4 : 4 + length])
    start = 4 + length
    blobs = {name: data[start + offset : start + offset + size]
             for name, (offset, size) in control.pop("blobs").items()}
    return control, blobs
