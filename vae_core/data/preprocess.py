"""Turn one uploaded image file into a model input shaped like the training data.

Uploads are untrusted: they are decoded only by PIL (never pickle), checked for size before
the pixels are decoded, and every refusal is an ImageInputError a person can act on.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from vae_core.data.errors import ImageInputError, ImageTooLargeError

MAX_PIXELS = 40_000_000
# The formats the app offers, decided from the bytes (Pillow's `formats=`), not the name: no
# other decoder ever sees an upload (EPS, for one, would run Ghostscript).
FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP")
STYLES = ("plain", "mnist", "digits")
# Ink fills this fraction of the frame: MNIST fits digits in a 20x20 box of 28x28; sklearn's
# digits were normalised to fill their 8x8 box (checked on the data: every digit spans 8 rows).
_FILL = {"mnist": 20 / 28, "digits": 1.0}
_DECODE_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, IndexError)
_NOT_AN_IMAGE = ("This file is not an image in a format the app reads (PNG, JPEG, BMP, GIF or "
                 "WebP). Choose an image file in one of these formats.")
_TEXT_BOMB = ("This PNG image carries more text metadata than the app unpacks (a text chunk over "
              "1 MB once unpacked). Export it again without metadata and choose the new file.")


def open_image(data: bytes, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Decode image bytes with PIL, refusing empty data, other formats and huge images.

    The size is checked from the header before the pixels are decoded, so a small file that
    claims to be enormous (a decompression bomb) costs nothing. Messages name no Python object:
    callers put the person's file name in front.
    """
    if not data:
        raise ImageInputError("The file is empty (0 bytes). Choose an image file.")
    try:
        # Pillow itself raises DecompressionBombError past 2 * MAX_IMAGE_PIXELS; below that the
        # size check here refuses first. No warnings filter: it would be process-wide.
        image = Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError as error:
        raise ImageTooLargeError(
            f"The image is over {2 * Image.MAX_IMAGE_PIXELS / 1e6:.0f} megapixels; the limit is "
            f"{max_pixels / 1e6:.0f} megapixels. Resize it and try again.") from error
    except _DECODE_ERRORS as error:
        raise ImageInputError(_TEXT_BOMB if _text_bomb(error) else _NOT_AN_IMAGE) from error
    width, height = image.size
    if width * height > max_pixels:
        raise ImageTooLargeError(_too_large(width, height, max_pixels))
    try:
        image.load()  # the real decode: truncated or corrupt data fails here
    except _DECODE_ERRORS as error:
        raise ImageInputError(_TEXT_BOMB if _text_bomb(error) else (
            f"This {image.format} image is damaged or cut short. Save or export it again and "
            "choose the new file.")) from error
    return image


def _text_bomb(error: Exception) -> bool:
    """Pillow refuses PNG text chunks that unpack past its limits with a ValueError naming
    them (MAX_TEXT_CHUNK, MAX_TEXT_MEMORY), while opening or decoding: a text bomb or a huge
    metadata block, not a damaged file."""
    return isinstance(error, ValueError) and "MAX_TEXT" in str(error)


def _too_large(width: int, height: int, max_pixels: int) -> str:
    return (
        f"The image is {width}x{height} pixels ({width * height / 1e6:.0f} megapixels); "
        f"the limit is {max_pixels / 1e6:.0f} megapixels. Resize it and try again."
    )


def to_mode(image: Image.Image, mode: str) -> Image.Image:
    """Convert any PIL mode to 'L' or 'RGB', flattening transparency and 16/32-bit depth.

    Transparent pixels go onto white when the visible content is dark and onto black when it
    is light, so a drawing on a transparent background never vanishes into its background.
    """
    image = _to_8bit(image)
    if image.mode == "P" or image.mode.endswith(("A", "a")) or "transparency" in image.info:
        rgba = image.convert("RGBA")
        alpha = np.asarray(rgba.getchannel("A"), dtype=np.float32) / 255.0
        gray = np.asarray(rgba.convert("L"), dtype=np.float32)
        dark_content = alpha.sum() == 0 or (gray * alpha).sum() / alpha.sum() < 128
        background = Image.new(
            "RGBA", rgba.size, (255, 255, 255, 255) if dark_content else (0, 0, 0, 255)
        )
        image = Image.alpha_composite(background, rgba)
    try:  # CMYK, YCbCr, HSV, '1', ... all reach L/RGB by way of RGB
        return (
            image.convert(mode)
            if image.mode in ("L", "RGB")
            else image.convert("RGB").convert(mode)
        )
    except (ValueError, OSError) as error:
        raise ImageInputError(
            f"Cannot convert this {image.mode} image to {mode}: {error}"
        ) from error


def _to_8bit(image: Image.Image) -> Image.Image:
    """16-bit ('I;16*'), 32-bit int ('I') and float ('F') grayscale -> 8-bit 'L'."""
    if not (image.mode.startswith("I") or image.mode == "F"):
        return image
    values = np.asarray(image, dtype=np.float64)
    if image.mode.startswith("I;16"):
        top = 65535.0
    elif image.mode == "F" and values.max(initial=0) <= 1.0:
        top = 1.0
    else:  # 'I' or 'F' of unknown range: 16-bit PNGs often open as 'I'
        top = 255.0 if values.max(initial=0) <= 255 else max(65535.0, values.max())
    return Image.fromarray(np.clip(values / top * 255.0, 0, 255).round().astype(np.uint8), "L")


def preprocess_image(
    data: bytes, image_shape: tuple[int, int, int], style: str = "plain"
) -> torch.Tensor:
    """One uploaded image file -> (C, H, W) float32 in [0, 1] for a model of image_shape.

    style 'plain': centre-crop to the target aspect and resize.
    style 'mnist' / 'digits': make the ink bright on dark, crop to it, scale it into the
    frame and centre it (MNIST: by centre of mass) like the digits the model was trained on.
    """
    channels, height, width = image_shape
    if channels not in (1, 3):
        raise ValueError(f"image_shape must have 1 or 3 channels, got {channels}")
    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}, got {style!r}")
    image = open_image(data)
    # Phone photos store their rotation in EXIF; apply it so the digit is upright. Broken EXIF
    # must not block an otherwise fine image.
    with contextlib.suppress(*_DECODE_ERRORS, KeyError, TypeError):
        image = ImageOps.exif_transpose(image)
    image = to_mode(image, "L" if channels == 1 else "RGB")
    if style == "plain":
        fitted = ImageOps.fit(image, (width, height), method=Image.Resampling.LANCZOS)
        pixels = np.asarray(fitted, dtype=np.float32) / 255.0
    else:
        pixels = _digit_like(np.asarray(image, dtype=np.float32) / 255.0, height, width, style)
    pixels = pixels.reshape(height, width, channels)
    return torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1))).clamp_(0.0, 1.0)


def _digit_like(pixels: np.ndarray, height: int, width: int, style: str) -> np.ndarray:
    """(h, w[, c]) in [0, 1] -> (height, width[, c]) bright ink on black, framed like the data."""
    ink = _isolate_ink(pixels)
    luminance = ink if ink.ndim == 2 else ink.mean(axis=2)
    rows, cols = np.nonzero(luminance)
    crop = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    fill = _FILL[style]
    scale = min(fill * height / crop.shape[0], fill * width / crop.shape[1])
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    resized = _resize_float(crop, size)
    canvas = np.zeros((height, width, *resized.shape[2:]), dtype=np.float32)
    if style == "mnist":  # MNIST centres the centre of mass, not the bounding box
        top, left = _com_offset(resized, height, width)
    else:
        top, left = (height - resized.shape[0]) // 2, (width - resized.shape[1]) // 2
    _paste(canvas, resized, top, left)
    return canvas


def _isolate_ink(pixels: np.ndarray) -> np.ndarray:
    """Make the ink bright on a zero background, with the ink's peak at 1.

    The background is the median of the border pixels: a light one (paper) is inverted, and
    what remains of it (grey paper, shadows) is subtracted so only the strokes stay lit.
    """
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    background = np.median(border, axis=0)
    if np.mean(background) > 0.5:
        pixels, background = 1.0 - pixels, 1.0 - background
    ink = np.clip((pixels - background) / np.maximum(1.0 - background, 1e-6), 0.0, 1.0)
    peak = ink.max()
    if peak < 0.1:
        raise ImageInputError(
            "The image looks blank: no strokes stand out from the background. "
            "Draw or photograph a dark digit on light paper (or light on dark)."
        )
    ink = ink / peak
    ink[ink < 0.1] = 0.0  # paper grain and JPEG noise would otherwise widen the crop
    return ink


def _resize_float(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize each channel as a float image (no 8-bit rounding) with Lanczos -> clipped [0, 1]."""
    planes = pixels[..., None] if pixels.ndim == 2 else pixels
    out = [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(planes[..., c]), "F").resize(
                size, Image.Resampling.LANCZOS, reducing_gap=3.0
            )
        )
        for c in range(planes.shape[2])
    ]
    stacked = np.clip(np.stack(out, axis=2), 0.0, 1.0)
    return stacked[..., 0] if pixels.ndim == 2 else stacked


def _com_offset(patch: np.ndarray, height: int, width: int) -> tuple[int, int]:
    """Top-left position that puts the patch's centre of mass at the canvas centre."""
    mass = patch if patch.ndim == 2 else patch.mean(axis=2)
    total = mass.sum()
    r = (mass.sum(axis=1) * np.arange(mass.shape[0])).sum() / total
    c = (mass.sum(axis=0) * np.arange(mass.shape[1])).sum() / total
    return round((height - 1) / 2 - r), round((width - 1) / 2 - c)


def _paste(canvas: np.ndarray, patch: np.ndarray, top: int, left: int) -> None:
    """Copy patch into canvas at (top, left), clipping whatever falls outside."""
    h, w = canvas.shape[:2]
    t0, l0 = max(top, 0), max(left, 0)
    t1, l1 = min(top + patch.shape[0], h), min(left + patch.shape[1], w)
    if t0 < t1 and l0 < l1:
        canvas[t0:t1, l0:l1] = patch[t0 - top : t1 - top, l0 - left : l1 - left]
