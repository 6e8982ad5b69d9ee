"""What a message for a person's input may not contain: the property every fuzz test checks."""

from __future__ import annotations

import re
import sys
import tempfile

from tests.conftest import PROJECT_DIR

# A CamelCase word is a Python class (ModelConfig, UnidentifiedImageError); these are not.
_WORDS = {"WebP", "GiB", "MiB", "KiB"}
_CAMEL = re.compile(r"\b[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+\b")
_LEAKS = ("<", ">", "Error(", "Traceback", "b'", 'b"', "0x", str(PROJECT_DIR), sys.prefix,
          tempfile.gettempdir(), "/usr/", "/home/", "/root/")


def assert_plain(message: str, names: tuple[str, ...] = ()) -> None:
    """`message` names every one of the person's `names` (files) and, apart from them, has no
    server path, no Python repr and no class name."""
    for name in names:
        assert name in message, f"{name!r} not named in {message!r}"
    rest = message
    for name in sorted(names, key=len, reverse=True):  # their own text may contain anything
        rest = rest.replace(name, "")
    assert rest.strip(), "an empty message"
    for leak in _LEAKS:
        assert leak not in rest, f"{leak!r} in {message!r}"
    classes = set(_CAMEL.findall(rest)) - _WORDS
    assert not classes, f"class names {classes} in {message!r}"
