"""vae_core.directions: probes, directions and the decoded check on codes where the answer is
known, and the whole fit on a tiny model."""

import numpy as np
import pytest
import torch

from tests.conftest import TINY_MODELS
from vae_core.config import DataConfig, ModelConfig
from vae_core.data import ImageDataset, load_dataset
from vae_core.directions import (
    CLASS,
    PULL_CHECK,
    VALUE,
    Direction,
    Target,
    class_mean_directions,
    decoded_effect,
    directions_for,
    fit_directions,
    fit_probe,
    has_factors,
    value_direction,
)
from vae_core.distributions import DiagonalGaussian
from vae_core.models import VAE


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _value_codes(n: int, seed: int):
    """Codes whose dimension 1 is the factor plus a little noise; the others are noise."""
    rng = _rng(seed)
    factor = rng.uniform(-1, 1, n)
    codes = rng.standard_normal((n, 4)) * 0.5
    codes[:, 1] = 2.0 * factor + 0.05 * rng.standard_normal(n)
    return codes, factor


def test_a_value_probe_finds_the_dimension_that_carries_the_factor():
    (fit, y_fit), (held, y_held) = _value_codes(500, 0), _value_codes(300, 1)
    probe = fit_probe(fit, held, Target("x", VALUE, y_fit, y_held))
    assert probe.score > 0.99  # held-out R^2
    assert np.argmax(np.abs(probe.weights)) == 1
    direction = value_direction(probe, fit)
    assert np.argmax(np.abs(direction)) == 1 and direction[1] > 0
    # A move of t along it changes the probe's reading by exactly t.
    z = held[:5]
    np.testing.assert_allclose(probe.predict(z + 0.3 * direction) - probe.predict(z), 0.3,
                               atol=1e-9)


def test_a_factor_the_codes_do_not_carry_scores_about_zero():
    rng = _rng(2)
    fit, held = rng.standard_normal((400, 3)), rng.standard_normal((400, 3))
    probe = fit_probe(fit, held, Target("noise", VALUE, rng.uniform(size=400),
                                        rng.uniform(size=400)))
    assert probe.score < 0.05


def _class_codes(n: int, seed: int):
    """Three classes at known centres in 2-D, well apart."""
    rng = _rng(seed)
    centres = np.array([[3.0, 0.0], [0.0, 3.0], [-3.0, -3.0]])
    labels = rng.integers(0, 3, n)
    return centres[labels] + 0.3 * rng.standard_normal((n, 2)), labels, centres


def test_class_mean_directions_point_from_the_other_classes_to_the_class():
    codes, labels, centres = _class_codes(3000, 3)
    directions = class_mean_directions(codes, labels, 3)
    for k in range(3):
        others = centres[[j for j in range(3) if j != k]].mean(axis=0)
        np.testing.assert_allclose(directions[k], centres[k] - others, atol=0.2)


def test_a_class_without_codes_gets_no_direction():
    codes, labels, _ = _class_codes(100, 4)
    directions = class_mean_directions(codes, labels, 4)  # class 3 never occurs
    np.testing.assert_array_equal(directions[3], 0.0)


def test_a_class_probe_scores_accuracy_and_recall_per_class():
    (fit, y_fit, _), (held, y_held, _) = _class_codes(600, 5), _class_codes(300, 6)
    names = ("a", "b", "c")
    target = Target("letter", CLASS, y_fit, y_held, names)
    probe = fit_probe(fit, held, target)
    assert probe.score == pytest.approx(1.0)
    np.testing.assert_allclose(probe.class_recall, 1.0)
    wrong = fit_probe(fit, held, Target("letter", CLASS, y_fit, (y_held + 1) % 3, names))
    assert wrong.score == pytest.approx(0.0)  # held-out labels permuted: every reading wrong
    directions = directions_for(fit, target, probe)
    assert [d.name for d in directions] == ["towards a", "towards b", "towards c",
                                            "towards a from here", "towards b from here",
                                            "towards c from here"]
    # Moving a 'c' code by one class-mean difference towards 'a' makes the probe read 'a'.
    c_code = held[y_held == 2][:1]
    assert probe.predict(c_code + directions[0].vector)[0] == 0


def test_a_two_class_probe_reads_both_classes():
    codes, labels, _ = _class_codes(400, 7)
    keep = labels < 2
    target = Target("t", CLASS, labels[keep], labels[keep], ("a", "b"))
    probe = fit_probe(codes[keep], codes[keep], target)
    assert probe.weights.shape == (2, 2)
    np.testing.assert_array_equal(probe.predict(codes[keep]), labels[keep])


def test_a_pull_goes_the_share_t_of_the_way_to_the_class_mean_from_any_z():
    codes, labels, _ = _class_codes(900, 10)
    target = Target("t", CLASS, labels, labels, ("a", "b", "c"))
    pull = directions_for(codes, target, fit_probe(codes, codes, target))[3]  # towards a, here
    assert pull.pulls and pull.class_index == 0
    np.testing.assert_allclose(pull.vector, codes[labels == 0].mean(axis=0))
    for z in (np.array([-3.0, -3.0]), np.array([10.0, 2.0])):
        np.testing.assert_allclose(pull.moved(z, 1.0), pull.vector)
        np.testing.assert_allclose(pull.moved(z, 0.25), z + 0.25 * (pull.vector - z))


def test_no_pull_towards_a_class_the_fit_codes_lack():
    codes, labels, _ = _class_codes(100, 11)
    target = Target("t", CLASS, labels, labels, ("a", "b", "c", "d"))  # 'd' never occurs
    names = [d.name for d in directions_for(codes, target, fit_probe(codes, codes, target))]
    assert "towards d" in names and "towards d from here" not in names


def _middle_class_codes(n: int, seed: int):
    """Classes 0, 1, 2 centred at -3, 0 and 3 on dimension 0 (1 is in the middle), alike on
    dimension 1: the middle class's mean differs from the others' mean by about 0."""
    labels = np.arange(n) % 3  # as many of each: the others' mean sits on the middle's
    codes = np.c_[3.0 * (labels - 1), np.zeros(n)] + 0.2 * _rng(seed).standard_normal((n, 2))
    return codes, labels


def test_towards_a_middle_class_the_difference_fails_and_the_pull_works():
    """The heart on `shapes`, in two dimensions, through the decoded check's whole trip."""
    (fit, y_fit), (held, y_held) = _middle_class_codes(900, 12), _middle_class_codes(300, 13)
    target = Target("t", CLASS, y_fit, y_held, ("left", "middle", "right"))
    probe = fit_probe(fit, held, target)
    assert probe.score > 0.99
    by_name = {d.name: d for d in directions_for(fit, target, probe)}
    difference, pull = by_name["towards middle"], by_name["towards middle from here"]
    assert np.abs(difference.vector).max() < 0.1  # the others' mean is the middle's mean
    model = _LinearCodec()
    assert decoded_effect(model, probe, difference, held, 1.0) == 0.0
    assert decoded_effect(model, probe, pull, held, PULL_CHECK) == 1.0
    assert decoded_effect(model, probe, pull, held, 0.25) == 0.0  # not there yet: 3 -> 2.25


class _LinearCodec(torch.nn.Module):
    """A 'VAE' whose decode and encode are exact inverses on one pixel row: z -> x -> z."""

    latent_dim = 2

    def __init__(self):
        super().__init__()
        self.anchor = torch.nn.Parameter(torch.zeros(1))

    def encode(self, x):
        mean = x[:, 0, 0, :2]
        return DiagonalGaussian(mean, torch.zeros_like(mean))

    def decode(self, z):
        return DiagonalGaussian(z.reshape(-1, 1, 1, 2), torch.zeros(z.shape[0], 1, 1, 2))


def test_the_decoded_check_measures_a_working_and_a_useless_direction():
    model = _LinearCodec()
    (fit, y_fit), (held, y_held) = _value_codes(300, 8), _value_codes(100, 9)
    fit, held = fit[:, :2], held[:, :2]
    probe = fit_probe(fit, held, Target("x", VALUE, y_fit, y_held))
    working = Direction("x", "x", VALUE, value_direction(probe, fit), probe.score)
    assert decoded_effect(model, probe, working, held, 0.5) == pytest.approx(1.0, abs=1e-4)
    across = np.array([probe.weights[1], -probe.weights[0]])  # the probe cannot see this move
    useless = Direction("x", "x", VALUE, across, 0.0)
    assert decoded_effect(model, probe, useless, held, 0.5) == pytest.approx(0.0, abs=1e-4)


@pytest.fixture(scope="module")
def tiny_shapes():
    torch.manual_seed(0)
    model_config, data_config = TINY_MODELS["shapes"]
    return VAE(model_config).eval(), load_dataset(data_config)


def test_the_fit_on_a_tiny_shapes_model_gives_every_factor_a_scored_direction(tiny_shapes):
    model, data = tiny_shapes
    assert has_factors(data)
    result = fit_directions(model, data, limit=200, check_codes=20)
    assert [p.target for p in result.probes] == ["shape", "scale", "rotation", "x", "y"]
    assert [d.name for d in result.directions] == [
        "towards square", "towards ellipse", "towards heart", "towards square from here",
        "towards ellipse from here", "towards heart from here", "scale", "rotation", "x", "y"]
    for direction in result.directions:
        assert direction.vector.shape == (model.latent_dim,)
        assert np.isfinite(direction.vector).all() and direction.effect is not None
    assert [d.spread for d in result.directions if d.kind == CLASS] == [1.0] * 3 + [PULL_CHECK] * 3
    assert result.check_codes.shape == (20, model.latent_dim)
    assert result.fit_source == "200 fresh shapes from the generator"
    assert result.n_held_out == len(data.test_x)


def test_the_colour_set_gets_both_ways_towards_each_shape_and_a_slider_per_factor():
    torch.manual_seed(0)
    model = VAE(ModelConfig(image_shape=(3, 64, 64), arch="mlp", hidden=(16,), latent_dim=4,
                            likelihood="bernoulli")).eval()
    data = load_dataset(DataConfig(name="shapes3d", n_samples=500))
    result = fit_directions(model, data, limit=200, check_codes=20)
    shapes = ("cube", "cylinder", "sphere", "capsule")
    assert [d.name for d in result.directions] == (
        [f"towards {s}" for s in shapes] + [f"towards {s} from here" for s in shapes]
        + ["floor hue", "wall hue", "object hue", "scale", "orientation"])
    assert all(d.effect is not None for d in result.directions)


def test_data_without_labels_or_factors_gives_no_directions():
    model = VAE(ModelConfig(image_shape=(1, 8, 8), arch="mlp", hidden=(8,), latent_dim=2,
                            likelihood="bernoulli")).eval()
    x = torch.rand(6, 1, 8, 8)
    unlabelled = ImageDataset("own", x[:4], torch.full((4,), -1), x[4:], torch.full((2,), -1))
    assert fit_directions(model, unlabelled) is None
    one_class = ImageDataset("own", x[:4], torch.zeros(4, dtype=torch.int64), x[4:],
                             torch.zeros(2, dtype=torch.int64), label_names=("cat",))
    assert fit_directions(model, one_class) is None  # a probe needs two classes


def test_labelled_data_gives_one_direction_per_class():
    model = VAE(ModelConfig(image_shape=(1, 8, 8), arch="mlp", hidden=(8,), latent_dim=2,
                            likelihood="bernoulli")).eval()
    x = torch.rand(40, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    y = torch.arange(40) % 2
    data = ImageDataset("own", x[:30], y[:30], x[30:], y[30:], label_names=("cat", "dog"))
    result = fit_directions(model, data)
    assert [d.name for d in result.directions] == ["towards cat", "towards dog",
                                                   "towards cat from here", "towards dog from here"]
    assert result.fit_source == "30 training images"
    assert 0.0 <= result.probes[0].score <= 1.0


def test_unlabelled_test_images_are_not_scored():
    model = VAE(ModelConfig(image_shape=(1, 8, 8), arch="mlp", hidden=(8,), latent_dim=2,
                            likelihood="bernoulli")).eval()
    x = torch.rand(40, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    y = torch.arange(40) % 2
    y[[31, 35]] = -1  # two test images without a label
    data = ImageDataset("own", x[:30], y[:30], x[30:], y[30:], label_names=("cat", "dog"))
    result = fit_directions(model, data)
    assert result.n_held_out == 8
