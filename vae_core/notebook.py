"""The latent explorer in a notebook: an anywidget (Jupyter, VS Code, Colab, marimo) that runs the
app's in-page decoder, so the image follows the sliders every animation frame with no kernel round
trip; the kernel hears z when a slider or the pad is released.

    from vae_core.notebook import Explorer
    explorer = Explorer("assets/mnist2d", data=test_images)  # the last line of a cell shows it
    explorer.z                                    # the current z, a NumPy array
    explorer.z = [1.0, -0.5]                      # moves the sliders
    explorer.observe(handler, names="z")          # called on each release
    LatentMap("assets/mnist2d", test_images, labels=test_labels, explorer=explorer)

LatentMap draws the data's posterior means as a scatter (PCA, or two chosen dimensions); hovering
decodes the point under the mouse in the page, and a click sends that point's posterior mean to
the map's `z` and, through the kernel, to a linked Explorer's.

The model is a vae_core checkpoint folder (a shipped model or a run), an imported model folder
(`python -m vae_core import-onnx`), a vae_core model, or any torch module with encode(x) and
decode(z), which goes through import-torch's path (pass the same options: image_shape,
input_range, decoder_output). The widget's JavaScript is ui/frontend/'s modules joined as the
Streamlit component's are (ui/inline_js.py), with notebook_widget.js as its host adapter; the
weights travel once, as a binary trait. anywidget is an optional extra: requirements-notebook.txt.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import anywidget
import numpy as np
import torch
import traitlets
from torch import nn

from ui.figures_latent import CATEGORY_COLOURS
from ui.inline_js import inline_modules, stylesheet

from .checkpoint import load_checkpoint
from .decoder_export import pack
from .imported import ImportedModel, is_imported_dir, load_imported
from .latent import Encoded, dimension_order, encode_images, kl_per_dim
from .model_import import import_module
from .models import LatentModel
from .principal import PrincipalView, needs_view, page_spec, principal_view
from .projection import LinearView, axes_view, line_view, pca

MODULES = ("decoder.js", "image_canvas.js", "latent_pad.js", "preview_strips.js",
           "notebook_widget.js")  # ui/frontend/, in dependency order
MAP_MODULES = ("decoder.js", "image_canvas.js", "scatter_points.js", "notebook_map.js")
SCATTER_POINTS = 1000  # images whose posterior means the 2-D pad shows
MAP_POINTS = 5000  # the first images of `data` the latent map shows
MAX_CATEGORIES = 256  # label values the map colours by (one byte a point)
KL_IMAGES = 1000  # images the slider order's KL per dimension averages over
DISPLAY_PX = 168  # the decoded image is upscaled by an integer factor to about this height


def open_model(model, *, image_shape=None, input_range: str = "0,1",
               decoder_output: str | None = None) -> tuple[nn.Module, dict]:
    """(a model the page can decode, its card's metadata) from a folder, a loaded checkpoint,
    a vae_core model, or a torch module with encode and decode (exported through ONNX)."""
    if isinstance(model, (str, Path)):
        folder = Path(model)
        loaded = load_imported(folder) if is_imported_dir(folder) else load_checkpoint(folder)
        return loaded.model, loaded.metadata
    if isinstance(getattr(model, "model", None), nn.Module):  # a Checkpoint or imported files
        return model.model, model.metadata
    if isinstance(model, (LatentModel, ImportedModel, PrincipalView)):
        return model, {}
    if image_shape is None or decoder_output is None:
        raise ValueError("a torch module needs image_shape=(C, H, W) and decoder_output= (probs, "
                         "logits, mean or tanh), as `python -m vae_core import-torch` does")
    with tempfile.TemporaryDirectory(prefix="latent-lab-notebook-") as folder:
        imported = import_module(model, Path(folder) / "model", input_range=input_range,
                                 decoder_output=decoder_output, image_shape=tuple(image_shape))
        return load_imported(imported).model, {}


def _kl_per_dim(model: nn.Module, metadata: dict, data: torch.Tensor | None) -> np.ndarray | None:
    """Average KL per latent dimension: the card's, else measured on data, else None."""
    if isinstance(model, PrincipalView) or not model.is_variational:
        return None  # a view's axes come ordered by variance; an autoencoder has no KL
    if "kl_per_dim" in metadata:
        return np.asarray(metadata["kl_per_dim"], dtype=np.float64)
    return None if data is None else kl_per_dim(model, data[:KL_IMAGES])


def _label(model: nn.Module, dim: int, kl: np.ndarray | None) -> str:
    if isinstance(model, PrincipalView):
        return model.label(dim)
    return f"z{dim}" if kl is None else f"z{dim} · {kl[dim]:.2f} nats"


class _Vector(traitlets.TraitType):
    """A float64 NumPy vector; the page's JSON list becomes one here."""

    default_value = np.zeros(0)

    def validate(self, obj, value):
        try:
            return np.asarray(value, dtype=np.float64).reshape(-1).copy()
        except (TypeError, ValueError):
            self.error(obj, value)


def _to_json(value, widget) -> list[float]:
    return [float(v) for v in value]


class Explorer(anywidget.AnyWidget):
    """Sliders over a model's latent space (most used first), the decoded mean (and the std
    map of a learned-std Gaussian), preview strips and, given `data` (N, C, H, W) in [0, 1],
    the 2-D pad over the data's posterior means. Latents over 64 dimensions are explored
    through the data's principal directions (vae_core.principal), as in the app."""

    _esm = inline_modules(MODULES)
    stylesheet = traitlets.Unicode(stylesheet("latent_sliders.css")).tag(sync=True)
    decoder = traitlets.Bytes().tag(sync=True)  # vae_core.decoder_export.pack
    scatter = traitlets.Bytes(b"").tag(sync=True)  # float32 (N, D) posterior means
    labels = traitlets.List(traitlets.Unicode()).tag(sync=True)  # one per slider
    order = traitlets.List(traitlets.Int()).tag(sync=True)  # the latent dimension of each slider
    limit = traitlets.Float(3.0).tag(sync=True)
    step = traitlets.Float(0.05).tag(sync=True)
    scale = traitlets.Int(1).tag(sync=True)
    z = _Vector().tag(sync=True, to_json=_to_json)

    def __init__(self, model, data=None, *, image_shape=None, input_range: str = "0,1",
                 decoder_output: str | None = None, limit: float = 3.0, step: float = 0.05):
        model, metadata = open_model(model, image_shape=image_shape, input_range=input_range,
                                     decoder_output=decoder_output)
        data = None if data is None else torch.as_tensor(np.asarray(data), dtype=torch.float32)
        if needs_view(model.latent_dim):
            model, metadata = principal_view(model, data), {}
        kl = _kl_per_dim(model, metadata, data)
        order = dimension_order(kl, model.latent_dim)
        scatter = b"" if data is None else np.ascontiguousarray(
            encode_images(model, data[:SCATTER_POINTS]).mean, dtype="<f4").tobytes()
        super().__init__(decoder=pack(page_spec(model)), scatter=scatter, order=order,
                         labels=[_label(model, dim, kl) for dim in order], limit=limit,
                         step=step, scale=max(1, DISPLAY_PX // model.config.image_shape[1]),
                         z=np.zeros(model.latent_dim))
        self.model = model  # what the sliders move: decode(torch.as_tensor(z)) matches the page

    @traitlets.validate("z")
    def _check_length(self, proposal):
        z = proposal["value"]
        if self.order and len(z) != len(self.order):
            raise traitlets.TraitError(f"z needs {len(self.order)} values, not {len(z)}")
        return z


def _float32_bytes(array: np.ndarray) -> bytes:
    return np.ascontiguousarray(array, dtype="<f4").tobytes()


def _projection(encoded: Encoded, dims: tuple[int, int] | None) -> tuple[LinearView, list[str]]:
    """The map's linear view and its axis titles: z itself for one or two dimensions, else the
    two chosen dimensions, else the means' top two principal axes."""
    latent_dim = encoded.mean.shape[1]
    if latent_dim == 1:
        return line_view(encoded.mean, encoded.std), ["z0 (posterior mean)", "posterior std of z0"]
    if dims is None and latent_dim == 2:
        dims = (0, 1)
    if dims is not None:
        if len(dims) != 2 or dims[0] == dims[1] or not set(dims) <= set(range(latent_dim)):
            raise ValueError(f"dims needs two different dimensions of 0 to {latent_dim - 1}, "
                             f"not {tuple(dims)}")
        return axes_view(encoded.mean, dims), [f"z{dims[0]}", f"z{dims[1]}"]
    view = pca(encoded.mean)
    return view, [f"PC{k + 1} ({100 * share:.0f}% of variance)"
                  for k, share in enumerate(view.explained)]


def _categories(labels, n_images: int) -> tuple[bytes, list[str]]:
    """(uint8 category of each point the map shows, the categories' names); none without
    labels. Colours follow the names' sorted order, the same whichever images are shown."""
    if labels is None:
        return b"", []
    values = np.asarray(labels).reshape(-1)
    if len(values) != n_images:
        raise ValueError(f"labels needs one value per image: {n_images}, not {len(values)}")
    names, codes = np.unique(values, return_inverse=True)
    if len(names) > MAX_CATEGORIES:
        raise ValueError(f"labels has {len(names)} different values: the map colours by at "
                         f"most {MAX_CATEGORIES} categories")
    return codes[:MAP_POINTS].astype(np.uint8).tobytes(), [str(name) for name in names]


def _in_explorer(explorer: Explorer, model: nn.Module, z: np.ndarray) -> np.ndarray:
    """`model`'s z in an Explorer's coordinates, through the latent both views share: a principal
    view's coordinates are z's least-squares fit on its axes (as PrincipalView.encode's)."""
    if explorer.model is model:
        return z
    z = torch.as_tensor(z, dtype=torch.float32)
    if isinstance(model, PrincipalView):
        z = model.to_z(z)
    view = explorer.model
    if isinstance(view, PrincipalView):
        z = (z - view.center) @ torch.linalg.pinv(view.basis)
    return z.numpy()


class LatentMap(anywidget.AnyWidget):
    """The posterior means of the first MAP_POINTS images of `data` (N, C, H, W) in [0, 1] as a
    scatter, coloured by `labels` (N,) if given: the top two principal axes, or the latent
    dimensions `dims`. Hovering decodes the nearest point's posterior mean in the page; a click
    sets `index` (its row in data) and `z` (its posterior mean) in the kernel, and a linked
    Explorer's z (`explorer=` or `link`). The model is anything Explorer opens; the map shows the
    model's own z, whatever its size."""

    _esm = inline_modules(MAP_MODULES)
    stylesheet = traitlets.Unicode(stylesheet("latent_plane.css")).tag(sync=True)
    decoder = traitlets.Bytes().tag(sync=True)  # vae_core.decoder_export.pack
    coords = traitlets.Bytes().tag(sync=True)  # float32 (N, 2): each point in the map's plane
    latents = traitlets.Bytes().tag(sync=True)  # float32 (N, D): each point's posterior mean
    categories = traitlets.Bytes(b"").tag(sync=True)  # uint8 (N,): index into names
    names = traitlets.List(traitlets.Unicode()).tag(sync=True)
    colours = traitlets.List(traitlets.Unicode(), list(CATEGORY_COLOURS)).tag(sync=True)
    axes = traitlets.List(traitlets.Unicode()).tag(sync=True)
    scale = traitlets.Int(1).tag(sync=True)
    index = traitlets.Int(-1).tag(sync=True)  # the clicked point's row in data
    z = _Vector().tag(sync=True, to_json=_to_json)

    def __init__(self, model, data, labels=None, *, dims: tuple[int, int] | None = None,
                 explorer: Explorer | None = None, image_shape=None, input_range: str = "0,1",
                 decoder_output: str | None = None):
        model, _ = open_model(model, image_shape=image_shape, input_range=input_range,
                              decoder_output=decoder_output)
        data = np.asarray(data)
        if len(data) == 0:
            raise ValueError("the latent map needs at least one image in data")
        encoded = encode_images(model, data[:MAP_POINTS])
        view, axes = _projection(encoded, dims)
        categories, names = _categories(labels, len(data))
        super().__init__(decoder=pack(page_spec(model)), coords=_float32_bytes(view.coords),
                         latents=_float32_bytes(encoded.mean), categories=categories,
                         names=names, axes=axes,
                         scale=max(1, DISPLAY_PX // model.config.image_shape[1]))
        self.model = model  # decode(torch.as_tensor(z)) is what hovering shows
        self.explorer = explorer
        self.observe(self._send_to_explorer, names="z")

    def link(self, explorer: Explorer) -> None:
        """A click on the map sets `explorer.z` from now on."""
        self.explorer = explorer

    def _send_to_explorer(self, change) -> None:
        if self.explorer is not None:
            self.explorer.z = _in_explorer(self.explorer, self.model, change.new)
