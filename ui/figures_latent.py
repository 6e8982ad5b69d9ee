"""Plotly figures of the latent map: the scatter, its sigma ellipses, images placed in the plane.

Pure builders: numpy arrays and data-URI strings in, go.Figure out. Every scatter point carries
customdata [example index, label text], which is how a click finds its example again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.express as px
import plotly.graph_objects as go

_HOVER = "#%{customdata[0]} · %{customdata[1]}<br>(%{x:.2f}, %{y:.2f})<extra></extra>"
# Category colours, set explicitly: Streamlit's chart theme would otherwise recolour the traces
# with pale tones (light grey, pale yellow) that vanish on white. Dark24's first ten keep at
# least 3:1 contrast with white (WCAG's minimum for graphics).
CATEGORY_COLOURS = tuple(px.colors.qualitative.Dark24)
_MARKER = dict(size=6, opacity=0.8)
# Plotly fades every unselected point after a click; the chosen one is ringed instead.
_UNSELECTED = dict(marker=dict(opacity=0.8))


@dataclass(frozen=True)
class Colouring:
    """One value per point; with `names` the values are category indices into them."""

    name: str
    values: np.ndarray  # (N,)
    names: tuple[str, ...] = ()

    def text(self) -> list[str]:
        if self.names:
            return [self.names[int(v)] for v in self.values]
        return [f"{self.name} {v:.2f}" for v in self.values]

    def subset(self, rows: np.ndarray) -> Colouring:
        return Colouring(self.name, self.values[rows], self.names)


@dataclass(frozen=True)
class PlacedImage:
    """A data-URI image centred at (x, y), `size` data units wide and high."""

    uri: str
    x: float
    y: float
    size: float


def latent_scatter(
    coords: np.ndarray, examples: np.ndarray, colouring: Colouring,
    axis_titles: tuple[str, str], ellipses: list[np.ndarray] | None = None,
    images: list[PlacedImage] = (), background: PlacedImage | None = None,
    selected: int | None = None,
) -> go.Figure:
    """Points coords (N, 2) for test examples `examples` (N,), coloured by `colouring`; the
    example `selected` (an index into `examples`' values) is ringed."""
    fig = go.Figure()
    for trace in _point_traces(coords, examples, colouring):
        fig.add_trace(trace)
    if ellipses:
        fig.add_trace(_ellipse_trace(ellipses))
    rows = np.flatnonzero(np.asarray(examples) == selected) if selected is not None else []
    if len(rows):
        fig.add_trace(_selection_ring(coords[rows[0]], selected))
    for placed in ([background] if background else []) + list(images):
        fig.add_layout_image(_layout_image(placed, "below" if placed is background else "above"))
    fig.update_layout(
        # The top margin holds the chart's toolbar, so it never covers the legend.
        height=580, margin=dict(l=10, r=10, t=36, b=10),
        legend=dict(itemsizing="constant", y=1.0, yanchor="top"),
        xaxis_title=axis_titles[0], yaxis_title=axis_titles[1], clickmode="event+select",
    )
    fig.update_yaxes(scaleanchor="x", scaleratio=1)  # a circle in z stays a circle on screen
    return fig


def _selection_ring(point: np.ndarray, example: int) -> go.Scatter:
    return go.Scatter(x=[point[0]], y=[point[1]], mode="markers", name=f"#{example}",
                      hoverinfo="skip", showlegend=False, marker=dict(
                          symbol="circle-open", size=18, color="#111", line=dict(width=3)))


def _point_traces(coords: np.ndarray, examples: np.ndarray, colouring: Colouring) -> list:
    text = np.asarray(colouring.text(), dtype=object)
    custom = np.stack([np.asarray(examples, dtype=object), text], axis=1)
    if not colouring.names:
        marker = dict(_MARKER, color=colouring.values, colorscale="Viridis", showscale=True,
                      colorbar=dict(title=colouring.name, thickness=12))
        return [go.Scatter(x=coords[:, 0], y=coords[:, 1], mode="markers", marker=marker,
                           customdata=custom, hovertemplate=_HOVER, showlegend=False,
                           unselected=_UNSELECTED)]
    traces = []
    for category, name in enumerate(colouring.names):
        keep = colouring.values.astype(int) == category
        if keep.any():  # one trace per category: the legend then toggles each one
            colour = CATEGORY_COLOURS[category % len(CATEGORY_COLOURS)]
            traces.append(go.Scatter(x=coords[keep, 0], y=coords[keep, 1], mode="markers",
                                     name=name, marker=dict(_MARKER, color=colour),
                                     customdata=custom[keep], hovertemplate=_HOVER,
                                     unselected=_UNSELECTED))
    return traces


def _ellipse_trace(ellipses: list[np.ndarray]) -> go.Scatter:
    """All outlines in one line trace, separated by gaps (None), so the legend has one entry."""
    xs, ys = [], []
    for outline in ellipses:
        xs += [*outline[:, 0], None]
        ys += [*outline[:, 1], None]
    return go.Scatter(x=xs, y=ys, mode="lines", name="1σ of q(z|x)", hoverinfo="skip",
                      line=dict(width=1, color="rgba(80, 80, 80, 0.6)"))


def _layout_image(placed: PlacedImage, layer: str) -> dict:
    return dict(source=placed.uri, xref="x", yref="y", x=placed.x, y=placed.y,
                sizex=placed.size, sizey=placed.size, xanchor="center", yanchor="middle",
                sizing="stretch", layer=layer, opacity=0.55 if layer == "below" else 1.0)


def selected_example(event) -> int | None:
    """The test-example index of the first clicked point in a plotly_chart selection event."""
    points = ((event or {}).get("selection") or {}).get("points") or []
    for point in points:
        custom = point.get("customdata")
        if custom:  # ellipse outlines carry no customdata
            return int(custom[0])
    return None
