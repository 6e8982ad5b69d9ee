"""Plotly figures of the latent map: the scatter, its sigma ellipses, images placed in the plane.

Pure builders: numpy arrays and data-URI strings in, go.Figure out. Every scatter point carries
customdata [example index, label text], which is how a click finds its example again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

_HOVER = "#%{customdata[0]} · %{customdata[1]}<br>(%{x:.2f}, %{y:.2f})<extra></extra>"


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
) -> go.Figure:
    """Points coords (N, 2) for test examples `examples` (N,), coloured by `colouring`."""
    fig = go.Figure()
    for trace in _point_traces(coords, examples, colouring):
        fig.add_trace(trace)
    if ellipses:
        fig.add_trace(_ellipse_trace(ellipses))
    for placed in ([background] if background else []) + list(images):
        fig.add_layout_image(_layout_image(placed, "below" if placed is background else "above"))
    fig.update_layout(
        height=560, margin=dict(l=10, r=10, t=10, b=10), legend=dict(itemsizing="constant"),
        xaxis_title=axis_titles[0], yaxis_title=axis_titles[1], clickmode="event+select",
    )
    fig.update_yaxes(scaleanchor="x", scaleratio=1)  # a circle in z stays a circle on screen
    return fig


def _point_traces(coords: np.ndarray, examples: np.ndarray, colouring: Colouring) -> list:
    text = np.asarray(colouring.text(), dtype=object)
    custom = np.stack([np.asarray(examples, dtype=object), text], axis=1)
    marker = dict(size=6, opacity=0.8)
    if not colouring.names:
        marker.update(color=colouring.values, colorscale="Viridis", showscale=True,
                      colorbar=dict(title=colouring.name, thickness=12))
        return [go.Scatter(x=coords[:, 0], y=coords[:, 1], mode="markers", marker=marker,
                           customdata=custom, hovertemplate=_HOVER, showlegend=False)]
    traces = []
    for category, name in enumerate(colouring.names):
        keep = colouring.values.astype(int) == category
        if keep.any():  # one trace per category: the legend then toggles each one
            traces.append(go.Scatter(x=coords[keep, 0], y=coords[keep, 1], mode="markers",
                                     name=name, marker=marker, customdata=custom[keep],
                                     hovertemplate=_HOVER))
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
