"""Fuzzed image uploads through what Reconstruct and Explore run on every upload: the model
input (preprocess_image, every input style) and Reconstruct's "as uploaded" preview.

Property: the upload is used (a finite model input in [0, 1] and a preview with both sides at
least 1 px) or refused with an ImageInputError a person can read (tests/plain_messages.py)."""

from __future__ import annotations

import io
import struct
import warnings
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from tests.plain_messages import assert_plain
from ui.reconstruct_helpers import preview
from vae_core.data import ImageInputError, preprocess_image
from vae_core.data.preprocess import FORMATS

pytestmark = [pytest.mark.fuzz,
              pytest.mark.filterwarnings("ignore:IM image format is deprecated")]
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# (model image shape, input style): the shipped models' kinds of input.
MODELS = [((1, 28, 28), "mnist"), ((1, 8, 8), "digits"), ((1, 32, 32), "plain"),
          ((3, 32, 32), "plain")]
MODES = ["1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "LAB",
         "HSV", "I", "I;16", "I;16B", "F"]
PNG_CHUNKS = [b"tEXt", b"zTXt", b"iTXt", b"iCCP", b"eXIf", b"pHYs", b"sBIT", b"tRNS", b"PLTE",
              b"acTL", b"fcTL", b"fdAT", b"gAMA", b"cHRM", b"sRGB", b"IDAT", b"IEND", b"IHDR",
              b"abCD", b"ABCD"]
# A text chunk that inflates to 2 MB, past Pillow's 1 MB limit for one text chunk.
TEXT_BOMB = b"comment\0\0" + zlib.compress(bytes(2_000_000), 9)


def _encode(image: Image.Image, image_format: str) -> bytes | None:
    buffer = io.BytesIO()
    try:
        image.save(buffer, format=image_format)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # Pillow does not write this mode in this format
    return buffer.getvalue()


def _writable() -> list[tuple[str, str]]:
    """Every (mode, format) that Pillow writes here, found by writing a 3x2 image."""
    Image.init()  # registers every plugin's writer
    sample = Image.fromarray(np.arange(18, dtype=np.uint8).reshape(2, 3, 3) * 14, "RGB")
    pairs = []
    for mode in MODES:
        try:
            image = sample.convert(mode) if mode not in ("I;16", "I;16B") else \
                sample.convert("L").convert(mode)
        except ValueError:
            continue
        pairs += [(mode, fmt) for fmt in sorted(Image.SAVE) if _encode(image, fmt) is not None]
    return pairs


with warnings.catch_warnings():  # Pillow deprecates writing IM
    warnings.simplefilter("ignore", DeprecationWarning)
    WRITABLE = _writable()
# Half of the images in a format the app reads (the rest must be refused by their bytes).
READ = [pair for pair in WRITABLE if pair[1] in FORMATS]
FORMATS_DRAWN = st.sampled_from(READ) | st.sampled_from([p for p in WRITABLE if p not in READ])
SIZES = st.one_of(
    st.tuples(st.integers(1, 96), st.integers(1, 96)),
    st.tuples(st.integers(1, 20_000), st.integers(1, 3)),  # strips, as wide as a panorama
    st.tuples(st.integers(1, 3), st.integers(1, 20_000)),
)


@st.composite
def images(draw, kinds=FORMATS_DRAWN) -> bytes:
    """An image of any size and content, in a (mode, format) drawn from `kinds`."""
    width, height = draw(SIZES)
    mode, image_format = draw(kinds)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    content = draw(st.sampled_from(["noise", "flat", "stroke"]))
    pixels = np.full((height, width, 3), rng.integers(256), dtype=np.uint8)
    if content == "noise":
        pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    elif content == "stroke":
        middle = slice(height // 3, 2 * height // 3 + 1), slice(width // 3, 2 * width // 3 + 1)
        pixels[middle] = 255 - pixels[0, 0]
    image = Image.fromarray(pixels, "RGB")
    image = image.convert("L").convert(mode) if mode.startswith("I;16") else image.convert(mode)
    data = _encode(image, image_format)
    return data if data is not None else b""


def _png_chunk(kind: bytes, body: bytes, crc_ok: bool = True) -> bytes:
    crc = zlib.crc32(kind + body) if crc_ok else zlib.crc32(kind + body) ^ 1
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


@st.composite
def damaged(draw, data: bytes) -> bytes:
    """`data` cut short, with bytes changed, with a PNG chunk added, or claiming another size."""
    damage = draw(st.sampled_from(["none", "cut", "flip", "chunk", "claim"]))
    if damage == "cut":
        return data[: draw(st.integers(0, max(0, len(data) - 1)))]
    if damage == "flip" and data:
        changed = bytearray(data)
        for _ in range(draw(st.integers(1, 8))):
            changed[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(changed)
    is_png = data.startswith(b"\x89PNG\r\n\x1a\n")
    if damage == "chunk" and is_png:
        kind = draw(st.sampled_from(PNG_CHUNKS) | st.binary(min_size=4, max_size=4))
        body = draw(st.just(TEXT_BOMB) | st.binary(max_size=64))
        return data[:33] + _png_chunk(kind, body, draw(st.booleans())) + data[33:]
    if damage == "claim" and is_png:  # a header that claims any size, up to PNG's 2**31 - 1
        size = struct.pack(">II", draw(st.integers(1, 2**31 - 1)), draw(st.integers(1, 2**31 - 1)))
        header = b"IHDR" + size + data[24:29]
        return data[:12] + header + struct.pack(">I", zlib.crc32(header)) + data[33:]
    return data


@st.composite
def uploads(draw, kinds=FORMATS_DRAWN) -> bytes:
    return draw(damaged(draw(images(kinds))))


PNGS = st.sampled_from([pair for pair in WRITABLE if pair[1] == "PNG"])


def check_upload(data: bytes, image_shape: tuple[int, int, int], style: str) -> None:
    """The property, for one upload and one model."""
    try:
        x = preprocess_image(data, image_shape, style)
        shown = preview(data)
    except ImageInputError as error:
        assert_plain(str(error))
        return
    assert tuple(x.shape) == image_shape and bool(x.isfinite().all())
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    assert min(shown.size) >= 1


@FUZZ
@given(data=uploads(), model=st.sampled_from(MODELS))
def test_any_upload_is_used_or_refused_plainly(data, model):
    check_upload(data, *model)


@FUZZ
@given(data=uploads(PNGS), model=st.sampled_from(MODELS))
def test_any_png_with_odd_chunks_or_claimed_sizes_is_used_or_refused_plainly(data, model):
    check_upload(data, *model)


@FUZZ
@given(data=st.binary(max_size=256), model=st.sampled_from(MODELS))
@example(data=b"", model=MODELS[0])
def test_any_bytes_are_used_or_refused_plainly(data, model):
    check_upload(data, *model)
