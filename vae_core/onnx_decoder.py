"""An imported decoder.onnx as the page's op list: a vae_core.decoder_export DecoderSpec.

The translation walks the graph once with a batch of one. Every value is either a constant (a
numpy array) or computed by the page (`Computed`: its value index and ONNX shape, batch first).
A node whose inputs are all constant is evaluated with onnx's reference implementation, and the
Shape of a computed value is its known shape, so the Shape/Gather/Concat/Slice/Mod subgraphs that
exports build reshape targets with (`x.reshape(z.shape[0], ...)`, nn.Unflatten) become constants.

Why not onnxruntime's BASIC optimisation (batch fixed to 1, then translate its output)? On the
tests' four float32 exports it gives the same static graphs, but on a float16 graph the CPU
provider inserts Casts and rewrites LeakyRelu as Less/Where/Mul, so its output depends on which
kernels the server's onnxruntime has. Folding here also needs no session per import.

BatchNormalization, and Add/Sub/Mul/Div by a per-channel constant, become `affine` layers, folded
into the linear or convolution before them when nothing else reads its output.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import numpy_helper
from onnx.reference import ReferenceEvaluator

from .decoder_export import DecoderSpec, UnsupportedLayerError

_FLOAT_TYPES = {onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.DOUBLE}
_ARRAY_KEYS = ("weight", "bias", "scale", "shift")
_WEIGHTED = {"linear": 0, "conv2d": 0, "conv_transpose2d": 1}  # op -> its output-channel axis


@dataclass(frozen=True)
class Computed:
    """A value the page computes: value `index` (0 is z, k is layer k-1's output)."""

    index: int
    shape: tuple[int, ...]  # ONNX shape, batch (of one) first


@dataclass
class _Translation:
    opset: int
    batch: int  # the input's batch size when fixed, else 1
    output: str
    producers: dict[str, onnx.NodeProto]
    readers: dict[str, list[onnx.NodeProto]]
    values: dict[str, np.ndarray | Computed]
    layers: list[dict] = field(default_factory=list)
    arrays: list[np.ndarray] = field(default_factory=list)

    def emit(self, layer: dict, inputs: list[Computed], shape: tuple[int, ...]) -> Computed:
        self.layers.append({**layer, "inputs": [value.index for value in inputs]})
        return Computed(len(self.layers), tuple(shape))

    def array(self, values: np.ndarray | None) -> int | None:
        if values is None:
            return None
        self.arrays.append(np.asarray(values, np.float32))
        return len(self.arrays) - 1

    def computed(self, node: onnx.NodeProto, i: int = 0) -> Computed:
        value = self.values.get(node.input[i])
        if not isinstance(value, Computed):
            raise _refusal(node, f"input {i} must be computed from z")
        return value

    def constant(self, node: onnx.NodeProto, i: int, required: bool = True) -> np.ndarray | None:
        """Input i as float64 (weights) or as stored (shapes); None when optional and absent."""
        name = node.input[i] if i < len(node.input) else ""
        value = self.values.get(name) if name else None
        if isinstance(value, np.ndarray):
            return value.astype(np.float64) if value.dtype.kind == "f" else value
        if required or name:
            raise _refusal(node, f"input {i} must be a constant")
        return None

    def set(self, node: onnx.NodeProto, value: np.ndarray | Computed) -> None:
        self.values[node.output[0]] = value


def _refusal(node: onnx.NodeProto, why: str = "") -> UnsupportedLayerError:
    detail = f": {why}" if why else ""
    return UnsupportedLayerError(
        f"the page cannot run the ONNX op '{node.op_type}' (node '{node.name}'){detail}")


def _attributes(node: onnx.NodeProto) -> dict:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


# --- linear algebra and convolutions ------------------------------------------------------------

def _linear(t: _Translation, node, x: Computed, weight: np.ndarray, bias) -> None:
    if len(x.shape) != 2 or weight.ndim != 2 or weight.shape[1] != x.shape[1]:
        raise _refusal(node, f"only (batch, features) @ constant weights, not {x.shape}")
    layer = {"op": "linear", "in": weight.shape[1], "out": weight.shape[0],
             "weight": t.array(weight), "bias": t.array(bias)}
    t.set(node, t.emit(layer, [x], (1, weight.shape[0])))


def _gemm(t: _Translation, node) -> None:
    attributes = _attributes(node)
    if attributes.get("transA", 0):
        raise _refusal(node, "transA")
    x, b, c = t.computed(node, 0), t.constant(node, 1), t.constant(node, 2, required=False)
    weight = (b if attributes.get("transB", 0) else b.T) * attributes.get("alpha", 1.0)
    bias = None if c is None else np.broadcast_to(c * attributes.get("beta", 1.0),
                                                  (1, weight.shape[0]))[0]
    _linear(t, node, x, weight, bias)


def _matmul(t: _Translation, node) -> None:
    _linear(t, node, t.computed(node, 0), t.constant(node, 1).T, None)


def _conv_geometry(node, x: Computed, weight: np.ndarray) -> tuple[list[int], list[int]]:
    """(strides, pads [top, left, bottom, right]) after checking what the page supports."""
    attributes = _attributes(node)
    if len(x.shape) != 4 or weight.ndim != 4:
        raise _refusal(node, "only 2-D convolutions")
    if attributes.get("group", 1) != 1 or any(d != 1 for d in attributes.get("dilations", [1])):
        raise _refusal(node, "only group=1 and dilation=1")
    if _text(attributes.get("auto_pad", "NOTSET")) not in ("NOTSET", "VALID"):
        raise _refusal(node, "auto_pad")
    if "output_shape" in attributes:
        raise _refusal(node, "output_shape (give pads and output_padding)")
    return list(attributes.get("strides", [1, 1])), list(attributes.get("pads", [0, 0, 0, 0]))


def _conv(t: _Translation, node) -> None:
    x, weight, bias = t.computed(node, 0), t.constant(node, 1), t.constant(node, 2, False)
    strides, pads = _conv_geometry(node, x, weight)
    c_out, c_in, kh, kw = weight.shape
    if x.shape[1] != c_in:
        raise _refusal(node, f"{c_in} input channels, given {x.shape[1]}")
    size = [(n + before + after - k) // s + 1 for n, before, after, k, s in
            zip(x.shape[2:], pads[:2], pads[2:], (kh, kw), strides, strict=True)]
    layer = {"op": "conv2d", "in_channels": c_in, "out_channels": c_out, "kernel": [kh, kw],
             "stride": strides, "padding": pads[:2], "output_size": size,
             "weight": t.array(weight), "bias": t.array(bias)}
    t.set(node, t.emit(layer, [x], (1, c_out, *size)))


def _conv_transpose(t: _Translation, node) -> None:
    x, weight, bias = t.computed(node, 0), t.constant(node, 1), t.constant(node, 2, False)
    strides, pads = _conv_geometry(node, x, weight)
    extra = _attributes(node).get("output_padding", [0, 0])
    c_in, c_out, kh, kw = weight.shape
    if x.shape[1] != c_in:
        raise _refusal(node, f"{c_in} input channels, given {x.shape[1]}")
    size = [s * (n - 1) + e + k - before - after for n, s, e, k, before, after in
            zip(x.shape[2:], strides, extra, (kh, kw), pads[:2], pads[2:], strict=True)]
    layer = {"op": "conv_transpose2d", "in_channels": c_in, "out_channels": c_out,
             "kernel": [kh, kw], "stride": strides, "padding": pads[:2], "output_size": size,
             "weight": t.array(weight), "bias": t.array(bias)}
    t.set(node, t.emit(layer, [x], (1, c_out, *size)))


# --- per-channel affine maps --------------------------------------------------------------------

def _per_channel(node, constant: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray | None:
    """A constant that broadcasts onto `shape` as one number per channel (axis 1)."""
    if constant is None:
        return None
    try:
        full = np.broadcast_to(constant, shape)
    except ValueError:
        full = None
    if full is None or len(shape) < 2:
        raise _refusal(node, f"a constant of shape {constant.shape} on a value of shape {shape}")
    by_channel = full.reshape(shape[1], -1)
    if not np.all(by_channel == by_channel[:, :1]):
        raise _refusal(node, "a constant that varies within a channel")
    return by_channel[:, 0]


def _affine(t: _Translation, node, x: Computed, scale, shift) -> None:
    layer = {"op": "affine", "channels": x.shape[1],
             "scale": t.array(_per_channel(node, scale, x.shape)),
             "shift": t.array(_per_channel(node, shift, x.shape))}
    t.set(node, t.emit(layer, [x], x.shape))


def _batch_norm(t: _Translation, node) -> None:
    attributes = _attributes(node)
    if attributes.get("training_mode", 0) or any(node.output[1:]):
        raise _refusal(node, "training mode")
    gamma, beta, mean, var = (t.constant(node, i) for i in range(1, 5))
    factor = gamma / np.sqrt(var + attributes.get("epsilon", 1e-5))
    x = t.computed(node, 0)
    channel = (-1,) + (1,) * (len(x.shape) - 2)  # (C,) -> (C, 1, 1) for an image
    _affine(t, node, x, factor.reshape(channel), (beta - mean * factor).reshape(channel))


def _silu_input(t: _Translation, node) -> str | None:
    """x for a Mul(x, Sigmoid(x)) (how torch exports SiLU), else None."""
    for mine, other in (node.input, node.input[::-1]):
        sigmoid = t.producers.get(other)
        if sigmoid is not None and sigmoid.op_type == "Sigmoid" and sigmoid.input[0] == mine:
            return mine
    return None


def _feeds_silu_only(t: _Translation, node) -> bool:
    readers = t.readers.get(node.output[0], [])
    return (node.output[0] != t.output and len(readers) == 1 and readers[0].op_type == "Mul"
            and _silu_input(t, readers[0]) == node.input[0])


def _arithmetic(t: _Translation, node) -> None:
    a, b = (t.values.get(name) for name in node.input)
    if node.op_type == "Mul" and _silu_input(t, node) is not None:
        x = t.values[_silu_input(t, node)]
        t.set(node, t.emit({"op": "silu"}, [x], x.shape))
    elif isinstance(a, Computed) and isinstance(b, Computed):
        if node.op_type != "Add" or a.shape != b.shape:
            raise _refusal(node, f"of two computed values of shapes {a.shape} and {b.shape}")
        t.set(node, t.emit({"op": "add"}, [a, b], a.shape))
    elif isinstance(a, Computed):
        c = t.constant(node, 1)
        scale, shift = {"Add": (None, c), "Sub": (None, -c), "Mul": (c, None),
                        "Div": (1 / c, None)}[node.op_type]
        _affine(t, node, a, scale, shift)
    elif node.op_type in ("Add", "Mul", "Sub"):
        c = t.constant(node, 0)
        scale, shift = {"Add": (None, c), "Mul": (c, None), "Sub": (-np.ones_like(c), c)}[
            node.op_type]
        _affine(t, node, t.computed(node, 1), scale, shift)
    else:
        raise _refusal(node, "a constant divided by a computed value")


# --- activations --------------------------------------------------------------------------------

_UNARY = {"Relu": ("relu", {}), "Sigmoid": ("sigmoid", {}), "Tanh": ("tanh", {}),
          "Softplus": ("softplus", {}), "LeakyRelu": ("leaky_relu", {"alpha": 0.01}),
          "Elu": ("elu", {"alpha": 1.0})}


def _unary(t: _Translation, node) -> None:
    if node.op_type == "Sigmoid" and _feeds_silu_only(t, node):
        return  # the Mul after it becomes one silu layer
    op, defaults = _UNARY[node.op_type]
    attributes = _attributes(node)
    x = t.computed(node, 0)
    t.set(node, t.emit({"op": op, **{k: attributes.get(k, v) for k, v in defaults.items()}},
                       [x], x.shape))


def _swish(t: _Translation, node) -> None:
    if _attributes(node).get("alpha", 1.0) != 1.0:
        raise _refusal(node, "alpha other than 1")
    x = t.computed(node, 0)
    t.set(node, t.emit({"op": "silu"}, [x], x.shape))


# --- upsampling ---------------------------------------------------------------------------------

def _resize_factors(t: _Translation, node, x: Computed) -> list[int]:
    """Integer (height, width) factors: Upsample(X, scales), Resize-10 (X, scales) or
    Resize-11+ (X, roi, scales, sizes)."""
    attributes = _attributes(node)
    if "scales" in attributes:  # Upsample-7
        scales = np.array(attributes["scales"])
    else:
        modern = node.op_type == "Resize" and len(node.input) > 2
        sizes = t.constant(node, 3, required=False) if modern else None
        scales = sizes / np.array(x.shape) if sizes is not None else t.constant(
            node, 2 if modern else 1)
    if len(scales) != 4 or "axes" in attributes or not np.all(scales[:2] == 1):
        raise _refusal(node, f"scales {list(scales)}: only height and width")
    if not np.all(scales[2:] == np.round(scales[2:])) or np.any(scales[2:] < 1):
        raise _refusal(node, f"scales {list(scales)}: only whole-number upsampling")
    return [int(s) for s in scales[2:]]


def _resize(t: _Translation, node) -> None:
    x = t.computed(node, 0)
    factors = _resize_factors(t, node, x)
    attributes = _attributes(node)
    legacy = node.op_type == "Upsample" or t.opset < 11  # asymmetric, floor
    mode = _text(attributes.get("mode", "nearest"))
    transform = _text(attributes.get("coordinate_transformation_mode",
                                     "asymmetric" if legacy else "half_pixel"))
    rounding = _text(attributes.get("nearest_mode", "floor" if legacy else "round_prefer_floor"))
    half_pixel = transform in ("half_pixel", "pytorch_half_pixel")
    # With whole-number factors both conventions pick source pixel floor(out / factor).
    if mode == "nearest" and ((transform, rounding) == ("asymmetric", "floor") or (
            half_pixel and rounding in ("round_prefer_floor", "round_prefer_ceil"))):
        op = "resize_nearest"
    elif mode in ("linear", "bilinear") and half_pixel:  # torch's align_corners=False
        op = "resize_bilinear"
    else:
        raise _refusal(node, f"mode {mode} with {transform} coordinates ({rounding})")
    shape = (*x.shape[:2], x.shape[2] * factors[0], x.shape[3] * factors[1])
    t.set(node, t.emit({"op": op, "factor": factors}, [x], shape))


# --- shapes -------------------------------------------------------------------------------------

def _to_shape(t: _Translation, node, x: Computed, shape) -> None:
    """x reshaped; the batch must stay first and alone, as one image per z."""
    shape = tuple(int(n) for n in shape)
    if not shape or shape[0] != 1 or math.prod(shape) != math.prod(x.shape):
        raise _refusal(node, f"{x.shape} to {shape} does not keep one image per z")
    if shape[1:] == x.shape[1:]:
        t.set(node, x)  # same values and layout: no layer
    else:
        t.set(node, t.emit({"op": "reshape", "shape": list(shape[1:])}, [x], shape))


def _reshape(t: _Translation, node) -> None:
    x, target = t.computed(node, 0), [int(n) for n in t.constant(node, 1)]
    if not _attributes(node).get("allowzero", 0):
        target = [x.shape[i] if n == 0 else n for i, n in enumerate(target)]
    if -1 in target:
        known = math.prod(n for n in target if n != -1)
        target[target.index(-1)] = math.prod(x.shape) // known if known else 0
    if target and target[0] == t.batch != 1:
        target[0] = 1  # a fixed-batch export bakes its batch size into reshape targets
    _to_shape(t, node, x, target)


def _axes(t: _Translation, node) -> list[int]:
    """The axes attribute (opset < 13) or input; [] when absent."""
    axes = _attributes(node).get("axes")
    if axes is None:
        axes = t.constant(node, 1, required=False)
    return [] if axes is None else [int(a) for a in axes]


def _squeeze(t: _Translation, node) -> None:
    x = t.computed(node, 0)
    axes = [a % len(x.shape) for a in _axes(t, node)]
    axes = axes or [i for i, n in enumerate(x.shape) if n == 1]
    _to_shape(t, node, x, [n for i, n in enumerate(x.shape) if i not in axes])


def _unsqueeze(t: _Translation, node) -> None:
    x = t.computed(node, 0)
    axes = _axes(t, node)
    shape = list(x.shape)
    for axis in sorted(a % (len(x.shape) + len(axes)) for a in axes):
        shape.insert(axis, 1)
    _to_shape(t, node, x, shape)


def _flatten(t: _Translation, node) -> None:
    x = t.computed(node, 0)
    axis = _attributes(node).get("axis", 1) % (len(x.shape) + 1)
    _to_shape(t, node, x, [math.prod(x.shape[:axis]), math.prod(x.shape[axis:])])


def _identity(t: _Translation, node) -> None:
    """Identity, Dropout (inference), and Cast between float types."""
    to = _attributes(node).get("to", onnx.TensorProto.FLOAT)
    training = t.constant(node, 2, required=False) if node.op_type == "Dropout" else None
    if to not in _FLOAT_TYPES or (training is not None and training.any()):
        raise _refusal(node, "only float values, at inference")
    t.set(node, t.computed(node, 0))


def _shape(t: _Translation, node) -> None:
    shape = t.computed(node, 0).shape
    attributes = _attributes(node)
    t.set(node, np.array(shape[attributes.get("start", 0):attributes.get("end", len(shape))],
                         np.int64))


_HANDLERS: dict[str, Callable[[_Translation, onnx.NodeProto], None]] = {
    "Gemm": _gemm, "MatMul": _matmul, "Conv": _conv, "ConvTranspose": _conv_transpose,
    "BatchNormalization": _batch_norm, "Add": _arithmetic, "Sub": _arithmetic,
    "Mul": _arithmetic, "Div": _arithmetic, **dict.fromkeys(_UNARY, _unary), "Swish": _swish,
    "Resize": _resize, "Upsample": _resize, "Reshape": _reshape, "Flatten": _flatten,
    "Squeeze": _squeeze, "Unsqueeze": _unsqueeze, "Identity": _identity, "Dropout": _identity,
    "Cast": _identity, "Shape": _shape}


# --- the graph ----------------------------------------------------------------------------------

def _live_nodes(graph: onnx.GraphProto, output: str) -> list[onnx.NodeProto]:
    """The nodes the output depends on, in graph (topological) order."""
    producers = {name: node for node in graph.node for name in node.output}
    needed, pending = set(), [output]
    while pending:
        node = producers.get(pending.pop())
        if node is not None and id(node) not in needed:
            needed.add(id(node))
            pending.extend(name for name in node.input if name)
    return [node for node in graph.node if id(node) in needed]


def _fold_constants(t: _Translation, node: onnx.NodeProto) -> None:
    feeds = {name: t.values[name] for name in node.input if name}
    results = ReferenceEvaluator(node, opsets={"": t.opset}).run(None, feeds)
    t.values.update((name, np.asarray(r)) for name, r in zip(node.output, results, strict=False))


def _translate(t: _Translation, node: onnx.NodeProto) -> None:
    if node.domain not in ("", "ai.onnx"):
        raise _refusal(node, f"domain {node.domain}")
    known = [name for name in node.input if name]
    missing = [name for name in known if name not in t.values]
    if missing and not (node.op_type == "Mul" and _silu_input(t, node)):
        raise _refusal(node, f"it reads {missing}, neither z nor a constant")
    if all(isinstance(t.values.get(name), np.ndarray) for name in known):
        _fold_constants(t, node)
    elif node.op_type in _HANDLERS:
        _HANDLERS[node.op_type](t, node)
    else:
        raise _refusal(node)


def _z_input(graph: onnx.GraphProto, latent_dim: int) -> tuple[str, int, tuple[int, ...]]:
    """z's name, its batch size when fixed (else 1), and its shape past the batch: (latent_dim,)
    or a spatial latent such as (4, 7, 7) of latent_dim values."""
    initializers = {i.name for i in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initializers]
    if len(inputs) != 1:
        raise ValueError(f"the decoder should have one input, z; it has {len(inputs)}")
    tensor = inputs[0].type.tensor_type
    dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim]
    if dims[1:] == [None]:
        dims[1] = latent_dim
    if tensor.elem_type not in _FLOAT_TYPES or len(dims) < 2 or None in dims[1:] \
            or math.prod(dims[1:]) != latent_dim:
        raise ValueError(f"the decoder's input should be float (batch, {latent_dim}) or a "
                         f"(batch, C, h, w) of {latent_dim} values, not {dims}")
    return inputs[0].name, dims[0] or 1, tuple(dims[1:])


def _fold_affines(layers: list[dict], arrays: list[np.ndarray]) -> list[dict]:
    """Each affine layer folded into the linear/convolution it follows when nothing else reads
    that layer's output; later layers' inputs renumbered (layer k's output is value k+1)."""
    layers = [dict(layer) for layer in layers]
    k = 1
    while k < len(layers):
        layer, before = layers[k], layers[k - 1]
        reads = sum(layer_inputs.count(k) for layer_inputs in (lay["inputs"] for lay in layers))
        if layer["op"] == "affine" and before["op"] in _WEIGHTED and layer["inputs"] == [k] \
                and reads == 1:
            _fold_affine(before, layer, arrays)
            del layers[k]
            for later in layers[k:]:
                later["inputs"] = [v - 1 if v > k else v for v in later["inputs"]]
        else:
            k += 1
    return layers


def _fold_affine(layer: dict, affine: dict, arrays: list[np.ndarray]) -> None:
    axis = _WEIGHTED[layer["op"]]
    weight = arrays[layer["weight"]]
    channels = weight.shape[axis]
    scale = arrays[affine["scale"]] if affine["scale"] is not None else np.ones(channels)
    shift = arrays[affine["shift"]] if affine["shift"] is not None else np.zeros(channels)
    bias = arrays[layer["bias"]] if layer["bias"] is not None else np.zeros(channels)
    broadcast = [1] * weight.ndim
    broadcast[axis] = channels
    arrays.append((weight * scale.reshape(broadcast)).astype(np.float32))
    arrays.append((bias * scale + shift).astype(np.float32))
    layer["weight"], layer["bias"] = len(arrays) - 2, len(arrays) - 1  # the old ones drop out


def _used_arrays(layers: list[dict], arrays: list[np.ndarray]) -> tuple[list[dict], list]:
    """Only the arrays some layer names, renumbered in the order the layers name them."""
    renumbered, used = [], {}
    for layer in layers:
        layer = dict(layer)
        for key in _ARRAY_KEYS:
            if layer.get(key) is not None:
                layer[key] = used.setdefault(layer[key], len(used))
        renumbered.append(layer)
    return renumbered, [arrays[i] for i in used]


def _page_layers(layers: list[dict]) -> list[dict]:
    """`inputs` kept only where a layer reads something other than the previous value."""
    return [{key: value for key, value in layer.items()
             if not (key == "inputs" and value == [k])} for k, layer in enumerate(layers)]


def _checked_head(head: dict) -> dict:
    if head.get("kind") == "bernoulli":
        return {"kind": "bernoulli"}
    if head.get("kind") == "mean":
        return {"kind": "mean", "scale": float(head["scale"]), "offset": float(head["offset"])}
    raise ValueError(f"an imported decoder's head is bernoulli or mean, not {head}")


def head_mean(head: dict, raw: np.ndarray) -> np.ndarray:
    """The image in [0, 1] the page shows for raw decoder outputs (what decoder.js computes)."""
    raw = np.asarray(raw, np.float64)
    if head["kind"] == "bernoulli":
        return 0.5 * (1 + np.tanh(0.5 * raw))  # sigmoid, without overflow for large logits
    return np.clip(raw * head["scale"] + head["offset"], 0, 1)


def decoder_spec_from_onnx(model: onnx.ModelProto, latent_dim: int,
                           image_shape: tuple[int, int, int], head: dict) -> DecoderSpec:
    """The page's op list for an ONNX decoder z (batch, latent_dim) -> (batch, C, H, W) or
    (batch, C*H*W); its first output is the image. `head`: {"kind": "bernoulli"} (outputs are
    logits) or {"kind": "mean", "scale": s, "offset": o} (mean = clip(out * s + o, 0, 1)).

    Raises UnsupportedLayerError naming the first ONNX op the page cannot run, ValueError when
    the graph does not fit latent_dim, image_shape or head.
    """
    head = _checked_head(head)
    graph = model.graph
    z, fixed_batch, z_shape = _z_input(graph, latent_dim)
    output = graph.output[0].name
    nodes = _live_nodes(graph, output)
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    values = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    readers: dict[str, list[onnx.NodeProto]] = {}
    for node in nodes:
        for name in node.input:
            readers.setdefault(name, []).append(node)
    producers = {name: node for node in nodes for name in node.output}
    t = _Translation(opset, fixed_batch, output, producers, readers, values)
    values[z] = Computed(0, (1, latent_dim))
    if len(z_shape) > 1:  # the page's z is flat
        values[z] = t.emit({"op": "reshape", "shape": list(z_shape)}, [values[z]], (1, *z_shape))
    for node in nodes:
        _translate(t, node)
    result = t.values.get(output)
    image = tuple(image_shape)
    if not isinstance(result, Computed) or result.shape[1:] not in (image, (math.prod(image),)):
        shape = result.shape if isinstance(result, Computed) else "a constant"
        raise ValueError(f"the decoder gives {shape}, not (batch, {image}) images")
    layers, arrays = _used_arrays(_fold_affines(t.layers, t.arrays), t.arrays)
    return DecoderSpec(latent_dim, image, _page_layers(layers), head, arrays)
