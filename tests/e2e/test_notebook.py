"""The latent explorer in JupyterLab (vae_core/notebook.py): examples/latent_explorer.ipynb runs
top to bottom in a real kernel; then a slider is dragged with the mouse in each Explorer (a
shipped model, and a torch module that is not a vae_core model) and the image, the page's decode
against torch, and the kernel's `explorer.z` are checked; a LatentMap point is hovered (its image
decoded in the page, against torch) and clicked (the linked Explorer's z, in the kernel and in
the page). Skipped without the notebook extra."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest
import torch

from examples.foreign_vaes import build
from tools.browser import PROJECT_DIR, free_port, stop_process
from vae_core.checkpoint import load_checkpoint
from vae_core.data import load_dataset
from vae_core.latent import encode_images

pytest.importorskip("anywidget", reason="the notebook extra: requirements-notebook.txt")
pytest.importorskip("jupyterlab", reason="the notebook extra: requirements-notebook.txt")
pytestmark = pytest.mark.e2e

NOTEBOOK = "examples/latent_explorer.ipynb"
MNIST2D = PROJECT_DIR / "assets" / "mnist2d"
TOKEN = "latent-lab-test"
# Nothing written next to the notebook (no autosave), nothing fetched from the network.
SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/apputils-extension/notification": {"checkForUpdates": False,
                                                     "fetchNews": "false"},
    "@jupyterlab/extensionmanager-extension/plugin": {"enabled": False},
}
RUN_ALL_JS = """
async () => {
  const app = window.jupyterapp;
  await app.restored;
  const panel = app.shell.currentWidget;
  await panel.context.ready;
  await panel.sessionContext.ready;
  await app.commands.execute("notebook:run-all-cells");
}
"""
# Runs Python in the notebook's kernel; resolves to what it printed.
KERNEL_JS = """
async (code) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const future = kernel.requestExecute({ code });
  let printed = "";
  future.onIOPub = (msg) => {
    if (msg.header.msg_type === "stream") printed += msg.content.text;
    if (msg.header.msg_type === "error") printed += msg.content.evalue;
  };
  await future.done;
  return printed;
}
"""


def _write_settings(folder) -> None:
    for plugin, values in SETTINGS.items():
        path = folder / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def _wait_up(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"jupyter lab did not answer at {url} within {timeout} s")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on loopback, rooted at the repository; its own config, data and settings."""
    home = tmp_path_factory.mktemp("jupyter")
    _write_settings(home / "settings")
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(home / "config"),
           "JUPYTER_DATA_DIR": str(home / "data"), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "IPYTHONDIR": str(home / "ipython"), "JUPYTER_PLATFORM_DIRS": "1"}
    port = free_port()
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
               "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={TOKEN}",
               f"--ServerApp.root_dir={PROJECT_DIR}", "--expose-app-in-browser",
               f"--LabApp.user_settings_dir={home / 'settings'}",
               f"--LabApp.workspaces_dir={home / 'workspaces'}",
               f"--FileCheckpoints.root_dir={home / 'checkpoints'}"]
    process = subprocess.Popen(command, cwd=PROJECT_DIR, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_up(url, process)
        yield url
    finally:
        stop_process(process)


@pytest.fixture(scope="module")
def notebook(lab, browser_context):
    """The example notebook, run top to bottom; both Explorers drawn."""
    tab = browser_context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto(f"{lab}/lab/tree/{NOTEBOOK}?token={TOKEN}&reset")
    tab.wait_for_function("() => window.jupyterapp?.shell.currentWidget?.sessionContext",
                          timeout=60_000)
    tab.evaluate(RUN_ALL_JS)
    tab.wait_for_function(
        "() => [...document.querySelectorAll('.latent-lab-explorer')]"
        ".filter((el) => el.latentLab?.frames() > 0).length === 2"
        " && document.querySelector('.latent-lab-map')?.latentLab", timeout=60_000)
    yield tab
    tab.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def _kernel(tab, code: str) -> str:
    return tab.evaluate(KERNEL_JS, code)


def _kernel_z(tab, name: str, expected: list[float], timeout: float = 15) -> list[float]:
    """The kernel's `name.z`, once it equals `expected` (the page sends it asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        z = json.loads(_kernel(tab, f"import json; print(json.dumps({name}.z.tolist()))"))
        if np.allclose(z, expected) or time.monotonic() > deadline:
            return z
        time.sleep(0.2)


def _drag_first_slider(tab, widget) -> None:
    """Press the first slider's thumb (it sits at 0, the middle) and drag it right in steps."""
    slider = widget.get_by_role("slider").first
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    tab.mouse.move(x, y)
    tab.mouse.down()
    tab.mouse.move(x + box["width"] / 4, y, steps=8)
    tab.mouse.up()


def _mean_canvas(widget) -> str:
    return widget.evaluate("(el) => el.shadowRoot.querySelector('canvas.mean').toDataURL()")


def _released_z(tab, widget) -> list[float]:
    """z as the page last drew it, once a frame shows the sliders' values."""
    tab.wait_for_function(
        "(el) => { const z = el.latentLab.lastFrame().z; return z && z.some((v) => v > 0); }",
        arg=widget.element_handle())
    return widget.evaluate("(el) => el.latentLab.lastFrame().z")


def _check_drag(tab, index: int, name: str, torch_mean) -> list[float]:
    """Drag; the canvas changes, the page's decode is torch's, the kernel reads that z."""
    widget = tab.locator(".latent-lab-explorer").nth(index)
    before = _mean_canvas(widget)
    _drag_first_slider(tab, widget)
    z = _released_z(tab, widget)
    assert _mean_canvas(widget) != before
    page_mean = np.array(widget.evaluate("(el, z) => el.latentLab.decode(z).mean", z))
    expected = torch_mean(torch.tensor([z], dtype=torch.float32)).flatten().numpy()
    assert np.abs(page_mean - expected).max() < 1e-3
    assert _kernel_z(tab, name, z) == pytest.approx(z, abs=1e-9)
    return z


def test_shipped_model_in_jupyterlab(notebook):
    model = load_checkpoint(MNIST2D).model
    with torch.no_grad():
        z = _check_drag(notebook, 0, "explorer", lambda z: model.decode(z).mean)
    # observe fired once, on release, with that z (not once per frame of the drag)
    assert json.loads(_kernel(notebook, "print(json.dumps([r.tolist() for r in released]))")) \
        == [pytest.approx(z)]
    # setting z in the kernel moves the sliders (first slider: the most used dimension)
    _kernel(notebook, "explorer.z = [1.5, -2.0]")
    widget = notebook.locator(".latent-lab-explorer").nth(0)
    notebook.wait_for_function(
        "(el) => JSON.stringify(el.latentLab.lastFrame().z) === '[1.5,-2]'",
        arg=widget.element_handle())
    assert widget.get_by_role("slider").first.input_value() == "-2"  # z1 leads: most KL


def test_torch_module_in_jupyterlab(notebook):
    module = build("residual")
    with torch.no_grad():
        _check_drag(notebook, 1, "foreign", lambda z: torch.sigmoid(module.decode(z)))


# The decoded image's grey level per image pixel, read back from the canvas (pixel centres).
DECODED_PIXELS_JS = """
(el, [height, width]) => {
  const canvas = el.shadowRoot.querySelector("canvas.decoded");
  const scale = canvas.width / width;
  const centre = Math.floor(scale / 2);
  const rgba = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  const grey = [];
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      grey.push(rgba[4 * ((y * scale + centre) * canvas.width + x * scale + centre)]);
    }
  }
  return grey;
}
"""


# True once the last frame decoded a point within 2 px of `at` (the mouse is on that point).
FRAME_AT_JS = """
([el, at]) => {
  const frame = el.latentLab.lastFrame();
  const point = frame && el.latentLab.pointAt(frame.index);
  return point && Math.abs(point.x - at.x) < 2 && Math.abs(point.y - at.y) < 2;
}
"""


def _hover_point(tab, widget, index: int) -> tuple[dict, dict]:
    """Move the mouse onto point `index`; (where it is, the frame the page decoded there: that
    point's, or one drawn on the same spot)."""
    widget.scroll_into_view_if_needed()
    at = widget.evaluate("(el, i) => el.latentLab.pointAt(i)", index)
    tab.mouse.move(at["x"] - 30, at["y"] - 30)
    tab.mouse.move(at["x"], at["y"], steps=5)
    tab.wait_for_function(FRAME_AT_JS, arg=[widget.element_handle(), at])
    return at, widget.evaluate("(el) => el.latentLab.lastFrame()")


def test_latent_map_in_jupyterlab(notebook):
    """Runs last: its click sets `explorer.z`, which the shipped model's test reads as released."""
    loaded = load_checkpoint(MNIST2D)
    images = load_dataset(loaded.example_data()).test_x
    means = encode_images(loaded.model, images).mean
    widget = notebook.locator(".latent-lab-map")
    at, frame = _hover_point(notebook, widget, 123)
    z = means[frame["index"]]
    assert frame["z"] == pytest.approx(z.tolist(), abs=1e-6)
    with torch.no_grad():
        expected = loaded.model.decode(torch.tensor(z[None])).mean.flatten().numpy()
    assert np.abs(np.array(frame["mean"]) - expected).max() < 1e-3
    grey = np.array(widget.evaluate(DECODED_PIXELS_JS, [28, 28])) / 255
    assert np.abs(grey - expected).max() < 1 / 255 + 1e-3  # what the page shows is that image

    notebook.mouse.click(at["x"], at["y"])
    assert _kernel_z(notebook, "explorer", z.tolist()) == pytest.approx(z.tolist(), abs=1e-6)
    assert _kernel(notebook, "print(latent_map.index)").strip() == str(frame["index"])
    explorer = notebook.locator(".latent-lab-explorer").nth(0)
    notebook.wait_for_function(
        "([el, z]) => z.every((v, j) => Math.abs(el.latentLab.lastFrame().z[j] - v) < 1e-6)",
        arg=[explorer.element_handle(), z.tolist()])
