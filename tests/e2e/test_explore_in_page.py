"""Explore's decoder running in the page, checked against torch in a real browser: every shipped
model and an RGB model of odd size made here, in the page's worker and on its main thread (the
fallback); the image follows a mouse drag at display rate while the server hears z only when
the drag ends or pauses. Latent map scrubs its plane the same way."""

import re
import shutil
import time

import numpy as np
import pytest
import torch
from PIL import Image
from playwright.sync_api import expect

from tests.conftest import PROJECT_DIR, wait_until
from tools.browser import navigate, open_page, serve_app, wait_for_idle
from tools.explorer import (
    EXPLORER,
    MEAN_CANVAS,
    RANGES,
    drag_first_slider,
    hook,
    pick_model,
    sweep_slider,
    wait_in_page,
)
from ui.neighbours import pool_codes
from vae_core.checkpoint import load_checkpoint, save_checkpoint
from vae_core.config import DataConfig, ModelConfig, TrainConfig
from vae_core.data import load_dataset
from vae_core.models import VAE

pytestmark = pytest.mark.e2e

SHIPPED = ["mnist32", "mnist16-gaussian", "mnist2d", "shapes", "shapes3d"]
RGB = "rgb21"  # 3 x 21 x 21, conv decoder 5 -> 10 -> 21, learned std, float32 weights
TOLERANCE = 1e-3  # max abs difference on the 0-1 pixel scale
# Where and how the page decodes (its status says): its worker with WebAssembly SIMD, and the
# fallbacks, the main thread with plain JavaScript (ui/frontend/decode_service.js, decoder.js).
WHERE = ("worker, wasm-simd", "main thread, js")


def _rgb_checkpoint(root):
    images = root / "rgb-images"
    images.mkdir()
    rng = np.random.default_rng(0)
    for i in range(12):
        Image.fromarray(rng.integers(0, 256, (21, 21, 3), dtype=np.uint8)).save(images / f"{i}.png")
    torch.manual_seed(0)
    model = VAE(ModelConfig(image_shape=(3, 21, 21), arch="conv", hidden=(6, 10), dense=24,
                            latent_dim=5, likelihood="gaussian"))
    data = DataConfig(name="images", path=str(images), image_size=21, grayscale=False)
    save_checkpoint(root / "assets" / RGB, model, data, TrainConfig(epochs=1), metadata={})


@pytest.fixture(scope="module")
def served_models(tmp_path_factory):
    """The app on the shipped models plus the RGB one."""
    root = tmp_path_factory.mktemp("in-page")
    for name in SHIPPED:
        shutil.copytree(PROJECT_DIR / "assets" / name, root / "assets" / name)
    _rgb_checkpoint(root)
    (root / "runs").mkdir()
    with serve_app(root / "runs", assets=root / "assets") as app:
        yield app, root / "assets"


def _torch_decode(model, z: list[list[float]]):
    with torch.no_grad():
        p = model.decode(torch.tensor(z, dtype=torch.float32))
    std = None if model.config.likelihood == "bernoulli" else p.stddev.flatten(1).numpy()
    return p.mean.flatten(1).numpy(), std


def _open(page, app, name: str, where: str = WHERE[0]) -> None:
    if where == "main thread, js":
        page.add_init_script("globalThis.latentLabDecodeOn = 'main-thread';"
                             "globalThis.latentLabKernel = 'js';")
    open_page(page, app, "Explore")
    if name != "mnist32":
        pick_model(page, f"{name} (shipped)")
    wait_in_page(page, f"asset:{name}")  # the new model's explorer, not mnist32's
    wait_until(lambda: hook(page, "status()")["decodesOn"] == where)


def _canvas_pixels(page, width: int, height: int) -> np.ndarray:
    """The mean canvas sampled at each image pixel's centre: (H, W, 3) uint8."""
    rgba = page.locator(MEAN_CANVAS).evaluate(
        """(canvas, [w, h]) => {
          const s = canvas.width / w;
          const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          const out = [];
          for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
            const i = ((Math.floor(y * s + s / 2)) * canvas.width + Math.floor(x * s + s / 2)) * 4;
            out.push(data[i], data[i + 1], data[i + 2]);
          }
          return out;
        }""", [width, height])
    return np.array(rgba, dtype=np.uint8).reshape(height, width, 3)


@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("name", [*SHIPPED, RGB])
def test_in_page_decode_equals_torch_at_20_z_one_reached_by_dragging(served_models, page, name,
                                                                      where):
    app, assets = served_models
    model = load_checkpoint(assets / name).model.eval()
    _open(page, app, name, where)
    drag_first_slider(page)
    dragged = hook(page, "lastFrame()")
    assert any(v != 0 for v in dragged["z"])  # the mouse really moved a dimension
    assert dragged["z"] == _slider_z(page)  # and the newest image drawn is of the sliders' z
    rng = np.random.default_rng(0)
    latent_dim = len(dragged["z"])
    zs = [dragged["z"], *rng.uniform(-3, 3, (19, latent_dim)).round(2).tolist()]
    page_decodes = [hook(page, "decode(arg)", z) for z in zs[1:]]
    expected_mean, expected_std = _torch_decode(model, zs)
    means = np.array([dragged["mean"], *[d["mean"] for d in page_decodes]])
    assert np.abs(means - expected_mean).max() < TOLERANCE
    if expected_std is not None:
        first = hook(page, "decode(arg)", zs[0])["std"]
        stds = np.array([first, *[d["std"] for d in page_decodes]])
        assert np.abs(stds - expected_std).max() < TOLERANCE
    # What is drawn is that mean: each pixel's colour (grey or RGB) within one 8-bit level.
    channels, height, width = model.config.image_shape
    drawn = _canvas_pixels(page, width, height).astype(int)
    shown = np.round(np.clip(expected_mean[0].reshape(channels, height, width), 0, 1) * 255)
    shown = np.moveaxis(np.broadcast_to(shown, (3, height, width)), 0, -1)  # grey: R = G = B
    assert np.abs(drawn - shown).max() <= 1


def _slider_z(page) -> list[float]:
    """The z the sliders show, in dimension order (the page's own reading of them)."""
    return page.locator(EXPLORER).evaluate("el => el.latentLab.sliderZ()")


@pytest.mark.parametrize("where", WHERE)
def test_a_drag_draws_as_it_goes_and_sends_z_a_few_times(served_models, page, where):
    """One input event per animation frame; images are drawn while the drag goes on (the worker
    skips a z it had no time for, never queues it), and the last one is of the last z. How many
    a second depends on the machine: benchmarks/drag_benchmark.py measures it."""
    sent: list[float] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda _: sent.append(time.monotonic())))
    _open(page, served_models[0], "mnist32", where)
    page.wait_for_timeout(500)  # let the first reruns settle
    wait_for_idle(page)
    frames = hook(page, "frames()")
    started = time.monotonic()
    events = sweep_slider(page, 0, seconds=1.0)
    wait_until(lambda: hook(page, "lastFrame()")["z"] == _slider_z(page))
    drawn = hook(page, "frames()") - frames
    page.wait_for_timeout(1000)  # the final value goes out on release
    to_server = [t for t in sent if t >= started]
    assert events >= 10, f"only {events} input events in a 1 s drag"
    assert events / 2 <= drawn <= events, f"{drawn} distinct images drawn for {events} events"
    assert 1 <= len(to_server) <= 2, f"{len(to_server)} messages to the server for a 1 s drag"
    assert not hook(page, "lastFrame()")["keyStep"]  # a drag's images come from the queue


@pytest.mark.parametrize("where", WHERE)
def test_a_key_step_is_decoded_and_drawn_in_the_keys_own_task(served_models, page, where):
    """A decoder whose last image took under DECODE_HERE_MS (mnist32: ~1 ms with WebAssembly;
    raised here so that a busy machine cannot make it slow) draws an arrow key's image before
    the key's task ends, so in the next frame, equal to torch's."""
    app, assets = served_models
    model = load_checkpoint(assets / "mnist32").model.eval()
    page.add_init_script("globalThis.latentLabDecodeHereMs = 1e6;")
    _open(page, app, "mnist32", where)
    before = np.array(_slider_z(page))
    page.locator(RANGES).first.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
        wait_until(lambda: hook(page, "lastFrame()")["z"] == _slider_z(page))
        drawn = hook(page, "lastFrame()")
        assert drawn["keyStep"]
        expected, _ = _torch_decode(model, [drawn["z"]])
        assert np.abs(np.array(drawn["mean"]) - expected[0]).max() < TOLERANCE
    moved = np.array(_slider_z(page)) - before
    assert np.count_nonzero(moved) == 1 and moved.max() == pytest.approx(0.15)  # 3 steps of 0.05


def test_latent_map_decodes_the_point_under_the_mouse_in_the_page(served_models, page):
    app, assets = served_models
    model = load_checkpoint(assets / "mnist2d").model.eval()
    messages = []
    page.on("websocket", lambda socket: socket.on("framereceived", lambda m: messages.append(m)))
    _open(page, app, "mnist2d")
    navigate(page, "Latent map")
    plane = page.locator("[data-testid=stMain] .latent-plane")
    expect(plane.locator("canvas.plane")).to_be_visible()
    wait_until(lambda: plane.evaluate("el => el.latentLab.status().inPage"))
    # Its JavaScript came from a served file (ui/inline_js.py), not inline in the page's messages.
    assert not any(b"function latentPlane(" in (m if isinstance(m, bytes) else m.encode())
                   for m in messages)
    plane.locator("canvas.plane").scroll_into_view_if_needed()
    box = plane.locator("canvas.plane").bounding_box()
    for fx, fy in [(0.25, 0.2), (0.8, 0.7)]:  # z0 = -1.5, z1 = 1.8; then z0 = 1.8, z1 = -1.2
        page.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
        expected_z = np.array([6 * fx - 3, 3 - 6 * fy])
        frame = wait_until(lambda z=expected_z: _frame_near(plane, z))
        mean, _ = _torch_decode(model, [frame["z"]])
        assert np.abs(np.array(frame["mean"]) - mean[0]).max() < TOLERANCE


def _frame_near(plane, z: np.ndarray) -> dict | None:
    frame = plane.evaluate("el => el.latentLab.lastFrame()")
    return frame if frame and np.abs(np.array(frame["z"]) - z).max() < 0.05 else None


def test_the_2d_pad_moves_the_two_most_used_dimensions(served_models, page):
    _open(page, served_models[0], "mnist32")
    pad = page.locator("[data-testid=stMain] .latent-explorer .pad canvas")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2  # z = 0
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + box["width"] / 4, y - box["height"] / 6, steps=5)  # z = (1.5, 1.0)
    page.mouse.up()
    values = page.locator(f"{EXPLORER} output")
    expect(values.nth(0)).to_have_text("1.50")  # the most used dimension, horizontal
    expect(values.nth(1)).to_have_text("1.00")  # the second, vertical (up is larger)
    def drawn() -> dict | None:
        frame = hook(page, "lastFrame()")
        return frame if sorted(frame["z"])[-2:] == [1.0, 1.5] else None

    z = wait_until(drawn)["z"]  # the page drew that z
    assert sorted(z)[:-2] == [0.0] * (len(z) - 2)  # and nothing else moved


def test_the_2d_pad_moves_with_the_arrow_keys(served_models, page):
    _open(page, served_models[0], "mnist32")
    pad = page.get_by_label(re.compile("^2-D pad: drag, or press the arrow keys"))
    pad.focus()  # a canvas takes the focus only with a tabindex
    assert pad.evaluate("el => el.getRootNode().activeElement === el")
    for key in ("ArrowRight",) * 4 + ("ArrowUp",) * 3 + ("ArrowDown",):
        page.keyboard.press(key)
    values = page.locator(f"{EXPLORER} output")
    expect(values.nth(0)).to_have_text("1.00")  # 4 steps of 0.25 right
    expect(values.nth(1)).to_have_text("0.50")  # 3 up, 1 down

    def drawn() -> dict | None:
        frame = hook(page, "lastFrame()")
        return frame if sorted(frame["z"])[-2:] == [0.5, 1.0] else None

    z = wait_until(drawn)["z"]  # the page drew that z
    assert sorted(z)[:-2] == [0.0] * (len(z) - 2)


def test_collapsed_dimensions_wait_behind_a_toggle(served_models, page):
    app, assets = served_models
    latent_dim = load_checkpoint(assets / "shapes").model_config.latent_dim
    _open(page, app, "shapes")
    toggle = page.locator(f"{EXPLORER} button.toggle-collapsed")
    names = page.locator(f"{EXPLORER} .name")
    expect(toggle).to_have_text(re.compile(r"^Show \d+ collapsed dimensions$"))
    hidden = int(re.search(r"\d+", toggle.text_content()).group())
    assert 0 < hidden < latent_dim
    expect(page.locator(RANGES)).to_have_count(latent_dim - hidden)
    assert not any("collapsed" in name for name in names.all_text_contents())
    toggle.click()
    expect(page.locator(RANGES)).to_have_count(latent_dim)
    assert sum("collapsed" in name for name in names.all_text_contents()) == hidden
    expect(toggle).to_have_text(f"Hide {hidden} collapsed dimensions")


def test_the_nearest_test_images_follow_z_in_the_page(served_models, page):
    """The page finds the neighbours among the same first test images as the server, by the same
    distance, and draws each from the atlas as the image itself (grey, within one 8-bit level)."""
    app, assets = served_models
    checkpoint = load_checkpoint(assets / "mnist32")
    data = load_dataset(checkpoint.data_config)
    codes = pool_codes(checkpoint.model.eval(), data).astype(np.float64)
    _open(page, app, "mnist32")
    drag_first_slider(page)
    wait_until(lambda: (hook(page, "neighbours()") or {}).get("z") == _slider_z(page))
    shown = hook(page, "neighbours()")
    distances = np.linalg.norm(codes - np.array(shown["z"])[None, :], axis=1)
    assert shown["nearest"] == np.argsort(distances, kind="stable")[:8].tolist()
    names = [f"#{i} ({data.label_names[int(data.test_y[i])]})" for i in shown["nearest"]]
    assert shown["caption"].endswith(": " + ", ".join(names))
    scale = 3  # ui/neighbours.py: 96 px over 28 rows
    first = page.locator(f"{EXPLORER} canvas.strip-of-neighbours").evaluate(
        """(canvas, s) => {
          const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          const out = [];
          for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) {
            const i = ((s + y * s + (s >> 1)) * canvas.width + s + x * s + (s >> 1)) * 4;
            out.push(data[i]);
          }
          return out;
        }""", scale)
    expected = np.round(data.test_x[shown["nearest"][0], 0].numpy() * 255)
    assert np.abs(np.array(first).reshape(28, 28) - expected).max() <= 1
