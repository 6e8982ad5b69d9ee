"""The latent map drawn by the page: a dot per point for the overview and, zoomed in, each point's
own image, cut from one thumbnail atlas (ui/thumbnails.py); st.components.v2, its JavaScript in
ui/frontend/picture_*.js (picture_map.js the entry) and pixel_layer.js.

Wheel and drag zoom and pan in the page with no rerun; hovering enlarges the image under the
pointer; a box or lasso selection shows the selected images as a grid under the map. A click on a
point reports its example ("clicked" state), which the page shows beside the map. The atlas, the
one large part, is sent until the page reports ("atlas" state) that it holds it; the points go
with every rerun (12 bytes a point).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import plotly.colors
import streamlit as st

from vae_core.decoder_export import pack_envelope

from .figures_latent import CATEGORY_COLOURS, Colouring
from .inline_js import component_state, served_component, stylesheet
from .thumbnails import Atlas

MODULES = ("decoder.js", "scatter_points.js", "pixel_layer.js", "picture_draw.js",
           "picture_grid.js", "picture_input.js", "picture_map.js")  # ui/frontend/, in order
_COMPONENT = served_component(  # ~50 KB: a file the page fetches once, not sent per rerun
    "latent_lab.picture_map", MODULES, stylesheet("picture_map.css"))
ATLAS, CLICKED = "atlas", "clicked"  # states: {"id", "ok", "error"}, {"example", "at" (ms)}
SCALE_COLOURS = 64  # a continuous colouring is drawn in this many steps of Viridis


@dataclass(frozen=True)
class MapPoints:
    """coords (N, 2) of test examples `examples` (N,), coloured by `colouring` (N values)."""

    coords: np.ndarray
    examples: np.ndarray
    colouring: Colouring
    axis_titles: tuple[str, str]


def atlas_id(version: str, atlas: Atlas) -> str:
    """Names one atlas in the page's cache: the model version fixes the data."""
    return hashlib.sha1(f"{version}:{atlas.count}".encode()).hexdigest()[:16]


def palette_of(colouring: Colouring) -> tuple[np.ndarray, list[str], dict]:
    """(a palette index per point (uint8), the palette, the legend) for a colouring."""
    if colouring.names:
        palette = [CATEGORY_COLOURS[k % len(CATEGORY_COLOURS)] for k in range(len(colouring.names))]
        legend = {"kind": "categories", "names": list(colouring.names)}
        return colouring.values.astype(np.uint8), palette, legend
    values = np.asarray(colouring.values, dtype=np.float64)
    low, high = float(values.min()), float(values.max())
    steps = np.round((values - low) / max(high - low, 1e-12) * (SCALE_COLOURS - 1))
    palette = plotly.colors.sample_colorscale("Viridis", SCALE_COLOURS)
    legend = {"kind": "scale", "name": colouring.name, "low": low, "high": high}
    return steps.astype(np.uint8), palette, legend


def atlas_report(key: str, atlas_key: str) -> dict | None:
    """What the page last reported about this atlas: {"id", "ok", "error"}, or None."""
    held = component_state(key, ATLAS)
    return held if held and held.get("id") == atlas_key else None


def new_click(key: str) -> int | None:
    """The example of a click on the map this session has not yet been given, or None."""
    clicked = component_state(key, CLICKED)
    seen = f"{key}.seen_click"
    if not clicked or clicked == st.session_state.get(seen):
        return None
    st.session_state[seen] = clicked
    example = clicked.get("example")
    return example if isinstance(example, int) and not isinstance(example, bool) else None


def map_payload(points: MapPoints, atlas: Atlas, atlas_key: str, report: dict | None) -> bytes:
    """The component's data: the points every run; the atlas until the page's `report` on it
    says it holds it, or that it cannot read it."""
    colours, palette, legend = palette_of(points.colouring)
    report = report or {}
    in_page = bool(report.get("ok"))
    control = {
        "atlas": {"id": atlas_key, "in_page": in_page, "columns": atlas.columns,
                  "tile_height": atlas.tile_height, "tile_width": atlas.tile_width},
        "palette": palette, "legend": legend, "axes": list(points.axis_titles),
    }
    blobs = {
        "coords": np.ascontiguousarray(points.coords, dtype=np.float32).tobytes(),
        "examples": np.ascontiguousarray(points.examples, dtype=np.int32).tobytes(),
        "colours": colours.tobytes(),
        "values": np.ascontiguousarray(points.colouring.values, dtype=np.float32).tobytes(),
    }
    if not in_page and not report.get("error"):  # until the page holds it, or cannot read it
        blobs["atlas"] = atlas.png
    return pack_envelope(control, blobs)


def picture_map(key: str, points: MapPoints, atlas: Atlas, atlas_key: str) -> int | None:
    """Draw the map; returns the example of a new click on it, or None."""
    _COMPONENT(key=key, data=map_payload(points, atlas, atlas_key, atlas_report(key, atlas_key)))
    return new_click(key)
