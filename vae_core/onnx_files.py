"""Reading a stranger's ONNX file: nothing in it is used until checked.

ONNX is protobuf, so parsing runs no code, but a file can still point at a path on this server
for its weights (external data), call kernels we do not ship (custom domains, local functions),
declare a 10 GB tensor, or hold ops the app cannot run. Every check reads only what the parser
already holds: no tensor is converted to an array, so a declared size costs nothing until it has
been compared with the bytes actually stored, and the sizes the graph would compute come from
shape inference, before onnxruntime ever loads it. Messages name the user's file, never a server
path.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import onnx
from google.protobuf.message import DecodeError
from onnx import AttributeProto, GraphProto, ModelProto, NodeProto, SparseTensorProto, TensorProto

MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_TENSOR_BYTES = MAX_FILE_BYTES  # a tensor's data lives in the file, so it cannot be larger
# Any one tensor the graph computes, for one image: a VAE's largest activation on 256 x 256 RGB
# images is tens of MB; 1 GB refuses a graph whose constant shapes ask for far more.
MAX_VALUE_BYTES = 2**30
MAX_NODES = 5000  # the VAEs in examples/foreign_vaes.py export 10 to 40 nodes; a large U-Net ~1000

# What torch.onnx writes for VAE encoders and decoders: layers, activations (GELU, Mish and SiLU
# as Sigmoid*x), upsampling (Resize, DepthToSpace for PixelShuffle), padding modes (Pad), and the
# shape arithmetic around view/flatten/repeat. No control flow: If, Loop and Scan hold subgraphs.
ALLOWED_OPS = frozenset({
    "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Reciprocal",
    "Conv", "ConvTranspose", "BatchNormalization", "InstanceNormalization",
    "GroupNormalization", "LayerNormalization",
    "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh",
    "Softplus", "Softsign", "Gelu", "Mish", "Exp", "Log", "Sqrt", "Pow", "Neg", "Abs", "Erf",
    "Clip", "Min", "Max", "Floor", "Ceil", "Mod",
    "Resize", "Upsample", "DepthToSpace", "Pad",
    "Reshape", "Flatten", "Unsqueeze", "Squeeze", "Concat", "Split", "Slice", "Gather", "Shape",
    "Transpose", "Expand", "Tile", "Range", "Equal", "Where", "Cast",
    "Constant", "ConstantOfShape", "Identity", "Dropout",
    "MaxPool", "AveragePool", "GlobalAveragePool", "ReduceMean", "ReduceSum", "Softmax",
})
STANDARD_DOMAINS = ("", "ai.onnx")
# onnxruntime guarantees opsets from 7; a newer opset than the onnx package knows is unchecked.
OPSETS = range(7, onnx.defs.onnx_opset_version() + 1)
INPUT_TYPES = (TensorProto.FLOAT, TensorProto.FLOAT16)

# Tensor types the allowed ops need (bool and 8-bit for masks and shape ops), with their item
# size and the typed field that holds them when raw_data is not used (onnx.proto's rules).
TENSOR_STORAGE = {
    TensorProto.FLOAT: (4, "float_data"), TensorProto.FLOAT16: (2, "int32_data"),
    TensorProto.DOUBLE: (8, "double_data"), TensorProto.INT64: (8, "int64_data"),
    TensorProto.INT32: (4, "int32_data"), TensorProto.INT8: (1, "int32_data"),
    TensorProto.UINT8: (1, "int32_data"), TensorProto.BOOL: (1, "int32_data"),
}
WHAT_RUNS = ("it runs the layers VAEs are made of (convolutions, linear layers, "
             "normalizations, activations, resizing), with no control flow")
STANDARD_ONLY = "Latent Lab runs only standard ONNX ops"
SELF_CONTAINED = ("Latent Lab reads only self-contained ONNX files: export with all weights "
                  "inside (torch.onnx.export does by default for models under 2 GB)")

Dims = list[int | str | None]


class OnnxFileError(ValueError):
    """A file the app refuses; the message names the user's file and says why in plain words."""


def read_onnx_file(path: Path, file_name: str | None = None) -> ModelProto:
    """The checked model in `path`; its size is checked before a byte is read."""
    name = file_name or Path(path).name
    try:
        size = Path(path).stat().st_size
        _check_file_size(size, name)
        data = Path(path).read_bytes()
    except OSError as error:
        raise OnnxFileError(f"{name} could not be read: {error.strerror or 'no reason given'}") \
            from error
    return read_onnx_bytes(data, name)


def read_onnx_bytes(data: bytes, file_name: str) -> ModelProto:
    """The model in `data`, if it passes every check; raises OnnxFileError otherwise."""
    _check_file_size(len(data), file_name)
    model = _parse(data, file_name)
    _check_no_external_data(model, file_name)
    _check_only_standard_onnx(model, file_name)
    _check_opset(model, file_name)
    _check_allowed_ops(model, file_name)
    _check_tensors(model, file_name)
    _check_single_float_input(model, file_name)
    _run_onnx_checker(model, file_name)
    _check_computed_sizes(model, file_name)
    return model


def graph_io(model: ModelProto) -> tuple[list[tuple[str, Dims]], list[tuple[str, Dims]]]:
    """(inputs, outputs) of the graph as (name, dims); inputs exclude initializers. A dim is an
    int, a dim_param name (e.g. "batch"), or None; dims is empty when no shape is declared."""
    graph = model.graph
    weights = {tensor.name for tensor in graph.initializer}
    inputs = [(value.name, _dims(value)) for value in graph.input if value.name not in weights]
    return inputs, [(value.name, _dims(value)) for value in graph.output]


def _dims(value: onnx.ValueInfoProto) -> Dims:
    dims = value.type.tensor_type.shape.dim
    return [dim.dim_value if dim.HasField("dim_value")
            else dim.dim_param if dim.HasField("dim_param") else None for dim in dims]


def _check_file_size(size: int, name: str) -> None:
    if size > MAX_FILE_BYTES:
        raise OnnxFileError(f"{name} is {_megabytes(size)}; Latent Lab reads ONNX files up to "
                            f"{_megabytes(MAX_FILE_BYTES)}")


def _parse(data: bytes, name: str) -> ModelProto:
    """Protobuf accepts empty input and stops cleanly at any field boundary, so a file cut there
    parses; a model without a graph, opsets or IR version is what such a cut leaves."""
    incomplete = OnnxFileError(f"{name} is not a complete ONNX file (it may be cut short)")
    model = ModelProto()
    try:
        model.ParseFromString(data)
    except (DecodeError, RuntimeError) as error:
        raise incomplete from error
    if not (model.ir_version and model.opset_import and model.HasField("graph")):
        raise incomplete
    return model


def _graphs(model: ModelProto) -> Iterator[GraphProto]:
    """Every graph the file holds: the main one, training graphs, and those inside attributes
    (including those of local functions' nodes), without recursion (nesting is the file's)."""
    pending = [model.graph]
    for info in model.training_info:
        pending += [info.initialization, info.algorithm]
    pending += [graph for function in model.functions for node in function.node
                for graph in _attribute_graphs(node)]
    while pending:
        graph = pending.pop()
        yield graph
        pending += [sub for node in graph.node for sub in _attribute_graphs(node)]


def _attribute_graphs(node: NodeProto) -> Iterator[GraphProto]:
    for attribute in node.attribute:
        if attribute.HasField("g"):
            yield attribute.g
        yield from attribute.graphs


def _nodes(model: ModelProto) -> Iterator[NodeProto]:
    for function in model.functions:
        yield from function.node
    for graph in _graphs(model):
        yield from graph.node


def _tensors(model: ModelProto) -> Iterator[tuple[str, TensorProto]]:
    """(what it is, tensor) for every dense tensor: initializers, sparse tensors' values and
    indices, and node attributes (Constant's value, ConstantOfShape's fill)."""
    for graph in _graphs(model):
        for tensor in graph.initializer:
            yield f"weight {_quoted(tensor.name)}", tensor
        for sparse in graph.sparse_initializer:
            yield f"sparse weight {_quoted(sparse.values.name)}", sparse.values
            yield f"sparse weight {_quoted(sparse.values.name)}", sparse.indices
    for node in _nodes(model):
        for attribute in node.attribute:
            for tensor in _attribute_tensors(attribute):
                yield f"the constant in {_node_label(node)}", tensor


def _node_label(node: NodeProto) -> str:
    op = _plain(node.op_type)
    return f"{op} node {_quoted(node.name)}" if node.name else f"a {op} node"


def _attribute_tensors(attribute: AttributeProto) -> Iterator[TensorProto]:
    if attribute.HasField("t"):
        yield attribute.t
    yield from attribute.tensors
    for sparse in _attribute_sparse_tensors(attribute):
        yield from (sparse.values, sparse.indices)


def _attribute_sparse_tensors(attribute: AttributeProto) -> Iterator[SparseTensorProto]:
    if attribute.HasField("sparse_tensor"):
        yield attribute.sparse_tensor
    yield from attribute.sparse_tensors


def _check_no_external_data(model: ModelProto, name: str) -> None:
    for _, tensor in _tensors(model):
        if tensor.data_location == TensorProto.EXTERNAL or tensor.external_data:
            location = {entry.key: entry.value for entry in tensor.external_data}.get("location")
            where = f" ({_quoted(Path(_plain(location)).name)})" if location else ""
            raise OnnxFileError(f"{name} refers to weights in another file{where}; "
                                f"{SELF_CONTAINED}")


def _check_only_standard_onnx(model: ModelProto, name: str) -> None:
    for node in _nodes(model):
        if node.domain not in STANDARD_DOMAINS:
            raise OnnxFileError(f"{name} uses the custom op {_quoted(node.op_type)} from "
                                f"domain {_quoted(node.domain)}; {STANDARD_ONLY}")
    for opset in model.opset_import:
        if opset.domain not in STANDARD_DOMAINS:
            raise OnnxFileError(f"{name} imports the custom op domain {_quoted(opset.domain)}; "
                                f"{STANDARD_ONLY}")
    if model.functions:
        raise OnnxFileError(f"{name} defines its own functions "
                            f"({_quoted(model.functions[0].name)}); {STANDARD_ONLY}: "
                            f"export with functions inlined")
    if model.training_info:
        raise OnnxFileError(f"{name} holds training steps; Latent Lab reads only inference "
                            f"models: export the model for inference")


def _check_opset(model: ModelProto, name: str) -> None:
    for opset in model.opset_import:
        if opset.version not in OPSETS:
            raise OnnxFileError(f"{name} uses ONNX opset {opset.version}; Latent Lab reads "
                                f"opsets {OPSETS.start} to {OPSETS.stop - 1}: export with "
                                f"torch.onnx.export(..., opset_version=17)")


def _check_allowed_ops(model: ModelProto, name: str) -> None:
    for count, node in enumerate(_nodes(model), start=1):
        if node.op_type not in ALLOWED_OPS:
            raise OnnxFileError(f"{name} uses the op {_quoted(node.op_type)}, which Latent Lab "
                                f"cannot run; {WHAT_RUNS}")
        if count > MAX_NODES:
            raise OnnxFileError(f"{name} has more than {MAX_NODES:,} nodes; Latent Lab reads "
                                f"models up to that size")


def _check_tensors(model: ModelProto, name: str) -> None:
    if _has_sparse_tensors(model):  # a runtime densifies them: 1 stored value may become 40 GB
        raise OnnxFileError(f"{name} stores weights as sparse tensors; Latent Lab reads only "
                            f"dense weights: export without sparse initializers")
    for what, tensor in _tensors(model):
        problem = _tensor_problem(tensor)
        if problem:
            raise OnnxFileError(f"{name}: {what} {problem}")


def _has_sparse_tensors(model: ModelProto) -> bool:
    return any(graph.sparse_initializer for graph in _graphs(model)) or any(
        any(_attribute_sparse_tensors(attribute))
        for node in _nodes(model) for attribute in node.attribute)


def _tensor_problem(tensor: TensorProto) -> str | None:
    """Why the tensor cannot be used, judged from its declared type, dims and stored length."""
    if tensor.data_type not in TENSOR_STORAGE:
        return (f"has type {_type_name(tensor.data_type)}; Latent Lab reads float, integer "
                f"and boolean tensors")
    if any(dim < 0 for dim in tensor.dims):
        return f"has a negative dimension {list(tensor.dims)}"
    item_size, typed_field = TENSOR_STORAGE[tensor.data_type]
    declared = math.prod(tensor.dims) * item_size
    if declared > MAX_TENSOR_BYTES:
        return f"declares {_megabytes(declared)}; the limit is {_megabytes(MAX_TENSOR_BYTES)}"
    stored = len(tensor.raw_data) if tensor.HasField("raw_data") \
        else len(getattr(tensor, typed_field)) * item_size
    if stored != declared:
        return (f"declares {declared:,} bytes of data but the file holds {stored:,} "
                f"(it may be damaged)")
    return None


def _type_name(data_type: int) -> str:
    known = data_type in TensorProto.DataType.values()
    return TensorProto.DataType.Name(data_type).lower() if known else f"number {data_type}"


def _check_single_float_input(model: ModelProto, name: str) -> None:
    weights = {tensor.name for tensor in model.graph.initializer}
    inputs = [value for value in model.graph.input if value.name not in weights]
    if len(inputs) != 1:
        names = ", ".join(_quoted(value.name) for value in inputs[:5]) or "none"
        raise OnnxFileError(f"{name} has {len(inputs)} inputs ({names}); Latent Lab needs "
                            f"exactly one: the images for an encoder, the codes for a decoder")
    label, tensor_type = _quoted(inputs[0].name), inputs[0].type.tensor_type
    if tensor_type.elem_type not in INPUT_TYPES:
        raise OnnxFileError(f"{name}: input {label} is not a float32 or float16 tensor; "
                            f"Latent Lab feeds images or codes as floats")
    if not tensor_type.HasField("shape"):
        raise OnnxFileError(f"{name}: input {label} declares no shape; export with an example "
                            f"input so the file records it")
    dims = graph_io(model)[0][0][1]
    if any(isinstance(dim, int) and dim < 1 for dim in dims):
        raise OnnxFileError(f"{name}: input {label} declares a size below 1 in its shape "
                            f"{_dims_text(dims)}")


def _run_onnx_checker(model: ModelProto, name: str) -> None:
    """ONNX's own structural check, after ours: it needs a model it can hold in memory."""
    try:
        onnx.checker.check_model(model, full_check=False)
    except (onnx.checker.ValidationError, ValueError) as error:
        reason = _plain(str(error), 300) or "no reason given"
        raise OnnxFileError(f"{name} is not a valid ONNX model: {reason}") from error


def _check_computed_sizes(model: ModelProto, name: str) -> None:
    """onnxruntime folds constants when it loads a graph, so ConstantOfShape([10**5, 10**5]) in
    a 1 kB file allocates 40 GB before anything runs. Shape inference gives each value's dims
    without computing it; a dim it cannot know (the batch) counts as 1. Not data_prop: onnx
    1.23's propagation through Slice allocates what a hostile end index asks for."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except (onnx.shape_inference.InferenceError, ValueError) as error:
        raise OnnxFileError(f"{name} is not a valid ONNX model: {_plain(str(error), 300)}") \
            from error
    for value in (*inferred.graph.value_info, *inferred.graph.output):
        tensor_type = value.type.tensor_type
        item_size = TENSOR_STORAGE.get(tensor_type.elem_type, (8, None))[0]
        size = item_size * math.prod(max(dim.dim_value, 1) for dim in tensor_type.shape.dim)
        if size > MAX_VALUE_BYTES:
            raise OnnxFileError(f"{name} computes {_quoted(value.name)} of {_megabytes(size)} "
                                f"for one image; Latent Lab's limit is "
                                f"{_megabytes(MAX_VALUE_BYTES)}")


def _dims_text(dims: Dims) -> str:
    return " x ".join(str(dim) if isinstance(dim, int) else "?" for dim in dims)


def _quoted(text: str | bytes) -> str:
    return f"'{_plain(text)}'"


def _plain(text: str | bytes, limit: int = 80) -> str:
    """`text` from the file as one printable line: a string field that is not UTF-8 arrives as
    bytes, and a name may hold control characters."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    line = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return line if len(line) <= limit else f"{line[:limit - 3]}..."


def _megabytes(size: int) -> str:
    return f"{size / 2**20:,.0f} MB"
