"""Latent map's plane, scrubbed in the page: a component that decodes the point under the mouse.

Two latent dimensions span the plane (the others held at 0) over a faint scatter of the test
set's posterior means; the decoder is handed over as for Explore (ui/page_decoder.py).
"""

from __future__ import annotations

from .inline_js import served_component, stylesheet
from .page_decoder import PageDecoder, decoder_payload

MODULES = ("decoder.js", "page_decoder.js", "image_canvas.js", "latent_plane.js")
_COMPONENT = served_component(  # ~35 KB: a file the page fetches once, not sent per rerun
    "latent_lab.latent_plane", MODULES, stylesheet("latent_plane.css"))


def latent_plane(key: str, dims: tuple[int, int], latent_dim: int, decoder: PageDecoder,
                 limit: float = 3.0) -> None:
    control = {"dims": [int(d) for d in dims], "latent_dim": latent_dim, "limit": float(limit)}
    _COMPONENT(key=key, data=decoder_payload(control, key, decoder))
