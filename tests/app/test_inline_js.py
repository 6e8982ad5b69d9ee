"""The components' ES modules joined into one (ui/inline_js.py): the imports between them are
gone, no two modules declare the same top-level name, and each component has one default export.
Served as a file named by its hash, with a loader inline; inline where that cannot be."""

import hashlib
import re

import pytest
from streamlit import config

from ui import inline_js, latent_plane, latent_sliders
from ui.inline_js import inline_modules, served_modules

COMPONENTS = {"latent_sliders": latent_sliders.MODULES, "latent_plane": latent_plane.MODULES}
TOP_LEVEL = re.compile(r"^(?:export )?(?:default )?(?:function|const|let|class) (\w+)", re.M)


@pytest.mark.parametrize("modules", COMPONENTS.values(), ids=COMPONENTS.keys())
def test_joined_modules_are_one_valid_module(modules):
    source = inline_modules(modules)
    assert not re.search(r'^import .* from "\./', source, re.M)
    names = TOP_LEVEL.findall(source)
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    assert source.count("export default") == 1


@pytest.fixture
def static_serving():
    """Sets server.enableStaticServing (as .streamlit/config.toml does) for the test."""
    found = config.get_option("server.enableStaticServing")

    def serve(on: bool) -> None:
        config.set_option("server.enableStaticServing", on)

    serve(True)
    yield serve
    serve(found)


@pytest.fixture
def served_dir(tmp_path, monkeypatch, static_serving):
    folder = tmp_path / "js"
    monkeypatch.setattr(inline_js, "SERVED_DIR", folder)
    return folder


def test_served_modules_are_a_file_named_by_their_hash_and_a_loader_of_it(served_dir):
    served = served_modules(latent_sliders.MODULES)
    source = inline_modules(latent_sliders.MODULES)
    path = served_dir / f"{hashlib.sha256(source.encode()).hexdigest()}.js"
    assert path.read_text(encoding="utf-8") == source
    assert f'"/app/static/js/{path.name}"' in served.js and "await import(url)" in served.js
    assert len(served.js) < len(source) // 50 and served.js.count("export default") == 1


def test_a_deleted_file_is_written_again_when_the_component_is_drawn(served_dir):
    served = served_modules(latent_sliders.MODULES)
    (path,) = served_dir.iterdir()
    path.unlink()
    served.keep_served()
    assert path.read_text(encoding="utf-8") == served.source


def test_without_static_serving_the_modules_are_inline(served_dir, static_serving):
    static_serving(False)
    served = served_modules(latent_sliders.MODULES)
    assert served.js == inline_modules(latent_sliders.MODULES) and not served_dir.exists()
    served.keep_served()  # nothing to keep
    assert not served_dir.exists()


def test_an_unwritable_folder_leaves_the_modules_inline(tmp_path, monkeypatch, static_serving):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be")
    monkeypatch.setattr(inline_js, "SERVED_DIR", blocked / "js")
    assert served_modules(latent_sliders.MODULES).js == inline_modules(latent_sliders.MODULES)
