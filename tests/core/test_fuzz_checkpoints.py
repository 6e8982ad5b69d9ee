"""Fuzzed checkpoint uploads (config.json beside model.safetensors) through
load_checkpoint_bytes, what the sidebar's uploader runs: random keys, values of any JSON type,
nesting and sizes, in every section of a real config.

Property: the checkpoint loads, or a CheckpointError names the file at fault and reads plainly
(tests/plain_messages.py)."""

from __future__ import annotations

import copy
import json
from typing import NamedTuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import make_tiny_checkpoint
from tests.plain_messages import assert_plain
from vae_core.checkpoint import load_checkpoint_bytes
from vae_core.checkpoint_checks import CheckpointError

pytestmark = pytest.mark.fuzz
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
FILES = ("config.json", "model.safetensors")

# The person's own text is echoed in some messages: none of it (no capitals, no b or x, no /)
# looks like a repr, a class name or a path, so such text in a message came from the server.
TEXT = st.text(alphabet="acdefghijklmnopqrstuvwyz0123456789 _-.,:é€ü😀\"\\\n\t", max_size=20)
KEYS = st.sampled_from(["model", "data", "train", "metadata", "format_version", "latent_dim",
                        "hidden", "dense", "image_shape", "arch", "likelihood", "kind", "name",
                        "path", "image_size", "epochs", "test", "neg_elbo", "kl_per_dim",
                        "kl_per_dimension", "disentanglement", "colour"]) | TEXT
SCALARS = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | TEXT)
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=5)
                           | st.dictionaries(KEYS, inner, max_size=5), max_leaves=20)
# The sizes a model config holds, from nothing to far past every limit.
SIZES = st.integers(-2, 70_000) | st.lists(st.integers(-2, 70_000), max_size=10)


class Upload(NamedTuple):
    document: dict
    weights: bytes

    def __repr__(self) -> str:  # a failing example prints it; the weights are 100 kB
        return "Upload(tiny mnist32)"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Upload:
    directory = make_tiny_checkpoint(tmp_path_factory.mktemp("fuzz") / "tiny", "mnist32")
    return Upload(json.loads((directory / "config.json").read_text()),
                  (directory / "model.safetensors").read_bytes())


def _paths(document, prefix=()):
    """Every (key path) in a JSON document, the document itself first."""
    yield prefix
    items = document.items() if isinstance(document, dict) else (
        enumerate(document) if isinstance(document, list) else ())
    for key, value in items:
        yield from _paths(value, (*prefix, key))


@st.composite
def edited(draw, document: dict) -> dict:
    """`document` with one to four places set, added to or deleted."""
    document = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, 4))):
        *parent_path, key = draw(st.sampled_from(list(_paths(document))[1:]))
        parent = document
        for step in parent_path:
            parent = parent[step]
        action = draw(st.sampled_from(["set", "size", "add", "delete"]))
        if action == "delete":
            del parent[key]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(KEYS)] = draw(JSON_VALUES)
        else:
            parent[key] = draw(SIZES if action == "size" else JSON_VALUES)
    return document


def _check(text: bytes, weights: bytes) -> None:
    try:
        load_checkpoint_bytes(weights, text)
    except CheckpointError as error:
        message = str(error)
        assert any(name in message for name in FILES), f"no file named in {message!r}"
        assert_plain(message)


@FUZZ
@given(data=st.data())
def test_any_edited_config_loads_or_is_refused_plainly(checkpoint, data):
    document, weights = checkpoint
    _check(json.dumps(data.draw(edited(document))).encode(), weights)


@FUZZ
@given(document=JSON_VALUES)
def test_any_json_document_is_refused_plainly(checkpoint, document):
    _check(json.dumps(document).encode(), checkpoint[1])


@FUZZ
@given(text=st.binary(max_size=200) | TEXT.map(str.encode))
def test_any_bytes_as_config_are_refused_plainly(checkpoint, text):
    _check(text, checkpoint[1])
