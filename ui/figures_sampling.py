"""The reparameterization trick, animated: numpy in, Plotly figure out (no Streamlit here).

Each frame k draws eps_k ~ N(0, I) and shows z_k = mu + sigma * eps_k landing inside
q(z|x)'s 1- and 2-sigma ellipses, next to the decoded image; beside it the same eps_k as a
draw from the prior N(0, I), whose ellipses are the unit circles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from vae_core.distributions import DiagonalGaussian
from vae_core.projection import ellipse

from .render import display_scale, png_data_uri, to_image

IMAGE_PX = 140  # side of the decoded images inside the figure
FRAME_MS = 500
# Pixel layout from the top: Play/Pause and the scrubber, then the equation, then the planes.
HEIGHT, TOP, BOTTOM = 520, 165, 30
CONTROLS_PX, EQUATION_PX = 4, 96


def _paper_y(px_from_top: float) -> float:
    """A height given in pixels from the figure's top, in Plotly's paper coordinates."""
    return 1.0 + (TOP - px_from_top) / (HEIGHT - TOP - BOTTOM)
_POINT = dict(color="#d62728", size=12, line=dict(color="white", width=1.5))
_PAST = dict(color="#1f77b4", size=7, opacity=0.35)


@dataclass(frozen=True)
class Draws:
    """n reparameterized draws for one input: eps, z from q(z|x) and z from p(z), (n, D) each."""

    eps: np.ndarray
    z_posterior: np.ndarray
    z_prior: np.ndarray

    def on(self, dims: list[int]) -> Draws:
        """The same draws on a few latent dimensions: (n, len(dims)) each."""
        return Draws(self.eps[:, dims], self.z_posterior[:, dims], self.z_prior[:, dims])


@dataclass(frozen=True)
class SamplingRun:
    """What the Sampling page shows for one input: the figure, its GIF, q(z|x) on the plane."""

    figure: go.Figure
    gif: bytes
    mu: np.ndarray  # (P,) posterior mean on the plane's dims
    sigma: np.ndarray  # (P,) posterior std there


def draw_reparameterized(mu: np.ndarray, sigma: np.ndarray, n: int, seed: int) -> Draws:
    """n draws of q(z|x) = N(mu, diag sigma^2) by the library's own z = mu + sigma * eps; the
    prior's draw is eps itself (mu = 0, sigma = 1). mu, sigma: (D,); the result (n, D) each."""
    posterior = DiagonalGaussian(torch.as_tensor(mu, dtype=torch.float32),
                                 2.0 * torch.log(torch.as_tensor(sigma, dtype=torch.float32)))
    eps = torch.randn((n, len(mu)), generator=torch.Generator().manual_seed(seed))
    return Draws(eps.numpy(), posterior.reparameterize(eps).numpy(), eps.numpy())


def plane_dims(order: list[int]) -> tuple[int, ...]:
    """The latent plane's axes: z itself when D <= 2, else the two most used dimensions.

    order: all D dimensions, most used first.
    """
    return tuple(sorted(order)) if len(order) <= 2 else tuple(order[:2])


def sigma_contour(mu: np.ndarray, sigma: np.ndarray, radius: float) -> np.ndarray:
    """(points, 2) on the `radius`-sigma contour of N(mu, diag sigma^2); in 1-D, a segment."""
    if len(mu) == 1:
        return np.array([[mu[0] - radius * sigma[0], 0.0], [mu[0] + radius * sigma[0], 0.0]])
    return ellipse(mu, np.diag(np.square(sigma)), n_sigma=radius, n=73)


def _xy(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, 1 or 2) plane coordinates -> x, y (y = 0 on a 1-D plane)."""
    return z[:, 0], z[:, 1] if z.shape[1] > 1 else np.zeros(len(z))


def format_vector(values) -> str:
    """(0.41, -1.20): a latent vector as the page writes it."""
    return "(" + ", ".join(f"{v:.2f}" for v in values) + ")"


def frame_title(names: list[str], mu, sigma, eps, z) -> str:
    """The equation with this frame's numbers (z = mu + sigma * eps, drawn), on the plane."""
    return (f"({', '.join(names)}):  z = μ + σ ⊙ ε = {format_vector(mu)} + "
            f"{format_vector(sigma)} ⊙ {format_vector(eps)} = {format_vector(z)}"
            f"<br>prior: z = ε = {format_vector(eps)}")


def _static_traces(mu: np.ndarray, sigma: np.ndarray) -> list[go.Scatter]:
    """The 2-sigma (dotted) and 1-sigma (solid) contours and the mean (x)."""
    traces = []
    for radius, dash, width in ((2.0, "dot", 1.5), (1.0, "solid", 3 if len(mu) == 1 else 1.5)):
        x, y = _xy(sigma_contour(mu, sigma, radius))
        traces.append(go.Scatter(x=x, y=y, mode="lines", hoverinfo="skip", showlegend=False,
                                 line=dict(color="#555", dash=dash, width=width)))
    x, y = _xy(mu[None, :])
    traces.append(go.Scatter(x=x, y=y, mode="markers", hoverinfo="skip", showlegend=False,
                             marker=dict(symbol="x", size=10, color="#555")))
    return traces


def _posterior_patch(mu: np.ndarray, sigma: np.ndarray) -> go.Scatter:
    """q(z|x)'s 2-sigma region drawn on the prior's plane: where this x's codes live."""
    x, y = _xy(sigma_contour(mu, sigma, 2.0))
    return go.Scatter(x=x, y=y, mode="lines", fill="toself", fillcolor="rgba(214,39,40,0.18)",
                      line=dict(color="rgba(214,39,40,0.6)", width=2 if len(mu) > 1 else 6),
                      name="q(z|x), 2σ", hoverinfo="name", showlegend=False)


def _dynamic_traces(z: np.ndarray, image_uri: str, k: int) -> list[dict]:
    """Draws 0..k-1 faded, draw k highlighted, and draw k's decoded image.

    Plain dicts: frames hold many of these, and Plotly validates them once, in the figure.
    """
    past_x, past_y = _xy(z[:k])
    now_x, now_y = _xy(z[k : k + 1])
    return [dict(type="scatter", x=past_x, y=past_y, mode="markers", marker=_PAST,
                 showlegend=False, hoverinfo="skip"),
            dict(type="scatter", x=now_x, y=now_y, mode="markers", marker=_POINT,
                 showlegend=False),
            dict(type="image", source=image_uri)]


def _posterior_box(mu: np.ndarray, sigma: np.ndarray, z: np.ndarray) -> list[np.ndarray]:
    """Axis ranges [low, high] per plane dim around q(z|x): a posterior is often far narrower
    than the prior, so its plane zooms in (one half-width for all dims keeps circles round)."""
    half = 1.1 * max(float(np.max(2.5 * sigma)), float(np.max(np.abs(z - mu))))
    return [np.array([m - half, m + half]) for m in mu]


def _prior_box(eps: np.ndarray) -> list[np.ndarray]:
    limit = 1.05 * max(3.0, float(np.abs(eps).max()))
    return [np.array([-limit, limit])] * eps.shape[1]


def _controls(n: int) -> dict:
    """Play/pause buttons and a slider that scrubs through the frames, above the planes (so
    they are on screen at 1280x800 without scrolling)."""
    redraw = dict(redraw=True)  # image traces are only redrawn, never tweened
    play = dict(frame=dict(duration=FRAME_MS, **redraw), transition=dict(duration=0),
                fromcurrent=True)
    pause = dict(frame=dict(duration=0, **redraw), mode="immediate", transition=dict(duration=0))
    steps = [dict(method="animate", label=str(k + 1), args=[[str(k)], pause]) for k in range(n)]
    return dict(
        updatemenus=[dict(type="buttons", direction="left", x=0.0, y=_paper_y(CONTROLS_PX + 22),
                          xanchor="left", yanchor="top", showactive=False, buttons=[
                              dict(label="▶ Play", method="animate", args=[None, play]),
                              dict(label="❚❚ Pause", method="animate", args=[[None], pause])])],
        # The slider starts right of the buttons so its "draw k" label is never covered.
        sliders=[dict(active=0, x=0.22, len=0.78, y=_paper_y(CONTROLS_PX), yanchor="top",
                      steps=steps, pad=dict(t=0, b=0), ticklen=3, minorticklen=0,
                      # "draw k" above the rail says where it is; 60 tick labels were clutter.
                      font=dict(color="rgba(0,0,0,0)"),
                      currentvalue=dict(prefix="draw ", font=dict(size=13, color="#444")))],
    )


def _style_plane(fig: go.Figure, col: int, box: list[np.ndarray], names: list[str]) -> None:
    one_d = len(box) == 1
    fig.update_xaxes(range=list(box[0]), title_text=names[0], row=1, col=col)
    if one_d:
        fig.update_yaxes(range=[-1, 1], showticklabels=False, row=1, col=col)
    else:
        fig.update_yaxes(range=list(box[1]), title_text=names[1] if col == 1 else None,
                         scaleanchor=f"x{col if col > 1 else ''}", row=1, col=col)


def _style_axes(fig: go.Figure, boxes: tuple, names: list[str]) -> None:
    for col, box in zip((1, 3), boxes, strict=True):
        _style_plane(fig, col, box, names)
    for col in (2, 4):
        fig.update_xaxes(visible=False, row=1, col=col)
        fig.update_yaxes(visible=False, row=1, col=col, scaleanchor=f"x{col}")


def sampling_figure(
    mu: np.ndarray, sigma: np.ndarray, draws: Draws,
    posterior_images: np.ndarray, prior_images: np.ndarray, names: list[str],
) -> go.Figure:
    """The animated figure. mu, sigma: (P,) for the P (1 or 2) plane dims; draws: on those dims;
    images: (n, C, H, W) decoder means of the full z of each draw, in [0, 1]."""
    mu, sigma = np.asarray(mu, dtype=np.float64), np.asarray(sigma, dtype=np.float64)
    eps, z_posterior, z_prior = draws.eps, draws.z_posterior, draws.z_prior
    scale = display_scale(posterior_images.shape[-2], IMAGE_PX)
    uris = [[png_data_uri(to_image(image, scale)) for image in images]
            for images in (posterior_images, prior_images)]
    fig = make_subplots(rows=1, cols=4, column_widths=[0.32, 0.18, 0.32, 0.18],
                        horizontal_spacing=0.06, subplot_titles=(
                            "q(z|x) = N(μ, σ²): 1σ and 2σ", "decoded mean",
                            "prior p(z) = N(0, I); q(z|x) shaded", "decoded mean"))
    for col, (center, spread) in ((1, (mu, sigma)), (3, (np.zeros_like(mu), np.ones_like(mu)))):
        for trace in _static_traces(center, spread):
            fig.add_trace(trace, row=1, col=col)
    fig.add_trace(_posterior_patch(mu, sigma), row=1, col=3)
    first_dynamic = len(fig.data)

    def dynamic(k: int) -> list:
        return _dynamic_traces(z_posterior, uris[0][k], k) + _dynamic_traces(z_prior, uris[1][k], k)

    for trace, col in zip(dynamic(0), (1, 1, 2, 3, 3, 4), strict=True):
        fig.add_trace(trace, row=1, col=col)
    fig.frames = [
        dict(name=str(k), data=dynamic(k), traces=list(range(first_dynamic, len(fig.data))),
             layout=dict(title_text=frame_title(names, mu, sigma, eps[k], z_posterior[k])))
        for k in range(len(eps))
    ]
    _style_axes(fig, (_posterior_box(mu, sigma, z_posterior), _prior_box(z_prior)), names)
    fig.update_layout(title=dict(text=frame_title(names, mu, sigma, eps[0], z_posterior[0]),
                                 font=dict(size=14),
                                 y=1.0 - EQUATION_PX / HEIGHT, yanchor="top"),
                      height=HEIGHT, margin=dict(l=40, r=20, t=TOP, b=BOTTOM),
                      **_controls(len(eps)))
    return fig
