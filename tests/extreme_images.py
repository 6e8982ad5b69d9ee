"""Images at the edges of what an uploader takes, shared by the AppTest and browser tests."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

# (width, height): a 10000x3 upload once crashed Reconstruct's preview (scaled to 280x0).
EXTREME_SIZES = [(10_000, 3), (3, 10_000)]


def strip_png(width: int, height: int) -> bytes:
    """A white strip with a dark stroke across its middle fifth, along its long side: ink that
    the digit preprocessing finds, so the upload gets as far as the preview."""
    image = Image.new("L", (width, height), 255)
    if width >= height:
        box = (2 * width // 5, 0, 3 * width // 5, height - 1)
    else:
        box = (0, 2 * height // 5, width - 1, 3 * height // 5)
    ImageDraw.Draw(image).rectangle(box, fill=0)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def strip_name(width: int, height: int) -> str:
    return f"strip-{width}x{height}.png"
