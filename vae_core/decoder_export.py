"""A VAE's decoder as data for a page to run: its ordered op list, weights and likelihood head.

The list is the decoder's own `ops()` (the one its forward() runs), so torch and the page cannot
drift apart: an op this module does not know raises UnsupportedLayerError naming it. `pack` gives
one envelope (`pack_envelope`, the page's one binary layout: a JSON header, then a blob per
weight array, little-endian float16 or float32); ui/frontend/decoder.js reads it. Formats are
versioned by FORMAT.

The layers form a graph of values: value 0 is z, value k is layer k-1's output, and the last value
is the head's raw input. A layer reads the previous value unless it names others in `inputs`
(e.g. a residual `{"op": "add", "inputs": [2, 5]}`). Shapes omit the batch: (N,) or (C, H, W).
Ops: linear, relu, reshape, conv2d, conv_transpose2d (this module's), and from imported ONNX
decoders (vae_core.onnx_decoder): affine (x * scale[c] + shift[c] per channel), leaky_relu and
elu (alpha), sigmoid, tanh, softplus, silu, add, resize_nearest and resize_bilinear (whole-number
`factor` [h, w]; bilinear as torch's align_corners=False). Heads: vae_core.models.heads's kinds,
and for imported decoders {"kind": "mean", "scale": s, "offset": o}: mean = clip(raw * s + o, 0, 1)
with no std.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .models import VAE
from .models.ops import Reshape, SizedConvTranspose2d

FORMAT = "latent-lab-decoder/3"
_ALIGN = 8  # every array starts at a multiple of 8 bytes: typed arrays need aligned offsets


class UnsupportedLayerError(ValueError):
    """The decoder has an op the page cannot run; the message names it."""


@dataclass(frozen=True)
class DecoderSpec:
    """What the page needs: `layers` (JSON-able dicts) refer to `arrays` by index."""

    latent_dim: int
    image_shape: tuple[int, int, int]
    layers: list[dict]
    head: dict
    arrays: list[np.ndarray]  # float32, in the order the layers name them


def _array(tensor: torch.Tensor, arrays: list[np.ndarray]) -> int:
    arrays.append(tensor.detach().to("cpu", torch.float32).numpy().copy())
    return len(arrays) - 1


def _conv_transpose(op: SizedConvTranspose2d, arrays: list[np.ndarray]) -> dict:
    layer = op.layer
    if layer.groups != 1 or layer.dilation != (1, 1) or layer.padding_mode != "zeros":
        raise UnsupportedLayerError(
            f"the page cannot run a transposed convolution with groups {layer.groups}, "
            f"dilation {'x'.join(map(str, layer.dilation))} and {layer.padding_mode} padding: "
            "only groups 1, dilation 1 and zero padding")
    return {"op": "conv_transpose2d", "in_channels": layer.in_channels,
            "out_channels": layer.out_channels, "kernel": list(layer.kernel_size),
            "stride": list(layer.stride), "padding": list(layer.padding),
            "output_size": list(op.output_size), "weight": _array(layer.weight, arrays),
            "bias": _array(layer.bias, arrays) if layer.bias is not None else None}


def _layer(op, arrays: list[np.ndarray]) -> dict:
    if isinstance(op, nn.Linear):
        return {"op": "linear", "in": op.in_features, "out": op.out_features,
                "weight": _array(op.weight, arrays),
                "bias": _array(op.bias, arrays) if op.bias is not None else None}
    if isinstance(op, nn.ReLU):
        return {"op": "relu"}
    if isinstance(op, Reshape):
        return {"op": "reshape", "shape": list(op.shape)}
    if isinstance(op, SizedConvTranspose2d):
        return _conv_transpose(op, arrays)
    raise UnsupportedLayerError(f"the page cannot run the decoder layer {type(op).__name__}")


def export_decoder(model: VAE) -> DecoderSpec:
    """The decoder's op list and weights, and the likelihood head's description."""
    arrays: list[np.ndarray] = []
    layers = [_layer(op, arrays) for op in model.decoder.ops()]
    config = model.config
    return DecoderSpec(config.latent_dim, tuple(config.image_shape), layers,
                       model.likelihood_head.describe(), arrays)


def _lossless_in_float16(arrays: list[np.ndarray]) -> bool:
    """True when every weight is a float16 value (e.g. the shipped half-precision assets)."""
    return all(np.array_equal(a.astype(np.float16).astype(np.float32), a) for a in arrays)


def pack_envelope(control: dict, blobs: dict[str, bytes] | None = None) -> bytes:
    """One bytes payload: a JSON part and named binary blobs. The page's one binary layout: a
    decoder's weights, and a component's data (st.components.v2 takes raw bytes only as the
    whole `data`) that may carry a packed decoder as one of its blobs.

    Layout: u32 JSON length (little-endian), the JSON (with "blobs": {name: [offset, length]}),
    padding to 8 bytes, then the blobs, each starting at a multiple of 8 (typed arrays need
    aligned offsets)."""
    table, chunks, offset = {}, [], 0
    for name, blob in (blobs or {}).items():
        table[name] = [offset, len(blob)]
        padded = blob + b"\0" * (-len(blob) % _ALIGN)
        chunks.append(padded)
        offset += len(padded)
    text = json.dumps({**control, "blobs": table}, separators=(",", ":")).encode()
    text += b" " * (-(4 + len(text)) % _ALIGN)
    return struct.pack("<I", len(text)) + text + b"".join(chunks)


def read_envelope(data: bytes) -> tuple[dict, dict[str, bytes]]:
    """The inverse of pack_envelope: (control, blobs)."""
    (length,) = struct.unpack_from("<I", data)
    control = json.loads(data[4 : 4 + length])
    start = 4 + length
    blobs = {name: data[start + offset : start + offset + size]
             for name, (offset, size) in control.pop("blobs").items()}
    return control, blobs


def pack(spec: DecoderSpec, dtype: str | None = None) -> bytes:
    """The decoder as an envelope: the header (layers, head, shapes) and one blob per array,
    named by its index, as little-endian float16 or float32.

    dtype None picks float16 when that loses nothing, else float32 (trained runs).
    """
    if dtype is None:
        dtype = "float16" if _lossless_in_float16(spec.arrays) else "float32"
    header = {"format": FORMAT, "dtype": dtype, "latent_dim": spec.latent_dim,
              "image_shape": list(spec.image_shape), "layers": spec.layers, "head": spec.head,
              "arrays": [{"length": int(a.size), "shape": list(a.shape)} for a in spec.arrays]}
    little_endian = np.dtype(dtype).newbyteorder("<")
    return pack_envelope(header, {str(i): a.astype(little_endian).tobytes()
                                  for i, a in enumerate(spec.arrays)})


def unpack(blob: bytes) -> DecoderSpec:
    """The inverse of pack (weights as float32); raises ValueError on a malformed blob."""
    try:
        header, blobs = read_envelope(blob)
        if header.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} blob")
        dtype = np.dtype(header["dtype"]).newbyteorder("<")
        arrays = [np.frombuffer(blobs[str(i)], dtype, a["length"]).astype(np.float32)
                  .reshape(a["shape"]) for i, a in enumerate(header["arrays"])]
    except (struct.error, KeyError, TypeError, ValueError) as error:  # JSONDecodeError too
        raise ValueError(f"malformed decoder blob: {error}") from error
    return DecoderSpec(header["latent_dim"], tuple(header["image_shape"]), header["layers"],
                       header["head"], arrays)
