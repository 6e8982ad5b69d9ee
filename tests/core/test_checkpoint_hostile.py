"""A checkpoint is a stranger's file until checked: hostile configs, headers and metadata."""

import json
import struct
import subprocess
import sys
import textwrap

import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from tests.conftest import PROJECT_DIR, make_tiny_checkpoint
from tests.plain_messages import assert_plain
from vae_core import checkpoint as checkpoint_module
from vae_core.checkpoint import CheckpointError, load_checkpoint, load_checkpoint_bytes
from vae_core.checkpoint_checks import MAX_PARAMETERS, expected_shapes
from vae_core.config import ModelConfig


def _upload(directory, edit=None):
    """(weights bytes, config.json bytes) of a tiny checkpoint, its config edited by `edit`."""
    document = json.loads((directory / "config.json").read_text())
    if edit:
        edit(document)
    return (directory / "model.safetensors").read_bytes(), json.dumps(document).encode()


@pytest.fixture
def tiny(tmp_path):
    return make_tiny_checkpoint(tmp_path / "tiny", "mnist32")


@pytest.fixture
def no_model_built(monkeypatch):
    """Fail if a real (non-meta) model is built or a weight is read."""
    def refuse(*args, **kwargs):
        raise AssertionError("built a model or read weights before refusing the checkpoint")
    monkeypatch.setattr(checkpoint_module, "build_model", refuse)
    monkeypatch.setattr(checkpoint_module, "load_file", refuse)


def test_a_model_over_the_parameter_cap_is_refused_before_any_module_is_built(
        tiny, no_model_built):
    # Every field is inside its bound; together they make 77M parameters (310 MB as float32).
    def huge(document):
        document["model"].update(arch="mlp", hidden=[4096, 4096, 4096])
    with pytest.raises(CheckpointError, match=r"M parameters; the limit is 50M"):
        load_checkpoint_bytes(*_upload(tiny, huge))


@pytest.mark.parametrize(("field", "value", "message"), [
    ("hidden", [20000, 20000], "hidden needs 1 to 8 widths, each between 1 and 4096"),
    ("image_shape", [1, 100000, 100000], "between 1 and 256"),
    ("image_shape", [64, 28, 28], "1 \\(gray\\) or 3 \\(RGB\\) channels"),
    ("dense", 10**9, "dense must be between 1 and 8192"),
    ("latent_dim", 10**6, "latent_dim must be between 1 and 512"),
    ("latent_dim", "16", 'latent_dim must be an integer, got "16"'),
    ("hidden", [32, 64.5], "hidden must be a list of integers"),
    ("min_std", "NaN", "min_std must be a finite number"),
    # Found by tests/core/test_fuzz_checkpoints.py: a TypeError escaped, then Python reprs.
    ("hidden", None, "^config.json: model.hidden must be a list of integers, got null$"),
    ("colour", "red", '^config.json: unknown keys in model: "colour"$'),
])
def test_every_model_size_is_bounded_and_typed(tiny, no_model_built, field, value, message):
    def edit(document):
        document["model"][field] = float("nan") if value == "NaN" else value
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint_bytes(*_upload(tiny, edit))


def test_an_unknown_top_level_key_is_named_as_a_sections_is(tiny, no_model_built):
    def edit(document):
        document["colour"] = "red"
    with pytest.raises(CheckpointError,
                       match=r'^config\.json: unknown keys at the top level: "colour"$'):
        load_checkpoint_bytes(*_upload(tiny, edit))


def test_the_shapes_data_set_size_is_bounded(tiny, no_model_built):
    def edit(document):
        document["data"] = {"name": "shapes", "n_samples": 10**8}
    with pytest.raises(CheckpointError, match="'shapes' n_samples must be at most 50000"):
        load_checkpoint_bytes(*_upload(tiny, edit))


def test_hidden_20000_is_refused_without_raising_the_peak_memory(tiny, tmp_path):
    """The case from the issue (it raised the server's peak by 3 GB), in a fresh process so the
    peak RSS belongs to this load alone."""
    weights, config = _upload(tiny, lambda d: d["model"].update(arch="mlp", hidden=[20000, 20000]))
    (tmp_path / "w").write_bytes(weights)
    (tmp_path / "c").write_bytes(config)
    script = textwrap.dedent(f"""
        import resource, torch
        from pathlib import Path
        from vae_core.checkpoint import CheckpointError, load_checkpoint_bytes
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            load_checkpoint_bytes(Path({str(tmp_path / "w")!r}).read_bytes(),
                                  Path({str(tmp_path / "c")!r}).read_bytes())
        except CheckpointError as error:
            print("refused", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         cwd=PROJECT_DIR, timeout=120, check=True).stdout.split()
    assert out[0] == "refused"
    assert int(out[1]) < 50 * 1024  # kB: the peak grew by less than 50 MB


def test_tensor_shapes_are_checked_from_the_header_before_weights_are_read(
        tiny, no_model_built):
    def wider(document):
        document["model"]["dense"] = 32
    needs = "^config.json says a dense layer 32 wide, the weights have a dense layer 16 wide$"
    with pytest.raises(CheckpointError, match=needs):
        load_checkpoint_bytes(*_upload(tiny, wider))


@pytest.mark.parametrize(("edit", "message"), [
    ({"latent_dim": 8}, "^config.json says 8 latent dimensions, the weights have 4 latent "
                        "dimensions$"),
    ({"latent_dim": 1}, "^config.json says 1 latent dimension, the weights have 4 latent "
                        "dimensions$"),
    # Two settings at once: each layer is named with both sizes.
    ({"latent_dim": 8, "dense": 32}, "layer decoder.head.0's weight is 16 x 4 in the weights; "
                                     "config.json makes it 32 x 8; "),
])
def test_a_size_mismatch_is_said_in_config_terms(tiny, no_model_built, edit, message):
    with pytest.raises(CheckpointError, match=message) as refused:
        load_checkpoint_bytes(*_upload(tiny, lambda document: document["model"].update(edit)))
    assert_plain(str(refused.value))


def test_integer_tensors_and_oversized_headers_are_refused(tiny, tmp_path):
    weights = {k: v.to(torch.int32) for k, v in load_checkpoint(tiny).model.state_dict().items()}
    save_file(weights, str(tmp_path / "int.safetensors"))
    config = (tiny / "config.json").read_bytes()
    with pytest.raises(CheckpointError, match="dtype I32"):
        load_checkpoint_bytes((tmp_path / "int.safetensors").read_bytes(), config)
    header_claims_50mb = struct.pack("<Q", 50 * 2**20) + b"{}"
    with pytest.raises(CheckpointError, match="-byte header; not a Latent Lab model"):
        load_checkpoint_bytes(header_claims_50mb, config)


@pytest.mark.parametrize(("text", "message"), [
    ("[" * 100_000, "not valid JSON"),
    ('{"format_version": {"a": null}}', 'format_version is {"a": null}; this Latent Lab reads 1'),
    ('{"format_version": 1}', "^config.json lacks model and data$"),
    ('{"format_version": 1, "model": {}, "data": {}, "pad": "' + "x" * 5 * 2**20 + '"}',
     "larger than"),
])
def test_hostile_json_is_refused_with_a_message(tiny, text, message):
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint_bytes((tiny / "model.safetensors").read_bytes(), text)


@pytest.mark.parametrize(("metadata", "message"), [
    ({"test": {"neg_elbo": "abc"}}, r'metadata\.test\.neg_elbo must be a finite number, got "abc"'),
    ({"test": {"log_px": float("nan")}}, r"metadata\.test\.log_px must be a finite number"),
    ({"epoch": -1}, r"metadata\.epoch must be a whole number"),
    ({"device": ["cpu"]}, r"metadata\.device must be a short string"),
    ({"test": [1, 2]}, r"metadata\.test must be a JSON object"),
    ({"kl_per_dim": [1.0]}, r"metadata\.kl_per_dim must be 4 finite numbers"),
    ({"kl_per_dimension": [1.0]}, r"metadata\.kl_per_dimension must be 4 finite numbers"),
    ("not an object", "metadata must be a JSON object"),
])
def test_metadata_the_pages_print_is_checked(tiny, metadata, message):
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint_bytes(*_upload(tiny, lambda d: d.update(metadata=metadata)))


def test_metadata_keeps_checked_fields_and_drops_unknown_ones(tiny):
    def edit(document):
        document["metadata"].update(note={"anything": 1}, test={"neg_elbo": 1, "log_px": None})
    loaded = load_checkpoint_bytes(*_upload(tiny, edit))
    assert "note" not in loaded.metadata
    assert loaded.metadata["test"] == {"neg_elbo": 1, "log_px": None}


def test_a_card_from_before_the_rename_reads_its_kl_per_dimension_as_kl_per_dim(tiny):
    old = [0.5, 1.0, 0.0, 2.0]  # written by exports before kl_per_dim had one name
    loaded = load_checkpoint_bytes(*_upload(tiny, lambda d: d.update(
        metadata={"kl_per_dimension": old})))
    assert loaded.metadata["kl_per_dim"] == old and "kl_per_dimension" not in loaded.metadata


def test_an_uploaded_data_path_is_never_read(tiny, tmp_path, monkeypatch):
    server_folder = tmp_path / "server-images"
    server_folder.mkdir()
    for i in range(12):
        Image.new("L", (8, 8), i * 20).save(server_folder / f"{i}.png")
    def point_at_server(document):
        document["data"] = {"name": "images", "path": str(server_folder)}
    uploaded = load_checkpoint_bytes(*_upload(tiny, point_at_server))
    assert uploaded.example_data() is None
    # The same files trusted (a run of this server, loaded from disk) do name their data.
    (tmp_path / "run").mkdir()
    weights, config = _upload(tiny, point_at_server)
    (tmp_path / "run" / "model.safetensors").write_bytes(weights)
    (tmp_path / "run" / "config.json").write_bytes(config)
    assert load_checkpoint(tmp_path / "run").example_data().path == str(server_folder)
    assert load_checkpoint(tmp_path / "run", trusted=False).example_data() is None


def test_an_upload_gets_builtin_examples_without_any_path(tiny):
    def builtin_with_path(document):
        document["data"] = {"name": "digits", "path": "/etc"}
    example = load_checkpoint_bytes(*_upload(tiny, builtin_with_path)).example_data()
    assert example.name == "digits" and example.path is None


def test_the_parameter_cap_leaves_room_for_real_models():
    rgb_mlp = ModelConfig(image_shape=(3, 128, 128), arch="mlp", hidden=(256,), latent_dim=64,
                          likelihood="gaussian")
    count = sum(torch.Size(s).numel() for s in expected_shapes(rgb_mlp).values())
    assert 20_000_000 < count < MAX_PARAMETERS
