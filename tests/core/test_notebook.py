"""vae_core.notebook without a kernel or a browser: what the Explorer widget sends (the packed
decoder once, as a binary buffer; sliders in order of use), z both ways, the models it opens, and
its joined ES module run by Node. tests/e2e/test_notebook.py drives it in JupyterLab."""

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
from vae_core.model_import import import_module
from vae_core.principal import PrincipalView, page_spec

from ..conftest import PROJECT_DIR

pytest.importorskip("anywidget", reason="the notebook extra: requirements-notebook.txt")
from ipywidgets.widgets.widget import _remove_buffers  # anywidget's widgets are ipywidgets'

from vae_core.notebook import Explorer

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
    kl = load_checkpoint(MNIST2D).metadata["kl_per_dimension"]
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


@pytest.mark.skipif(NODE is None, reason="node is missing: apt-get install nodejs")
def test_the_widget_module_runs_the_decoder_it_is_sent(explorer, tmp_path):
    (tmp_path / "widget.mjs").write_text(Explorer._esm)
    (tmp_path / "decoder.bin").write_bytes(explorer.decoder)
    z = [1.5, -0.75]
    (tmp_path / "z.json").write_text(json.dumps(z))
    (tmp_path / "run.mjs").write_text(RUN_JS)
    result = subprocess.run(
        [NODE, tmp_path / "run.mjs", (tmp_path / "widget.mjs").as_uri(), tmp_path / "decoder.bin",
         tmp_path / "z.json"], capture_output=True, text=True, check=True)
    out = json.loads(result.stdout)
    assert out["render"] == "function"
    with torch.no_grad():
        expected = explorer.model.decode(torch.tensor([z])).mean.flatten().numpy()
    assert np.abs(np.array(out["mean"]) - expected).max() < 1e-5
