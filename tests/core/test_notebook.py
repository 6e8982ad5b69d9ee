"""vae_core.notebook without a kernel or a browser: what the Explorer widget sends (the packed
decoder once, as a binary buffer; sliders in order of use), z both ways, the models it opens, and
its joined ES module run by Node; what the LatentMap sends (points, posterior means, labels and
the decoder as binary buffers) and a click's z reaching a linked Explorer. tests/e2e/
test_notebook.py drives both in JupyterLab."""

import json
import shutil
import subprocess

import numpy as np
import pytest
import torch

from examples.foreign_vaes import build
from vae_core.checkpoint import load_checkpoint
from vae_core.decoder_export import pack
from vae_core.imported import ImportedModel
from vae_core.latent import encode_images
from vae_core.model_import import import_module
from vae_core.models import build_model
from vae_core.principal import PrincipalView, page_spec
from vae_core.projection import pca

from ..conftest import PROJECT_DIR, TINY_VAE

pytest.importorskip("anywidget", reason="the notebook extra: requirements-notebook.txt")
from ipywidgets.widgets.widget import _remove_buffers  # anywidget's widgets are ipywidgets'

from vae_core.notebook import MAP_POINTS, Explorer, LatentMap

MNIST2D = PROJECT_DIR / "assets" / "mnist2d"
NODE = shutil.which("node")
# The widget's module as the notebook loads it, run by Node on the decoder the widget was sent.
RUN_JS = """
import { readFileSync } from "node:fs";
const widget = await import(process.argv[2]);
const model = widget.readDecoder(new Uint8Array(readFileSync(process.argv[3])));
const z = JSON.parse(readFileSync(process.argv[4], "utf8"));
const mean = Array.from(widget.decode(model, z).mean);
process.stdout.write(JSON.stringify({ render: typeof widget.default.render, mean }));
"""


@pytest.fixture(scope="module")
def explorer():
    return Explorer(MNIST2D)


def test_the_decoder_goes_once_as_a_binary_buffer_and_sliders_follow_use(explorer):
    model = load_checkpoint(MNIST2D).model
    assert explorer.decoder == pack(page_spec(model))
    _, paths, buffers = _remove_buffers(explorer.get_state())
    assert ["decoder"] in paths and len(explorer.decoder) in [len(b) for b in buffers]
    kl = load_checkpoint(MNIST2D).metadata["kl_per_dim"]
    assert explorer.order == sorted(range(2), key=lambda j: -kl[j])
    assert explorer.labels[0].startswith(f"z{explorer.order[0]} · ")


def test_z_is_a_numpy_array_both_ways(explorer):
    heard = []
    explorer.observe(lambda change: heard.append(change.new), names="z")
    explorer.set_state({"z": [0.5, -1.25]})  # what a release in the page sends
    assert isinstance(explorer.z, np.ndarray) and explorer.z.tolist() == [0.5, -1.25]
    assert [h.tolist() for h in heard] == [[0.5, -1.25]]
    explorer.z = np.array([2.0, 0.0])
    assert explorer.get_state()["z"] == [2.0, 0.0]  # what the page's sliders get
    with pytest.raises(Exception, match="z needs 2 values, not 3"):
        explorer.z = [1.0, 2.0, 3.0]


def test_a_torch_module_and_its_imported_folder_decode_as_the_module(tmp_path):
    module = build("residual")
    options = {"image_shape": (1, 28, 28), "input_range": "0,1", "decoder_output": "logits"}
    with pytest.raises(ValueError, match="image_shape"):
        Explorer(module)
    z = torch.randn(3, module.latent_dim, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = torch.sigmoid(module.decode(z))
    folder = import_module(module, tmp_path / "residual", **options)
    for explorer in (Explorer(module, **options), Explorer(folder)):
        assert isinstance(explorer.model, ImportedModel)
        assert torch.allclose(explorer.model.decode(z).mean, expected, atol=1e-5)
        assert len(explorer.z) == module.latent_dim == len(explorer.labels)


def test_a_latent_too_large_for_sliders_is_seen_through_principal_directions():
    module = build("pytorch_vae")  # 128 dimensions
    images = torch.rand(40, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    explorer = Explorer(module, data=images, image_shape=(3, 64, 64), input_range="-1,1",
                        decoder_output="tanh")
    assert isinstance(explorer.model, PrincipalView)
    assert len(explorer.z) == 39 and explorer.labels[0].startswith("PC1 · ")
    assert len(explorer.scatter) == 40 * 39 * 4  # float32 posterior means for the pad


def _digits(n: int) -> torch.Tensor:
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(0))


def _floats(buffer: bytes, width: int) -> np.ndarray:
    return np.frombuffer(buffer, dtype="<f4").reshape(-1, width)


@pytest.fixture(scope="module")
def latent_map(explorer):
    labels = np.arange(MAP_POINTS + 200) % 3
    return LatentMap(MNIST2D, _digits(MAP_POINTS + 200), labels=labels, explorer=explorer)


def test_the_map_sends_points_means_and_weights_once_as_bytes(latent_map):
    model = load_checkpoint(MNIST2D).model
    means = encode_images(model, _digits(MAP_POINTS + 200)[:MAP_POINTS]).mean
    assert np.array_equal(_floats(latent_map.latents, 2), means)
    assert np.array_equal(_floats(latent_map.coords, 2), means)  # a 2-D latent is its own map
    assert latent_map.axes == ["z0", "z1"] and latent_map.decoder == pack(page_spec(model))
    state, paths, buffers = _remove_buffers(latent_map.get_state())
    sent = {"decoder", "coords", "latents", "categories"}
    assert {path[0] for path in paths} == sent and len(buffers) == len(sent)
    code = ("_esm", "stylesheet")
    assert len(json.dumps({k: v for k, v in state.items() if k not in code})) < 2000  # no arrays


def test_labels_colour_the_points_by_category(latent_map):
    assert latent_map.names == ["0", "1", "2"]
    codes = np.frombuffer(latent_map.categories, dtype=np.uint8)
    assert np.array_equal(codes, np.arange(MAP_POINTS) % 3)
    assert len(latent_map.colours) >= 10
    with pytest.raises(ValueError, match="one value per image: 10, not 9"):
        LatentMap(MNIST2D, _digits(10), labels=list(range(9)))
    with pytest.raises(ValueError, match="300 different values"):
        LatentMap(MNIST2D, _digits(300), labels=np.linspace(0, 1, 300))


def test_a_click_sets_z_and_a_linked_explorers_z(latent_map, explorer):
    row = _floats(latent_map.latents, 2)[7]
    latent_map.set_state({"index": 7, "z": row.tolist()})  # what a click in the page sends
    assert latent_map.index == 7 and np.array_equal(latent_map.z, row)
    assert np.array_equal(explorer.z, row)
    other = Explorer(MNIST2D)
    latent_map.link(other)
    latent_map.set_state({"index": 8, "z": _floats(latent_map.latents, 2)[8].tolist()})
    assert np.array_equal(other.z, _floats(latent_map.latents, 2)[8])
    assert np.array_equal(explorer.z, row)  # unlinked


def test_a_larger_latent_is_mapped_by_pca_or_two_chosen_dimensions():
    torch.manual_seed(0)
    model = build_model(TINY_VAE).eval()  # 3 dimensions
    images = _digits(50)
    means = encode_images(model, images).mean
    by_pca = LatentMap(model, images)
    expected = pca(means).coords
    assert np.allclose(_floats(by_pca.coords, 2), expected, atol=1e-5)
    assert by_pca.axes[0].startswith("PC1 (") and by_pca.categories == b""
    chosen = LatentMap(model, images, dims=(2, 0))
    assert np.array_equal(_floats(chosen.coords, 2), means[:, [2, 0]])
    assert chosen.axes == ["z2", "z0"]
    with pytest.raises(ValueError, match="two different dimensions of 0 to 2"):
        LatentMap(model, images, dims=(1, 1))


def test_a_click_reaches_an_explorer_seen_through_principal_directions():
    module = build("pytorch_vae")  # 128 dimensions: the Explorer shows principal directions
    images = torch.rand(40, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    options = {"image_shape": (3, 64, 64), "input_range": "-1,1", "decoder_output": "tanh"}
    explorer = Explorer(module, data=images, **options)
    latent_map = LatentMap(module, images, explorer=explorer, **options)
    assert len(latent_map.latents) == 40 * 128 * 4  # the map keeps the model's own z
    latent_map.set_state({"index": 3, "z": _floats(latent_map.latents, 128)[3].tolist()})
    with torch.no_grad():
        expected = explorer.model.encode(images[3:4]).mean[0].numpy()
    assert np.allclose(explorer.z, expected, atol=1e-4)


def _run_module(esm: str, decoder: bytes, z: list[float], folder) -> dict:
    """The widget's module as the notebook loads it, run by Node on the decoder it was sent."""
    (folder / "widget.mjs").write_text(esm)
    (folder / "decoder.bin").write_bytes(decoder)
    (folder / "z.json").write_text(json.dumps(z))
    (folder / "run.mjs").write_text(RUN_JS)
    result = subprocess.run(
        [NODE, folder / "run.mjs", (folder / "widget.mjs").as_uri(), folder / "decoder.bin",
         folder / "z.json"], capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


@pytest.mark.skipif(NODE is None, reason="node is missing: apt-get install nodejs")
@pytest.mark.parametrize("widget", ["explorer", "latent_map"])
def test_the_widget_module_runs_the_decoder_it_is_sent(widget, request, tmp_path):
    widget = request.getfixturevalue(widget)
    z = [1.5, -0.75]
    out = _run_module(widget._esm, widget.decoder, z, tmp_path)
    assert out["render"] == "function"
    with torch.no_grad():
        expected = widget.model.decode(torch.tensor([z])).mean.flatten().numpy()
    assert np.abs(np.array(out["mean"]) - expected).max() < 1e-5
