"""Explore's direction sliders and nearest-neighbour strip (AppTest, tiny models).

The expected z is computed here from vae_core on the same tiny checkpoint, independently of the
page: base z plus t times the direction (or t of the way to a class's mean code), snapped to the
latent sliders' grid.
"""

import numpy as np
import pytest

from tests.app.conftest import move_slider, open_explore, sliders_data, z_by_dim, z_caption
from ui.directions import PULL, factor_label, how_well
from ui.explore_state import snap
from vae_core.checkpoint import load_checkpoint
from vae_core.data import load_dataset
from vae_core.directions import CLASS, VALUE, Direction, fit_directions
from vae_core.latent import encode_images, nearest_codes


@pytest.fixture(scope="module")
def tiny_fits(trained_assets):
    """name -> (directions by name, data, test codes) for the tiny models."""
    fits = {}
    for name in ("mnist32", "shapes"):
        checkpoint = load_checkpoint(trained_assets / name)
        data = load_dataset(checkpoint.data_config)
        result = fit_directions(checkpoint.model, data)
        codes = encode_images(checkpoint.model, data.test_x).mean
        fits[name] = ({d.name: d for d in result.directions}, data, codes)
    return fits


def _slider(at, label: str):
    return next(s for s in at.slider if s.label == label)


def _captions(at) -> str:
    return " ".join(c.value for c in at.caption)


def test_towards_a_class_moves_z_and_the_latent_sliders_follow(trained_env, tiny_fits):
    directions, _, _ = tiny_fits["mnist32"]
    name = _longest_class(directions)
    at = open_explore()
    revision, image = sliders_data(at)["revision"], at.image[0].value
    assert at.selectbox(key=next(k for k in _keys(at) if "class_choice" in k)).value == "0"
    at.selectbox(key=next(k for k in _keys(at) if "class_choice" in k)).set_value(name).run()
    _slider(at, f"towards {name}").set_value(2.0).run()
    assert not at.exception
    expected = snap(2.0 * directions[f"towards {name}"].vector)
    assert expected != [0.0] * 4  # the move is big enough to show on the sliders' grid
    assert at.session_state["explore_z"] == expected
    assert z_by_dim(at) == expected and sliders_data(at)["revision"] > revision
    assert at.image[0].value != image
    assert z_caption(at) == f"z: the attribute sliders (towards {name} +2.0)"
    assert "probe names" in _captions(at) and f"held-out '{name}'" in _captions(at)
    _slider(at, f"towards {name}").set_value(0.0).run()  # back to 0: back to the base z
    assert at.session_state["explore_z"] == [0.0] * 4


def _longest_class(directions) -> str:
    """The class whose direction moves z most: its move shows best on the sliders' grid."""
    longest = max((d for d in directions.values() if d.kind == "class" and not d.pulls),
                  key=lambda d: np.abs(d.vector).max())
    return longest.name.removeprefix("towards ")


def _keys(at) -> list[str]:
    return [s.key for s in at.selectbox if s.key]


def test_moving_a_latent_slider_starts_the_attribute_sliders_again_at_zero(trained_env, tiny_fits):
    directions, _, _ = tiny_fits["mnist32"]
    at = open_explore()
    _slider(at, "towards 0").set_value(1.5).run()
    moved = at.session_state["explore_z"]
    assert moved == snap(1.5 * directions["towards 0"].vector) != [0.0] * 4
    move_slider(at, 0, -2.5)
    assert _slider(at, "towards 0").value == 0.0
    z = at.session_state["explore_z"]
    assert z[_dim_of_row(at, 0)] == -2.5
    assert [v for j, v in enumerate(z) if j != _dim_of_row(at, 0)] == [
        v for j, v in enumerate(moved) if j != _dim_of_row(at, 0)]  # the rest kept
    _slider(at, "towards 0").set_value(1.0).run()  # a new move starts from the new z
    assert at.session_state["explore_z"] == snap(np.asarray(z) + directions["towards 0"].vector)


def _dim_of_row(at, row: int) -> int:
    return sliders_data(at)["order"][row]


def test_towards_a_class_from_here_moves_z_part_of_the_way_to_the_class_mean(trained_env,
                                                                             tiny_fits):
    directions, _, _ = tiny_fits["mnist32"]
    pull = directions["towards 3 from here"]
    at = open_explore()
    move_slider(at, 0, -2.5)  # a base away from the origin: the pull's move depends on it
    base = np.asarray(at.session_state["explore_z"])
    at.selectbox(key=next(k for k in _keys(at) if "class_choice" in k)).set_value("3").run()
    at.radio(key=next(r.key for r in at.radio if "class_way" in r.key)).set_value(PULL).run()
    _slider(at, "towards 3 from here").set_value(0.5).run()
    assert not at.exception
    assert at.session_state["explore_z"] == snap(base + 0.5 * (pull.vector - base))
    assert z_caption(at) == "z: the attribute sliders (towards 3 from here 0.50)"
    assert "75% of the way turns" in _captions(at)
    _slider(at, "towards 3 from here").set_value(1.0).run()  # all the way: the class's mean
    assert at.session_state["explore_z"] == snap(pull.vector)


def test_the_nearest_test_images_to_z_are_shown_as_a_strip(trained_env, tiny_fits):
    _, data, codes = tiny_fits["mnist32"]
    at = open_explore()
    move_slider(at, 0, 1.0)
    z = at.session_state["explore_z"]
    nearest = nearest_codes(codes, np.asarray(z, dtype=np.float32), 8)
    names = ", ".join(f"#{i} ({data.label_names[int(data.test_y[i])]})" for i in nearest)
    strip = [c for image in at.image for c in image.captions if "closest to the current z" in c]
    assert len(strip) == 1 and strip[0].endswith(names)


def test_shapes_get_a_slider_per_factor_with_its_scores(trained_env, tiny_fits):
    directions, _, _ = tiny_fits["shapes"]
    at = open_explore("asset:shapes")
    assert not at.exception
    labels = [s.label for s in at.slider]
    assert {"towards square", "bigger", "rotate", "move right", "move down"} <= set(labels)
    assert _captions(at).count("probe R²") == 4
    step = _slider(at, "move right").step
    _slider(at, "move right").set_value(round(10 * step, 6)).run()
    expected = snap(10 * step * directions["x"].vector)
    assert expected != [0.0] * 3 and at.session_state["explore_z"] == expected
    assert z_caption(at).startswith("z: the attribute sliders (move right +")


def test_each_direction_says_how_well_it_works():
    strong = Direction("x", "x", VALUE, np.ones(2), probe_score=0.97, effect=0.9)
    assert how_well(strong) == ("probe R² 0.97 on held-out data; decoded and read again, a move "
                                "changes the factor by 90% of what it asks")
    weak = Direction("rotation", "rotation", VALUE, np.ones(2), probe_score=0.01, effect=0.2)
    assert how_well(weak).endswith("z barely carries this factor linearly, so this slider "
                                   "means little")
    towards = Direction("towards 8", "class", CLASS, np.ones(2), 0.87, class_index=8, effect=0.24)
    assert how_well(towards) == ("probe names 87% of held-out '8' images right; one step turns "
                                 "24% of other held-out images into '8' (decoded and read again)")
    pull = Direction("towards 8 from here", "class", CLASS, np.ones(2), 0.87, class_index=8,
                     effect=0.96, spread=0.75, pulls=True)
    assert how_well(pull) == ("probe names 87% of held-out '8' images right; 75% of the way "
                              "turns 96% of other held-out images into '8' (decoded and read "
                              "again)")
    assert factor_label(strong) == "move right" and factor_label(towards) == "towards 8"
