"""The components' ES modules joined into one (ui/inline_js.py): the imports between them are
gone, no two modules declare the same top-level name, and each component has one default export."""

import re

import pytest

from ui import latent_plane, latent_sliders
from ui.inline_js import inline_modules

COMPONENTS = {"latent_sliders": latent_sliders.MODULES, "latent_plane": latent_plane.MODULES}
TOP_LEVEL = re.compile(r"^(?:export )?(?:default )?(?:function|const|let|class) (\w+)", re.M)


@pytest.mark.parametrize("modules", COMPONENTS.values(), ids=COMPONENTS.keys())
def test_joined_modules_are_one_valid_module(modules):
    source = inline_modules(modules)
    assert not re.search(r'^import .* from "\./', source, re.M)
    names = TOP_LEVEL.findall(source)
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    assert source.count("export default") == 1
