"""All latent sliders in one custom element (st.components.v2), which can also decode in the page.

Python hears z when a move ends: on release, on a key press, or when a drag pauses (the browser
waits PAUSE_MS of stillness); never per frame. Given a `PageDecoder`, the element loads the
decoder's weights once per model version, runs it in the page and redraws the decoder's mean
on every animation frame; given `samples`, it also draws samples x ~ p(x|z) with the server's
generator (vae_core.hashed_samples, ui/frontend/page_samples.js), a traversal strip and the
nearest test images to z (ui/neighbours.py). It reports whether it decodes through its "decoder"
state, and until it does the page shows the server's images. The JS and CSS live in ui/frontend/;
the CSS is inlined, the JS (~100 KB) served as a file the page fetches once (ui/inline_js.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import streamlit as st

from .inline_js import component_state, served_component, stylesheet
from .page_decoder import PageDecoder, decoder_payload

MODULES = ("decoder.js", "page_decoder.js", "image_canvas.js", "latent_pad.js",
           "preview_strips.js", "latent_sliders.js")  # ui/frontend/, in dependency order
_COMPONENT = served_component(
    "latent_lab.latent_sliders", MODULES,
    stylesheet("latent_sliders.css") + stylesheet("page_samples.css"))
MOVED = "moved"  # state: {"values": [...], "seq": n, "revision": r}, values in display order
SEED = "seed"  # state: the sample seed the page's "New samples" button asks for (an int)
PAUSE_MS = 300  # a drag this still for this long is a pause: the page sends z


@dataclass(frozen=True)
class PageSamples:
    """Samples x ~ p(x|z) for the page to draw: `n` of them from `seed`, `scale` pixels per
    image pixel, under `caption`."""

    seed: int
    n: int
    scale: int
    caption: str  # what they are, e.g. "binary (Bernoulli)"
    family: str  # "bernoulli" or "gaussian": how a pixel is drawn from the decoded parameters


def asked_seed(key: str) -> int | None:
    """The sample seed the page's "New samples" button last asked for, or None."""
    state = st.session_state.get(key)
    seed = state.get(SEED) if isinstance(state, dict) else None
    return seed if isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0 else None


def moved_values(key: str, revision: int) -> list[float] | None:
    """The values the user moved the sliders to since `revision` was drawn, or None.

    A move made before the revision (a button set z meanwhile) is stale and gives None.
    Readable before the sliders are drawn, so a page can use it to draw what depends on it first.
    """
    moved = component_state(key, MOVED)
    if moved is None or moved.get("revision") != revision:
        return None
    try:
        return [float(v) for v in moved["values"]]
    except (KeyError, TypeError, ValueError):
        return None


def latent_sliders(
    labels: list[str],
    values: list[float],
    key: str,
    limit: float = 3.0,
    step: float = 0.05,
    *,
    revision: int = 0,
    muted: Sequence[bool] = (),
    order: Sequence[int] = (),
    decoder: PageDecoder | None = None,
    samples: PageSamples | None = None,
    traversal_steps: int = 0,
    neighbours: dict | None = None,
    caption: str = "",
) -> list[float]:
    """Draw one range input per label; returns the values they show.

    The browser applies `values` when the sliders are first drawn and whenever `revision`
    changes; otherwise it keeps the user's own values (Python's may be stale during a drag).
    So bump `revision` whenever something other than these sliders sets the values.
    `muted` greys out rows (e.g. collapsed dimensions); `order[i]` is the latent dimension of
    row i (the decoder needs z in dimension order). With `decoder`, the page decodes too, and
    draws `samples`, a traversal of `traversal_steps` means along a dimension it offers and,
    given `neighbours` (ui/neighbours.py page_strip), the nearest test images to z. `caption`
    goes under the sliders (in the element: a caption of its own would cost a move's rerun one
    more element to send and render).
    """
    values = [float(v) for v in values]
    control = {
        "key": key,
        "labels": list(labels),
        "values": values,  # applied only on a new revision or a fresh mount
        "muted": [bool(m) for m in muted] or [False] * len(labels),
        "order": [int(j) for j in order] or list(range(len(labels))),
        "limit": float(limit),
        "step": float(step),
        "revision": revision,
        "pause_ms": PAUSE_MS,
        "heard": (component_state(key, MOVED) or {}).get("seq"),  # the last move Python has read
        "samples": asdict(samples) if samples else None,
        "traversal_steps": int(traversal_steps),
        "neighbours": neighbours,
        "caption": caption,
    }
    _COMPONENT(key=key, data=decoder_payload(control, key, decoder))
    return moved_values(key, revision) or values
