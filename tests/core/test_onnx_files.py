"""An imported ONNX file is a stranger's until checked: hostile files are built here with
onnx.helper, and every foreign VAE a user might export must still read back."""

import itertools
import time
import tracemalloc

import numpy as np
import onnx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from examples.foreign_vaes import FOREIGN_VAES, build, export_onnx
from tests.conftest import PROJECT_DIR
from vae_core import onnx_files
from vae_core.onnx_files import (
    MAX_FILE_BYTES,
    MAX_NODES,
    OnnxFileError,
    graph_io,
    read_onnx_bytes,
    read_onnx_file,
)

NAME = "decoder.onnx"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """{name: (encoder path, decoder path)} for every model in examples/foreign_vaes.py."""
    directory = tmp_path_factory.mktemp("foreign")
    return {name: export_onnx(build(name), directory / name) for name in FOREIGN_VAES}


def _matmul_model() -> onnx.ModelProto:
    """A valid decoder: z (batch x 4) times a 4 x 3 weight."""
    weight = numpy_helper.from_array(np.ones((4, 3), np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["z", "w"], ["y"])], "decoder",
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])],
        initializer=[weight])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _refused(data: bytes | onnx.ModelProto, match: str) -> str:
    """The message read_onnx_bytes refuses `data` with, checked to be plain and to match."""
    if isinstance(data, onnx.ModelProto):
        data = data.SerializeToString()
    with pytest.raises(OnnxFileError, match=match) as caught:
        read_onnx_bytes(data, NAME)
    return _assert_plain(str(caught.value))


def _file_refused(path, match: str) -> str:
    """As _refused, for read_onnx_file on `path`, named NAME: its default file name is tested."""
    assert path.name == NAME
    with pytest.raises(OnnxFileError, match=match) as caught:
        read_onnx_file(path)
    return _assert_plain(str(caught.value))


def _assert_plain(message: str, leaks: tuple[str, ...] = ("/", "<", "Error(", "\\x")) -> str:
    """`message` is one printable line naming the file, with no server path, traceback, nor
    any of `leaks`: paths, reprs and escaped bytes. The files built here have no such text in
    any name, so one in the message came from elsewhere."""
    assert message.startswith(NAME) and message.isprintable()
    for leak in (*leaks, str(PROJECT_DIR), "Traceback"):
        assert leak not in message, f"{leak!r} in {message!r}"
    return message


# --- files that read --------------------------------------------------------------------------

@pytest.mark.parametrize("name", FOREIGN_VAES)
def test_every_foreign_vae_export_reads_back_with_its_inputs_and_outputs(exported, name):
    for path, input_name in zip(exported[name], ("x", "z"), strict=True):
        inputs, outputs = graph_io(read_onnx_file(path))
        assert inputs[0][0] == input_name and inputs[0][1][0] == "batch" and len(inputs) == 1
        assert outputs and all(dims for _, dims in outputs)


def test_graph_io_gives_dims_as_ints_names_or_none_and_skips_initializers_listed_as_inputs():
    model = _matmul_model()
    model.graph.input.append(helper.make_tensor_value_info("w", TensorProto.FLOAT, [4, 3]))
    model.graph.output[0].type.tensor_type.shape.dim[1].Clear()
    model = read_onnx_bytes(model.SerializeToString(), NAME)
    assert graph_io(model) == ([("z", ["batch", 4])], [("y", ["batch", None])])


# --- size, and files that do not parse --------------------------------------------------------

def test_a_file_over_the_size_limit_is_refused_from_its_size_without_being_read(
        tmp_path, monkeypatch):
    path = tmp_path / NAME
    with open(path, "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk is used
    monkeypatch.setattr(type(path), "read_bytes", lambda self: pytest.fail("read the file"))
    _file_refused(path, "is 200 MB; Latent Lab reads ONNX files up to 200 MB")


def test_bytes_over_the_size_limit_are_refused(monkeypatch):
    monkeypatch.setattr(onnx_files, "MAX_FILE_BYTES", 100)
    _refused(_matmul_model(), "; Latent Lab reads ONNX files up to")


def test_a_missing_file_says_so_without_the_servers_path(tmp_path):
    _file_refused(tmp_path / "gone" / NAME, "could not be read: No such file")


def test_os_errors_other_than_a_missing_file_stay_plain(tmp_path):
    (tmp_path / NAME).mkdir()
    _file_refused(tmp_path / NAME, "could not be read: Is a directory")


@pytest.mark.parametrize("data", [
    b"", b"not an onnx file", bytes(np.random.default_rng(0).integers(0, 256, 4096, np.uint8)),
    helper.make_model(helper.make_graph([], "g", [], [])).SerializeToString()[:4],
], ids=["empty", "text", "random", "header-only"])
def test_empty_garbage_and_headerless_bytes_are_not_a_complete_onnx_file(data):
    _refused(data, "is not a complete ONNX file \\(it may be cut short\\)")


def test_a_real_export_cut_in_half_is_not_a_complete_onnx_file(exported):
    data = exported["residual"][1].read_bytes()
    _refused(data[:len(data) // 2], "is not a complete ONNX file")


# --- external data ----------------------------------------------------------------------------

def _point_outside(tensor: TensorProto, location: str = "w.bin") -> None:
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    tensor.external_data.add(key="location", value=location)


def _in_initializer(model):
    _point_outside(model.graph.initializer[0])


def _in_constant(model):
    constant = helper.make_node("Constant", [], ["c"], value=numpy_helper.from_array(
        np.ones(3, np.float32)))
    _point_outside(constant.attribute[0].t)
    model.graph.node.insert(0, constant)


def _in_sparse_initializer(model):
    values = numpy_helper.from_array(np.ones(2, np.float32), "s")
    _point_outside(values)
    indices = numpy_helper.from_array(np.array([0, 5], np.int64))
    model.graph.sparse_initializer.append(helper.make_sparse_tensor(values, indices, [4, 3]))


def _in_subgraph(model):
    inner = _matmul_model().graph
    _point_outside(inner.initializer[0])
    model.graph.node.append(helper.make_node("If", ["cond"], ["out"], then_branch=inner,
                                             else_branch=inner))


def _location_only(model):
    model.graph.initializer[0].external_data.add(key="location", value="/etc/passwd")


@pytest.mark.parametrize("edit", [_in_initializer, _in_constant, _in_sparse_initializer,
                                  _in_subgraph, _location_only])
def test_weights_in_another_file_are_refused_wherever_the_tensor_is(edit):
    model = _matmul_model()
    edit(model)
    message = _refused(model, "refers to weights in another file")
    assert "self-contained" in message


def test_the_external_file_is_named_without_its_path():
    model = _matmul_model()
    _point_outside(model.graph.initializer[0], "../../etc/shadow")
    assert "another file ('shadow')" in _refused(model, "another file")


# --- custom ops, allowed ops, node count ------------------------------------------------------

def test_an_op_from_a_custom_domain_is_refused_naming_op_and_domain():
    model = _matmul_model()
    model.graph.node[0].domain = "com.example"
    model.opset_import.append(helper.make_opsetid("com.example", 1))
    _refused(model, "the custom op 'MatMul' from domain 'com.example'")


def test_importing_a_custom_domain_is_refused_even_unused():
    model = _matmul_model()
    model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    _refused(model, "imports the custom op domain 'com.microsoft'")


def test_local_functions_are_refused():
    model = _matmul_model()
    model.functions.append(helper.make_function(
        "", "Twice", ["a"], ["b"], [helper.make_node("Add", ["a", "a"], ["b"])],
        [helper.make_opsetid("", 17)]))
    _refused(model, "defines its own functions \\('Twice'\\)")


def test_training_steps_are_refused():
    model = _matmul_model()
    model.training_info.add().algorithm.CopyFrom(_matmul_model().graph)
    _refused(model, "holds training steps; Latent Lab reads only inference models")


@pytest.mark.parametrize("version", [6, onnx.defs.onnx_opset_version() + 1])
def test_an_opset_onnxruntime_does_not_guarantee_or_onnx_does_not_know_is_refused(version):
    model = _matmul_model()
    model.opset_import[0].version = version
    _refused(model, f"uses ONNX opset {version}; Latent Lab reads opsets 7 to ")


@pytest.mark.parametrize("op", ["Loop", "If", "Frobnicate", "NonMaxSuppression"])
def test_an_op_outside_the_allow_list_is_named_and_refused(op):
    model = _matmul_model()
    model.graph.node.append(helper.make_node(op, ["y"], ["unused"]))
    assert "cannot run" in _refused(model, f"uses the op '{op}'")


def test_a_graph_over_the_node_limit_is_refused():
    model = _matmul_model()
    names = ["y"] + [f"y{i}" for i in range(MAX_NODES)]
    model.graph.node.extend(helper.make_node("Identity", [a], [b])
                            for a, b in itertools.pairwise(names))
    _refused(model, f"more than {MAX_NODES:,} nodes")


# --- tensors ----------------------------------------------------------------------------------

def test_a_10_gb_declared_weight_is_refused_quickly_without_allocating_it():
    model = _matmul_model()
    model.graph.initializer.append(TensorProto(name="huge", data_type=TensorProto.FLOAT,
                                               dims=[50_000, 50_000]))
    data = model.SerializeToString()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        _refused(data, "weight 'huge' declares 9,537 MB; the limit is 200 MB")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 1
    assert peak < 10 * 2**20


def _short_raw_data(weight):
    weight.raw_data = weight.raw_data[:-4]


def _typed_data_too_short(weight):
    weight.ClearField("raw_data")
    weight.float_data.extend([1.0] * 11)


def _negative_dim(weight):
    weight.dims[0] = -4


def _string_type(weight):
    weight.ClearField("raw_data")
    weight.data_type = TensorProto.STRING
    weight.string_data.extend([b"a"] * 12)


@pytest.mark.parametrize(("edit", "match"), [
    (_short_raw_data, "declares 48 bytes of data but the file holds 44"),
    (_typed_data_too_short, "declares 48 bytes of data but the file holds 44"),
    (_negative_dim, "has a negative dimension \\[-4, 3\\]"),
    (_string_type, "has type string; Latent Lab reads float, integer and boolean tensors"),
], ids=["short-raw-data", "short-typed-data", "negative-dim", "string"])
def test_a_weight_whose_declaration_does_not_match_its_data_is_refused(edit, match):
    model = _matmul_model()
    edit(model.graph.initializer[0])
    _refused(model, f"weight 'w' {match}")


def test_a_constant_nodes_tensor_is_checked_like_a_weight():
    model = _matmul_model()
    constant = helper.make_node("Constant", [], ["c"], name="scale",
                                value=TensorProto(data_type=TensorProto.FLOAT, dims=[10**9]))
    model.graph.node.insert(0, constant)
    _refused(model, "the constant in Constant node 'scale' declares 3,815 MB")


def test_sparse_weights_are_refused():
    model = _matmul_model()
    values = numpy_helper.from_array(np.ones(1, np.float32), "s")
    indices = numpy_helper.from_array(np.array([0], np.int64))
    model.graph.sparse_initializer.append(helper.make_sparse_tensor(values, indices, [10**10]))
    _refused(model, "stores weights as sparse tensors")


def test_a_tiny_graph_whose_constant_shapes_ask_for_40_gb_is_refused_before_it_is_run():
    # onnxruntime would fold ConstantOfShape into a 40 GB tensor while loading the graph.
    model = _matmul_model()
    model.graph.initializer.append(numpy_helper.from_array(np.array([10**5, 10**5]), "shape"))
    model.graph.node.extend([
        helper.make_node("ConstantOfShape", ["shape"], ["big"], name="fill"),
        helper.make_node("ReduceSum", ["big"], ["total"], keepdims=0),
        helper.make_node("Add", ["y", "total"], ["y_plus"])])
    model.graph.output[0].name = "y_plus"
    _refused(model, "computes 'big' of 38,147 MB for one image; Latent Lab's limit is 1,024 MB")


# --- the graph's input, and ONNX's own checker ------------------------------------------------

def test_two_graph_inputs_are_refused():
    model = _matmul_model()
    model.graph.input.append(helper.make_tensor_value_info("label", TensorProto.FLOAT, [1]))
    _refused(model, "has 2 inputs \\('z', 'label'\\); Latent Lab needs exactly one")


def test_a_graph_with_only_weights_has_no_input():
    model = _matmul_model()
    model.graph.ClearField("input")
    _refused(model, "has 0 inputs \\(none\\)")


def test_an_integer_input_is_refused():
    model = _matmul_model()
    model.graph.input[0].type.tensor_type.elem_type = TensorProto.INT64
    _refused(model, "input 'z' is not a float32 or float16 tensor")


def test_an_input_without_a_shape_is_refused():
    model = _matmul_model()
    model.graph.input[0].type.tensor_type.ClearField("shape")
    _refused(model, "input 'z' declares no shape")


def test_an_input_with_a_size_below_one_is_refused():
    model = _matmul_model()
    model.graph.input[0].type.tensor_type.shape.dim[1].dim_value = -4
    _refused(model, "input 'z' declares a size below 1 in its shape \\? x -4")


def test_the_onnx_checkers_complaint_is_one_plain_line():
    model = _matmul_model()
    model.graph.node[0].input[1] = "nowhere"
    _refused(model, "is not a valid ONNX model: ")


# --- fuzz -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fuzz_path(exported):
    return exported["residual"][1]


@pytest.mark.fuzz
@settings(max_examples=50, deadline=None)
@given(cut=st.floats(0, 1), edits=st.lists(
    st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=8))
def test_damaged_real_files_are_read_or_refused_plainly(fuzz_path, cut, edits):
    source = fuzz_path.read_bytes()
    data = bytearray(source[:round(len(source) * cut)] or source)
    for where, value in edits:
        data[int(where * len(data))] = value
    try:
        read_onnx_bytes(bytes(data), NAME)
    except OnnxFileError as error:  # names from the file ("/decoder/Conv") may be quoted
        _assert_plain(str(error), leaks=(str(fuzz_path.parent),))
