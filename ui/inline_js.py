"""Our components' JavaScript: ES modules in ui/frontend/, joined into the one module that
st.components.v2 (or anywidget) takes inline (no build step, nothing loaded from another site).

Streamlit sends a component's inline JavaScript with every rerun that draws it, so a large one is
served instead as a file named by its hash (`served_modules`), which a few-line inline loader
imports: the browser fetches and evaluates it once per page load.

A module's imports of other modules here are followed: each module comes once, after the modules
it imports. `import name from "./x.js?raw";` (as bundlers spell it) becomes a string constant
holding x.js joined with its own imports: the source of a Web Worker, started from a Blob URL.
"""

from __future__ import annotations

import json
import mimetypes
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st
from streamlit import config

from .weights_files import STATIC_DIR, WeightsFile, is_present, publish

FRONTEND = Path(__file__).parent / "frontend"
SERVED_DIR = STATIC_DIR / "js"
SERVED_SUFFIX = ".js"
# Static serving takes the Content-Type from `mimetypes`, and a module import fails (nosniff) on
# anything but a JavaScript type; some systems' tables (e.g. Windows registries) say text/plain.
mimetypes.add_type("text/javascript", SERVED_SUFFIX)
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


# Imports the served modules (a module is kept by its URL: evaluated once per page load, so its
# module-level state lasts as long as the page) and hands them the component's arguments; if the
# file cannot be fetched, says so in the component's place.
_LOADER = """const url = new URL(%s, document.baseURI).href;
export default async function load(args) {
  let served;
  try {
    served = await import(url);
  } catch (error) {
    console.error(error);
    const note = document.createElement("div");
    note.setAttribute("role", "alert");
    note.style.cssText = "padding:0.75rem;border-radius:0.5rem;background:#fde8e8;color:#7d1a1a";
    note.textContent = "This part of the page could not load its script (" + url + "). "
      + "Reload the page; if that does not help, restart the app.";
    args.parentElement.replaceChildren(note);
    return undefined;
  }
  return served.default(args);
}
"""


@dataclass(frozen=True)
class ServedModules:
    """Modules joined (`inline_modules`) for a component's `js`: a loader of their file, or
    themselves where static serving is off or the file cannot be written."""

    source: str  # the joined modules
    file: WeightsFile | None  # their file under SERVED_DIR, or None: inline

    @property
    def js(self) -> str:
        return self.source if self.file is None else _LOADER % json.dumps(
            self.file.url(SERVED_DIR.name))

    def keep_served(self) -> None:
        """Rewrite the file if it was deleted since (a sweep, a cleaned folder); call per draw."""
        if self.file is not None and not is_present(self.file, SERVED_DIR):
            publish(self.source.encode("utf-8"), SERVED_DIR, SERVED_SUFFIX)


def served_modules(names: Sequence[str]) -> ServedModules:
    source = inline_modules(names)
    if not config.get_option("server.enableStaticServing"):
        return ServedModules(source, None)
    try:
        return ServedModules(source, publish(source.encode("utf-8"), SERVED_DIR, SERVED_SUFFIX))
    except OSError:
        return ServedModules(source, None)


def served_component(name: str, modules: Sequence[str], css: str) -> Callable[..., Any]:
    """An st.components.v2 component whose JavaScript (`modules`) is a served file; each call
    draws it, first putting the file back if it was swept."""
    script = served_modules(modules)
    component = st.components.v2.component(name, js=script.js, css=css)

    def draw(**kwargs: Any) -> Any:
        script.keep_served()
        return component(**kwargs)

    return draw


def stylesheet(name: str) -> str:
    return (FRONTEND / name).read_text(encoding="utf-8")


def component_state(key: str, name: str) -> dict | None:
    """A component's state `name` as its page last set it (a dict), or None."""
    state = st.session_state.get(key)
    value = state.get(name) if isinstance(state, dict) else None
    return value if isinstance(value, dict) else None
