"""Every message the app can show for a person's bad input, read where it is raised: the text
of each `raise <input error>(...)` in vae_core/ and ui/ holds no server path, no Python repr
(an f-string's `!r`, repr(), %r) and no class name. The fuzz tests check the messages they
happen to reach; this reads them all, including those no generated input got to."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import PROJECT_DIR
from tests.plain_messages import CAMEL, REPR, WORDS

# The project's errors whose text a page shows for what a person typed or uploaded.
INPUT_ERRORS = {"ImageInputError", "ImageTooLargeError", "DatasetError", "ConfigError",
                "CheckpointError", "ModelImportError", "OnnxFileError", "UnsupportedLayerError",
                "RunError", "RunLimitReached"}
SOURCES = sorted([*PROJECT_DIR.glob("vae_core/**/*.py"), *PROJECT_DIR.glob("ui/**/*.py")])
_SERVER_PATH = re.compile(r"(?:^|[\s'\"(=])/(?:[\w.-]+/)+|site-packages|\.venv\b")


@dataclass(frozen=True)
class RaiseSite:
    line: int
    text: str  # the message's literal parts, "…" where a value goes
    reprs: int  # !r conversions, repr() calls


def _constants(tree: ast.Module) -> dict[str, ast.expr]:
    """Module-level NAME = <expr>, so a message kept in a constant is read too."""
    return {target.id: node.value for node in tree.body if isinstance(node, ast.Assign)
            for target in node.targets if isinstance(target, ast.Name)}


def _literal_text(node: ast.AST, constants: dict[str, ast.expr]) -> str:
    parts = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            parts.append(sub.value)
        elif isinstance(sub, ast.FormattedValue):
            parts.append("…")
        elif isinstance(sub, ast.Name) and sub.id in constants:
            parts.append(_literal_text(constants[sub.id], {}))
    return "".join(parts)


def _reprs(node: ast.AST) -> int:
    return sum((isinstance(sub, ast.FormattedValue) and sub.conversion == ord("r"))
               or (isinstance(sub, ast.Call) and ast.unparse(sub.func) == "repr")
               for sub in ast.walk(node))


def raise_sites(path: Path) -> list[RaiseSite]:
    tree = ast.parse(path.read_text())
    constants = _constants(tree)
    return [RaiseSite(node.lineno, _literal_text(node.exc, constants), _reprs(node.exc))
            for node in ast.walk(tree)
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
            and ast.unparse(node.exc.func).split(".")[-1] in INPUT_ERRORS]


def problems(site: RaiseSite) -> list[str]:
    found = [f"{site.reprs} repr(s)"] if site.reprs else []
    if "%r" in site.text or REPR.search(site.text):
        found.append("a repr in the text")
    if _SERVER_PATH.search(site.text):
        found.append("a server path")
    if classes := set(CAMEL.findall(site.text)) - WORDS:
        found.append(f"class names {sorted(classes)}")
    return found


def _relative(path: Path) -> str:
    return path.relative_to(PROJECT_DIR).as_posix()


def test_the_raise_sites_are_found():
    """A rename of the error classes must not leave the check reading nothing."""
    counts = {_relative(path): len(raise_sites(path)) for path in SOURCES}
    assert sum(counts.values()) > 100
    assert counts["vae_core/data/image_source.py"] >= 8


@pytest.mark.parametrize("path", SOURCES, ids=_relative)
def test_messages_for_bad_input_show_no_server_path_repr_or_class(path):
    found = {f"{_relative(path)}:{site.line}": problems(site) for site in raise_sites(path)}
    assert not {where: what for where, what in found.items() if what}


def test_the_check_finds_a_planted_repr_path_and_class_name(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text(
        'TOO_BIG = "ModelConfig says too big"\n'
        "def check(name):\n"
        '    raise DatasetError(f"{name!r} is missing")\n'
        '    raise ConfigError(f"cannot read /srv/lab/{name}")\n'
        "    raise CheckpointError(TOO_BIG)\n"
        '    raise ValueError(f"{name!r}: not an input error, not read")\n')
    assert [problems(site) for site in raise_sites(planted)] == [
        ["1 repr(s)"], ["a server path"], ["class names ['ModelConfig']"]]
