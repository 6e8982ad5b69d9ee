"""preprocess_image: any uploaded image -> a model input, refusing what cannot be used."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from vae_core.data import ImageInputError, ImageTooLargeError, preprocess_image


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _digit(mode: str = "L", ink: int | tuple = 0, paper: int | tuple = 255) -> Image.Image:
    """A thick '7' drawn off-centre (top-left) on a 200x150 sheet."""
    image = Image.new(mode, (200, 150), paper)
    draw = ImageDraw.Draw(image)
    draw.line([(20, 15), (90, 15), (45, 110)], fill=ink, width=12)
    return image


def _huge_png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height but which holds almost no pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grayscale
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _centre_of_mass(image: torch.Tensor) -> tuple[float, float]:
    idx_r = torch.arange(image.shape[0], dtype=torch.float32)
    idx_c = torch.arange(image.shape[1], dtype=torch.float32)
    total = image.sum()
    return float((image.sum(1) * idx_r).sum() / total), float((image.sum(0) * idx_c).sum() / total)


def test_black_on_white_digit_becomes_mnist_like() -> None:
    out = preprocess_image(_png(_digit()), (1, 28, 28), style="mnist")
    assert out.shape == (1, 28, 28) and out.dtype == torch.float32
    assert out.min() >= 0 and out.max() == pytest.approx(1.0, abs=0.05)
    image = out[0]
    border = torch.cat([image[0], image[-1], image[:, 0], image[:, -1]])
    assert border.max() < 0.05  # inverted: dark background, bright ink
    r, c = _centre_of_mass(image)
    assert abs(r - 13.5) <= 1 and abs(c - 13.5) <= 1
    rows = torch.nonzero(image.sum(1) > 0.05).flatten()
    assert 18 <= rows.max() - rows.min() + 1 <= 22  # longest side scaled to ~20 of 28


def test_light_on_dark_is_not_inverted() -> None:
    out = preprocess_image(_png(_digit(ink=255, paper=0)), (1, 28, 28), style="mnist")
    assert out[0, 0].max() < 0.05 and out.max() > 0.9


def test_digits_style_fills_the_8x8_frame() -> None:
    out = preprocess_image(_png(_digit()), (1, 8, 8), style="digits")
    assert out.shape == (1, 8, 8)
    rows = torch.nonzero(out[0].sum(1) > 0.05).flatten()
    assert rows.max() - rows.min() + 1 >= 7


def test_rgba_dark_ink_on_transparent() -> None:
    image = _digit("RGBA", ink=(0, 0, 0, 255), paper=(0, 0, 0, 0))  # black on transparent
    out = preprocess_image(_png(image), (1, 28, 28), style="mnist")
    assert out.max() > 0.9 and out[0, 0].max() < 0.05
    plain = preprocess_image(_png(image), (3, 32, 32), style="plain")
    assert plain.shape == (3, 32, 32)
    assert plain[:, 0, -1].min() > 0.95  # the transparent corner became white paper


def test_rgba_light_ink_on_transparent_does_not_vanish() -> None:
    image = _digit("RGBA", ink=(255, 255, 255, 255), paper=(255, 255, 255, 0))
    out = preprocess_image(_png(image), (1, 28, 28), style="mnist")
    assert out.max() > 0.9


def test_palette_with_transparency() -> None:
    image = _digit("RGBA", ink=(0, 0, 0, 255), paper=(0, 0, 0, 0)).convert("P")
    out = preprocess_image(_png(image), (1, 28, 28), style="mnist")
    assert out.max() > 0.9


def test_16_bit_grayscale() -> None:
    pixels = np.zeros((60, 60), dtype=np.uint16)
    pixels[10:50, 25:35] = 60000
    image = Image.fromarray(pixels)
    assert image.mode.startswith("I")
    data = _png(image)
    plain = preprocess_image(data, (1, 60, 60), style="plain")
    assert plain[0, 30, 30] == pytest.approx(60000 / 65535, abs=0.01)
    assert plain[0, 0, 0] == 0
    mnist = preprocess_image(data, (1, 28, 28), style="mnist")
    assert mnist.max() > 0.9


def test_tiny_image() -> None:
    data = _png(Image.new("L", (1, 1), 200))
    out = preprocess_image(data, (1, 28, 28), style="plain")
    assert out.shape == (1, 28, 28) and torch.allclose(out, torch.full_like(out, 200 / 255))
    with pytest.raises(ImageInputError, match="blank"):
        preprocess_image(data, (1, 28, 28), style="mnist")


def test_blank_page_is_refused_for_digits() -> None:
    with pytest.raises(ImageInputError, match="blank"):
        preprocess_image(_png(Image.new("L", (64, 64), 255)), (1, 28, 28), style="mnist")


def test_huge_dimensions_refused_from_the_header() -> None:
    with pytest.raises(ImageTooLargeError, match="megapixels"):
        preprocess_image(_huge_png_header(8_000, 8_000), (1, 28, 28))
    with pytest.raises(ImageTooLargeError):  # past PIL's own bomb limit too
        preprocess_image(_huge_png_header(60_000, 60_000), (1, 28, 28))


def _with_text_bomb(png: bytes) -> bytes:
    """A zTXt chunk that unpacks to 2 MB, past Pillow's 1 MB for one text chunk, after IHDR."""
    body = b"comment\0\0" + zlib.compress(bytes(2_000_000), 9)
    chunk = struct.pack(">I", len(body)) + b"zTXt" + body
    return png[:33] + chunk + struct.pack(">I", zlib.crc32(b"zTXt" + body)) + png[33:]


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "empty"),
        (np.random.default_rng(0).bytes(4096), "not an image"),
        (b"hello, this is a text file\n" * 20, "not an image"),
        (_png(Image.new("L", (64, 64), 255))[:60], "PNG image is damaged or cut short"),
        (_with_text_bomb(_png(Image.new("L", (64, 64), 255))),
         "PNG image carries more text metadata than the app unpacks"),
    ],
    ids=["empty", "random", "text", "truncated", "text-bomb"],
)
def test_unusable_files_are_refused(data: bytes, match: str) -> None:
    with pytest.raises(ImageInputError, match=match) as refused:
        preprocess_image(data, (1, 28, 28))
    assert "<" not in str(refused.value) and "0x" not in str(refused.value)  # no Python repr


def _saved(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["TIFF", "PPM", "TGA", "ICO", "PCX"])
def test_formats_the_app_does_not_offer_are_refused_by_content(fmt: str) -> None:
    with pytest.raises(ImageInputError, match="not an image in a format the app reads"):
        preprocess_image(_saved(_digit(), fmt), (1, 28, 28))


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "BMP", "GIF", "WEBP"])
def test_the_offered_formats_open_whatever_the_file_is_called(fmt: str) -> None:
    out = preprocess_image(_saved(_digit(), fmt), (1, 28, 28), style="mnist")
    assert out.shape == (1, 28, 28) and out.max() == 1.0


def test_an_eps_upload_never_reaches_ghostscript(monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import EpsImagePlugin

    calls = []
    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", lambda *a, **k: calls.append(a))
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 28 28\nshowpage\n%%EOF\n"
    with pytest.raises(ImageInputError, match="not an image in a format the app reads"):
        preprocess_image(eps, (1, 28, 28))
    assert calls == []


def test_the_bomb_check_sets_no_process_wide_warning_filter(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """warnings.catch_warnings() swaps the filters of every thread: two sessions decoding at
    once would lose or leak each other's filter. Pillow's own warning may be logged instead."""
    from types import SimpleNamespace

    from vae_core.data import preprocess

    def forbidden(*args, **kwargs):
        raise AssertionError("catch_warnings is not thread-safe across sessions")
    monkeypatch.setattr(preprocess, "warnings", SimpleNamespace(catch_warnings=forbidden),
                        raising=False)
    preprocess_image(_png(_digit()), (1, 28, 28))
    with pytest.raises(ImageTooLargeError, match="megapixels"), \
            pytest.warns(Image.DecompressionBombWarning):  # past PIL's warning limit
        preprocess_image(_huge_png_header(10_000, 10_000), (1, 28, 28))
    with pytest.raises(ImageTooLargeError, match="megapixels"):  # past PIL's error limit
        preprocess_image(_huge_png_header(60_000, 60_000), (1, 28, 28))


@pytest.mark.parametrize("shape", [(1, 28, 28), (1, 8, 8), (3, 32, 32)])
@pytest.mark.parametrize("style", ["plain", "mnist", "digits"])
def test_output_shapes(shape: tuple[int, int, int], style: str) -> None:
    colour = _digit("RGB", ink=(200, 20, 20), paper=(250, 250, 240))
    out = preprocess_image(_png(colour), shape, style=style)
    assert out.shape == shape and out.dtype == torch.float32
    assert out.min() >= 0 and out.max() <= 1


def test_jpeg_and_plain_centre_crop() -> None:
    image = Image.new("RGB", (300, 100), (0, 0, 255))
    ImageDraw.Draw(image).rectangle([100, 0, 199, 99], fill=(255, 0, 0))  # red middle third
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95)
    out = preprocess_image(buffer.getvalue(), (3, 16, 16), style="plain")
    assert out[0].mean() > 0.9 and out[2].mean() < 0.1  # only the red square survives the crop
