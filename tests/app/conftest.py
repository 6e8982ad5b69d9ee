"""Fixtures and helpers for app tests: an assets/ folder whose tiny mnist32 is briefly trained,
so its codes carry the labels (an untrained encoder's class means are too close to show on the
sliders); and the pages driven as a visitor would (the Train form, Explore's sliders,
Reconstruct's image source)."""

from __future__ import annotations

import io
import itertools
import re

import pytest
import torch
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from tests.conftest import PROJECT_DIR, TINY_MODELS, kill_live_runs, make_tiny_checkpoint
from vae_core.checkpoint import save_checkpoint, save_run_checkpoint
from vae_core.config import TrainConfig
from vae_core.data import load_dataset
from vae_core.decoder_export import read_envelope
from vae_core.models import VAE
from vae_core.objectives import elbo_terms

STEPS = 150
METADATA = {"epoch": 1, "step": STEPS, "train_seconds": 5.0, "device": "cpu",
            "test": {"neg_elbo": 400.0, "kl": 5.0, "recon": 395.0, "log_px": -398.0,
                     "log_px_stderr": 0.5, "iw_samples": 10, "n_images": 100}}


def _trained_mnist32() -> VAE:
    model_config, data_config = TINY_MODELS["mnist32"]
    torch.manual_seed(0)
    model, data = VAE(model_config), load_dataset(data_config)
    optimizer = torch.optim.Adam(model.parameters(), 3e-3)
    batches = torch.Generator().manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny batches: more threads only contend (10x slower on 2 cores)
    try:
        _train(model, data, optimizer, batches)
    finally:
        torch.set_num_threads(threads)
    return model.eval()


def _train(model, data, optimizer, batches) -> None:
    for _ in range(STEPS):
        batch = data.train_x[torch.randint(0, len(data.train_x), (64,), generator=batches)]
        loss = elbo_terms(model, batch).loss.mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


@pytest.fixture(scope="session")
def trained_assets(tmp_path_factory):
    root = tmp_path_factory.mktemp("trained_assets")
    _, data_config = TINY_MODELS["mnist32"]
    save_checkpoint(root / "mnist32", _trained_mnist32(), data_config, TrainConfig(epochs=1),
                    metadata=METADATA)
    make_tiny_checkpoint(root / "shapes", "shapes")
    return root


@pytest.fixture
def trained_env(trained_assets, tmp_path, monkeypatch):
    """Like app_env, with the trained tiny mnist32 as the default model."""
    runs = tmp_path / "runs"
    runs.mkdir()
    monkeypatch.setenv("LATENT_LAB_ASSETS", str(trained_assets))
    monkeypatch.setenv("LATENT_LAB_RUNS", str(runs))
    return runs


def write_run_checkpoint(runs, name: str = "mnist32", seed: int = 0):
    """A run named 'mine' with one checkpoint of the tiny model `name` (weights from `seed`)."""
    model_config, data_config = TINY_MODELS[name]
    torch.manual_seed(seed)
    return save_run_checkpoint(runs / "mine", 1, model=VAE(model_config), data_config=data_config,
                               train_config=TrainConfig(epochs=1), metadata={"epoch": 1})


# The Train page ---------------------------------------------------------------------------

# The Train form filled in for a run of a few seconds.
TINY_FORM = {"train_arch": "mlp", "train_hidden": "16", "train_latent": 2, "train_epochs": 2,
             "train_batch": 32, "train_warmup": 0}


@pytest.fixture
def runs(app_env):
    """app_env's runs folder; trainers still running in it are killed afterwards."""
    yield app_env
    kill_live_runs(app_env)


def train_page() -> AppTest:
    """The app switched to the Train page."""
    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=60).run()
    return at.switch_page("app_pages/train.py").run()


def train_widget(at: AppTest, key: str):
    """The Train form's field with widget key `key`."""
    (widget,) = [w for kind in ("selectbox", "text_input", "number_input")
                 for w in getattr(at, kind) if w.key == key]
    return widget


def submit_train_form(at: AppTest, dataset: str | None = "digits", **fields) -> AppTest:
    """Fill the form (after choosing the dataset, which changes the form) and submit it."""
    if dataset is not None:
        at.selectbox(key="train_dataset").set_value(dataset).run()
    for key, value in {**TINY_FORM, **fields}.items():
        train_widget(at, key).set_value(value)
    return at.form_submit_button[0].click().run()


# Explore's latent sliders ------------------------------------------------------------------

EXPLORE_PAGE = "app_pages/explore.py"
_MOVE_SEQ = itertools.count(1)  # the browser numbers its moves


def open_explore(model: str | None = None) -> AppTest:
    """The app switched to Explore, on the picker's `model` when given."""
    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=60).run()
    if model:
        at.sidebar.selectbox(key="model_picker").set_value(model).run()
    return at.switch_page(EXPLORE_PAGE).run()


def dimension_of(label: str) -> int:
    """The latent dimension a slider's label names ("z3 ..." -> 3)."""
    return int(re.match(r"z(\d+)", label).group(1))


def sliders_component(at: AppTest):
    """Explore's sliders: one custom component (an UnknownElement to AppTest)."""
    (element,) = at.get("bidi_component")
    return element


def sliders_payload(at: AppTest) -> tuple[dict, dict[str, bytes]]:
    """The component's JSON data and its binary buffers."""
    return read_envelope(sliders_component(at).proto.bytes)


def sliders_data(at: AppTest) -> dict:
    """What the sliders component was given: labels, values, muted, order, revision..."""
    return sliders_payload(at)[0]


def z_caption(at: AppTest) -> str:
    """Where z came from, as the sliders' element says under them."""
    return sliders_data(at)["caption"]


def z_by_dim(at: AppTest) -> list[float]:
    """The sliders' values in dimension order (they are shown in usage order)."""
    data = sliders_data(at)
    values = {dimension_of(label): v
              for label, v in zip(data["labels"], data["values"], strict=True)}
    return [values[j] for j in sorted(values)]


def move_slider(at: AppTest, position: int, value: float, revision: int | None = None) -> AppTest:
    """Move the slider at `position` the way the browser reports it: the whole z, a new seq and
    the revision the move started from (the current one unless given)."""
    data = sliders_data(at)
    values = list(data["values"])
    values[position] = value
    seq = next(_MOVE_SEQ)
    return set_sliders_state(at, "moved", {
        "values": values, "seq": seq,
        "revision": data["revision"] if revision is None else revision})


def set_sliders_state(at: AppTest, name: str, value: dict) -> AppTest:
    """One of the component's state values, as the browser sets it (the others stay)."""
    key = sliders_component(at).key
    state = dict(at.session_state[key]) if key in at.session_state else {}
    at.session_state[key] = {**state, name: value}
    return at.run()


# Reconstruct -------------------------------------------------------------------------------

RECONSTRUCT_PAGE = "app_pages/reconstruct.py"


def handwritten_one_png(size: int = 90) -> bytes:
    """A dark stroke on white paper, like a photographed handwritten 1."""
    image = Image.new("L", (size, size), 255)
    ImageDraw.Draw(image).line([(size // 2, size // 6), (size // 2, 5 * size // 6)], fill=0,
                               width=size // 10)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def open_reconstruct() -> AppTest:
    """The app switched to Reconstruct, with no exception."""
    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=120)
    at.switch_page(RECONSTRUCT_PAGE).run()
    assert not at.exception
    return at


def choose_image_source(at: AppTest, source: str, prefix: str = "recon") -> None:
    """Pick the image source as a click on its tab does."""
    at.session_state[f"{prefix}_source"] = source
    at.run()
