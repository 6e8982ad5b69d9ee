"""Our components' JavaScript: ES modules in ui/frontend/, joined into the one module that
st.components.v2 (or anywidget) takes inline (no build step, nothing loaded from the network).

A module's imports of other modules here are followed: each module comes once, after the modules
it imports. `import name from "./x.js?raw";` (as bundlers spell it) becomes a string constant
holding x.js joined with its own imports: the source of a Web Worker, started from a Blob URL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

FRONTEND = Path(__file__).parent / "frontend"
_LOCAL_IMPORT = re.compile(r'^import \{[^}]*\} from "\./([\w.]+)";\n', re.MULTILINE)
_RAW_IMPORT = re.compile(r'^import (\w+) from "\./([\w.]+)\?raw";\n', re.MULTILINE)


def inline_modules(names: Sequence[str]) -> str:
    """The modules and those they import, in dependency order, as one: their imports of each other
    are removed (the names they import are then in scope); top-level names must differ across
    the modules."""
    joined: list[str] = []
    _append(names, joined, set())
    return "\n".join(joined)


def _append(names: Sequence[str], joined: list[str], seen: set[str]) -> None:
    for name in names:
        if name in seen:
            continue
        seen.add(name)
        source = (FRONTEND / name).read_text(encoding="utf-8")
        _append(_LOCAL_IMPORT.findall(source), joined, seen)
        source = _RAW_IMPORT.sub(
            lambda m: f"const {m[1]} = {json.dumps(inline_modules([m[2]]))};\n", source)
        joined.append(_LOCAL_IMPORT.sub("", source))


def stylesheet(name: str) -> str:
    return (FRONTEND / name).read_text(encoding="utf-8")
