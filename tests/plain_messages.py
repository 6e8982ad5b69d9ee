"""What a message for a person's input may not contain: the property every fuzz test checks."""

from __future__ import annotations

import re
import sys
import tempfile

from tests.conftest import PROJECT_DIR

# A CamelCase word is a Python class (ModelConfig, UnidentifiedImageError); these are not.
WORDS = {"WebP", "GiB", "MiB", "KiB", "NaN", "PyTorch"}
CAMEL = re.compile(r"\b[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+\b")
# <class 'dict'>, <_io.BytesIO object at ...>, b'\x89PNG'
REPR = re.compile(r"<[A-Za-z_][\w.]*[\s>]|(?<![\w\"'])b['\"]")
_ADDRESS = re.compile(r"\b0x[0-9a-f]+")  # an object's address; not the 0x of "570x70176"
_LEAKS = ("Error(", "Traceback", str(PROJECT_DIR), sys.prefix,
          tempfile.gettempdir(), "/usr/", "/home/", "/root/")


def assert_plain(message: str, names: tuple[str, ...] = (), echoed: tuple[str, ...] = ()) -> None:
    """`message` names every one of the person's `names` (files) and, apart from them and the
    person's other text it may quote (`echoed`), has no server path, Python repr or class name."""
    for name in names:
        assert name in message, f"{name!r} not named in {message!r}"
    rest = message
    for text in sorted({*names, *echoed}, key=len, reverse=True):  # theirs may hold anything
        rest = rest.replace(text, "") if text else rest
    assert rest.strip(), "an empty message"
    for leak in _LEAKS:
        assert leak not in rest, f"{leak!r} in {message!r}"
    assert not REPR.search(rest), f"a Python repr in {message!r}"
    assert not _ADDRESS.search(rest), f"a memory address in {message!r}"
    classes = set(CAMEL.findall(rest)) - WORDS
    assert not classes, f"class names {classes} in {message!r}"
