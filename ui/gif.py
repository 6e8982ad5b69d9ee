"""Animated GIFs from PIL frames, made in memory for st.download_button."""

from __future__ import annotations

import io

from PIL import Image


def encode_gif(frames: list[Image.Image], duration_ms: int = 250, loop: int = 0) -> bytes:
    """GIF bytes showing `frames` in order, each for `duration_ms`; loop=0 repeats forever.

    Frames should already be upscaled with nearest-neighbour: a GIF viewer scales smoothly.
    """
    if not frames:
        raise ValueError("a GIF needs at least one frame")
    buffer = io.BytesIO()
    first, *rest = frames
    # Pillow merges identical consecutive frames into one longer frame: the timing stays right.
    first.save(buffer, format="GIF", save_all=True, append_images=rest, duration=duration_ms,
               loop=loop)
    return buffer.getvalue()
