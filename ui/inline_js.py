"""Our components' JavaScript: ES modules in ui/frontend/, joined into the one module that
st.components.v2 takes inline (no build step, nothing loaded from the network)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

FRONTEND = Path(__file__).parent / "frontend"
_LOCAL_IMPORT = re.compile(r'^import \{[^}]*\} from "\./[\w.]+";\n', re.MULTILINE)


def inline_modules(names: Sequence[str]) -> str:
    """The modules, in dependency order, as one: their imports of each other are removed (the
    names they import are then in scope); top-level names must differ across the modules."""
    return "\n".join(_LOCAL_IMPORT.sub("", (FRONTEND / name).read_text(encoding="utf-8"))
                     for name in names)


def stylesheet(name: str) -> str:
    return (FRONTEND / name).read_text(encoding="utf-8")
