"""Attribute directions in latent space: what to probe, the probes, the directions a slider moves
z along, and the decoded check that says whether a direction does what its name says.

Everything is fitted on posterior means of training data and scored on the test split. Labelled
data (digits) gives a class target from the training split's labels. A generated set (shapes,
shapes3d) keeps its continuous factors (shapes: scale, rotation, x, y) for the test split only, so
there the fit data are fresh draws from the same generator: the training distribution, other
images.

A class target gives two directions per class. The class-mean difference ("towards 8": the mean
code of the class minus the mean code of the others) moves every z alike: z + t * difference. A
pull ("towards 8 from here") depends on where z is: z + t * (class mean - z), so t = 1 reaches
the class's mean code from anywhere. The difference fails a class whose codes sit between
others' (shapes' hearts lie between squares and ellipses along the dimension that holds the
shape, so the hearts' difference barely moves along it); the pull does not, but it also draws
the image's other factors towards the class's average.

A value target (scale, x...) gives the activation pattern of a linear regression probe with
weights w: S w / (w' S w), S the codes' covariance (Haufe et al., 2014). A slider value t
changes the probe's reading by exactly t factor units, moving z the way the data varies with the
factor; the bare w / |w|^2 would also do that, but mostly along dimensions the decoder ignores.
Probes are scikit-learn models.

The decoded check moves held-out codes along a direction, decodes them, encodes the decoded
images again and reads the result with the probe; the unmoved codes take the same trip.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from .data import ImageDataset
from .data.generated import GENERATORS, as_float
from .latent import decode_mean, encode_images
from .models import VAE

if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression

CLASS, VALUE = "class", "value"
FROM_HERE = " from here"  # the end of a pull's name: "towards 8 from here"
FIT_LIMIT = 10_000  # training codes used at most: a linear probe on a few dims needs no more
CHECK_CODES = 300  # held-out codes moved, decoded and read again for the decoded check
PULL_CHECK = 0.75  # how far the decoded check pulls: t = 1 would put every code on one point
FRESH_SHAPES_SEED = 1_000_003  # not a split seed: fresh shapes are other images


@dataclass(frozen=True)
class Target:
    """What a probe predicts from z: a label per code, on the fit and the held-out codes."""

    name: str
    kind: str  # CLASS (integer labels 0..K-1) or VALUE (a real number)
    fit: np.ndarray  # (N,)
    held_out: np.ndarray  # (M,)
    class_names: tuple[str, ...] = ()  # for CLASS: label -> name


@dataclass(frozen=True)
class Probe:
    """A linear read-out of one target from z, with its held-out score."""

    target: str
    kind: str
    weights: np.ndarray  # (D,) for VALUE, (K, D) for CLASS
    bias: np.ndarray  # () for VALUE, (K,) for CLASS
    score: float  # held-out accuracy (CLASS) or R^2 (VALUE)
    class_recall: np.ndarray | None = None  # (K,) held-out share of each class named correctly

    def predict(self, z: np.ndarray) -> np.ndarray:
        """The probe's reading of codes z (N, D): labels (CLASS) or values (VALUE), (N,)."""
        scores = np.asarray(z, dtype=np.float64) @ self.weights.T + self.bias
        return scores.argmax(axis=1) if self.kind == CLASS else scores


@dataclass(frozen=True)
class Direction:
    """One slider's direction: z + t * vector, or for a pull z + t * (vector - z)."""

    name: str  # "towards 8", "towards 8 from here", or the factor's name
    target: str
    kind: str
    vector: np.ndarray  # (D,): the move of t = 1; for a pull, the code t = 1 reaches
    probe_score: float  # held-out: the class's recall (CLASS) or the probe's R^2 (VALUE)
    class_index: int | None = None
    effect: float | None = None  # the decoded check (see decoded_effect), when measured
    spread: float = 1.0  # the check's t: 1 difference, PULL_CHECK, or the factor's std
    pulls: bool = False

    def moved(self, z: np.ndarray, t: float) -> np.ndarray:
        """z (D,) or codes (N, D) moved by t along this direction."""
        z = np.asarray(z, dtype=np.float64)
        return z + t * (self.vector - z if self.pulls else self.vector)


@dataclass(frozen=True)
class DirectionFit:
    """A model's probes and directions, with what they were fitted and checked on."""

    probes: tuple[Probe, ...]
    directions: tuple[Direction, ...]
    fit_source: str  # in words, e.g. "4000 training images"
    n_held_out: int
    check_codes: np.ndarray  # (CHECK_CODES, D): the held-out codes the decoded check moved


def fit_probe(fit_codes: np.ndarray, held_out_codes: np.ndarray, target: Target) -> Probe:
    """A logistic (CLASS) or least-squares (VALUE) probe, scored on the held-out codes."""
    # Imported here: scikit-learn takes ~1.7 s to import; Explore's first image need not wait.
    from sklearn.linear_model import LinearRegression, LogisticRegression

    if target.kind == CLASS:
        model = LogisticRegression(max_iter=2000).fit(fit_codes, target.fit)
        weights, bias = _all_classes(model, len(target.class_names))
        probe = Probe(target.name, CLASS, weights, bias, 0.0)
        predicted = probe.predict(held_out_codes)
        recall = np.array([np.mean(predicted[target.held_out == k] == k)
                           if np.any(target.held_out == k) else np.nan
                           for k in range(len(target.class_names))])
        accuracy = float(np.mean(predicted == target.held_out))
        return Probe(target.name, CLASS, weights, bias, accuracy, recall)
    model = LinearRegression().fit(fit_codes, target.fit)
    score = float(model.score(held_out_codes, target.held_out))
    return Probe(target.name, VALUE, model.coef_.astype(np.float64),
                 np.asarray(model.intercept_, dtype=np.float64), score)


def _all_classes(model: LogisticRegression, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """(K, D) weights and (K,) biases; a class absent from the fit data never wins."""
    weights = np.zeros((n_classes, model.coef_.shape[1]))
    bias = np.full(n_classes, -np.inf)
    if len(model.classes_) == 2:  # sklearn keeps one row for two classes: score = +/- half
        rows = np.vstack([-model.coef_, model.coef_]) / 2
        biases = np.r_[-1, 1] * model.intercept_ / 2
    else:
        rows, biases = model.coef_, model.intercept_
    weights[model.classes_], bias[model.classes_] = rows, biases
    return weights, bias


def class_mean_directions(codes: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """(K, D): for each class, its mean code minus the mean code of all other classes.

    A class with no codes (or no others) gets a zero vector: nothing to move towards.
    """
    directions = np.zeros((n_classes, codes.shape[1]))
    for k in range(n_classes):
        inside = labels == k
        if inside.any() and (~inside).any():
            directions[k] = codes[inside].mean(axis=0) - codes[~inside].mean(axis=0)
    return directions


def value_direction(probe: Probe, codes: np.ndarray) -> np.ndarray:
    """S w / (w' S w), S the covariance of `codes` (N, D): moving z by t times this changes the
    probe's reading by exactly t, along the way codes vary with the probed value."""
    covariance = np.atleast_2d(np.cov(np.asarray(codes, dtype=np.float64), rowvar=False))
    pattern = covariance @ probe.weights
    gain = float(probe.weights @ pattern)
    return pattern / gain if gain > 0 else np.zeros_like(probe.weights)


def directions_for(fit_codes: np.ndarray, target: Target, probe: Probe) -> list[Direction]:
    """The sliders a target gives: per class a difference and a pull (none towards a class
    the fit codes lack), or one for a value (the probe's pattern)."""
    if target.kind == VALUE:
        vector = value_direction(probe, fit_codes)
        return [Direction(target.name, target.name, VALUE, vector, probe.score)]
    names = target.class_names
    differences = class_mean_directions(fit_codes, target.fit, len(names))
    found = [k for k in range(len(names)) if np.any(target.fit == k)]
    return [Direction(f"towards {names[k]}", target.name, CLASS, differences[k],
                      float(probe.class_recall[k]), class_index=k)
            for k in range(len(names))] + [
        Direction(f"towards {names[k]}{FROM_HERE}", target.name, CLASS,
                  fit_codes[target.fit == k].mean(axis=0), float(probe.class_recall[k]),
                  class_index=k, pulls=True) for k in found]


def has_factors(data: ImageDataset) -> bool:
    """The data is a generated set (shapes, shapes3d) with its known factors."""
    generator = GENERATORS.get(data.name)
    return generator is not None and set(generator.value_factors) <= set(data.test_factors)


def _shape_fit_set(model: VAE, data: ImageDataset, n: int):
    generator = GENERATORS[data.name]
    factors, images = generator.factors_and_images(n, FRESH_SHAPES_SEED)
    codes = encode_images(model, as_float(images)).mean
    held = {name: values.numpy() for name, values in data.test_factors.items()}
    targets = [Target("shape", CLASS, factors["shape"], data.test_y.numpy(), data.label_names)]
    targets += [Target(name, VALUE, factors[name].astype(np.float64), held[name].astype(np.float64))
                for name in generator.value_factors]
    return codes, targets, f"{n} fresh shapes from the generator"


def _label_fit_set(model: VAE, data: ImageDataset, limit: int):
    labelled = torch.nonzero(data.train_y >= 0).flatten()[:limit]
    codes = encode_images(model, data.train_x[labelled]).mean
    target = Target("class", CLASS, data.train_y[labelled].numpy(), data.test_y.numpy(),
                    data.label_names)
    return codes, [target], f"{len(labelled)} training images"


def fit_directions(model: VAE, data: ImageDataset, limit: int = FIT_LIMIT,
                   check_codes: int = CHECK_CODES) -> DirectionFit | None:
    """Probes, directions and decoded checks; None when the data has no factors and fewer than
    two labelled classes in its training split (nothing to tell apart)."""
    if has_factors(data):
        fit_codes, targets, source = _shape_fit_set(model, data, min(limit, len(data.train_x)))
    elif data.label_names and len(torch.unique(data.train_y[data.train_y >= 0])) >= 2:
        fit_codes, targets, source = _label_fit_set(model, data, limit)
    else:
        return None
    held_codes, targets = _scored_held_out(model, data, targets)
    check = held_codes[:check_codes]
    check_back = reencode(model, check)  # the unmoved side of every decoded check
    probes, directions = [], []
    for target in targets:
        with threadpool_limits(1, user_api="blas"):  # tiny matrices: threads only contend
            probe = fit_probe(fit_codes, held_codes, target)
        probes.append(probe)
        for direction in directions_for(fit_codes, target, probe):
            amount = check_amount(direction, target)
            effect = decoded_effect(model, probe, direction, check, amount, check_back)
            directions.append(replace(direction, effect=effect, spread=amount))
    return DirectionFit(tuple(probes), tuple(directions), source, len(held_codes), check)


def _scored_held_out(model: VAE, data: ImageDataset, targets: list[Target]):
    """Posterior means of the test images every target can score, and the targets cut to them:
    an unlabelled test image (-1) or one without a finite factor value is left out."""
    keep = np.ones(len(data.test_x), dtype=bool)
    for target in targets:
        keep &= (target.held_out >= 0) if target.kind == CLASS else np.isfinite(target.held_out)
    codes = encode_images(model, data.test_x[torch.from_numpy(keep)]).mean
    return codes, [replace(target, held_out=target.held_out[keep]) for target in targets]


def check_amount(direction: Direction, target: Target) -> float:
    """How far the decoded check moves: one class-mean difference, PULL_CHECK of the way to
    the class's mean code, or one std of the factor."""
    if direction.kind == VALUE:
        return float(np.std(target.fit))
    return PULL_CHECK if direction.pulls else 1.0


def reencode(model: VAE, codes: np.ndarray) -> np.ndarray:
    """Posterior means of the decoder's mean images for `codes`: z -> x -> z."""
    return encode_images(model, decode_mean(model, codes)).mean


def decoded_effect(model: VAE, probe: Probe, direction: Direction, codes: np.ndarray,
                   amount: float, codes_back: np.ndarray | None = None) -> float:
    """Does moving `codes` by `amount` along `direction` change what the probe reads?

    Both the moved and the unmoved codes go through decode and encode, so the check compares
    like with like (`codes_back`: reencode(model, codes), when already known). VALUE: the
    measured change of the probe's reading over the intended one (1 = as intended, 0 = no
    change). CLASS: the share of codes read as another class before that are read as the
    direction's class after.
    """
    codes = np.asarray(codes, dtype=np.float32)
    moved = direction.moved(codes, amount).astype(np.float32)
    codes_back = reencode(model, codes) if codes_back is None else codes_back
    before, after = probe.predict(codes_back), probe.predict(reencode(model, moved))
    if direction.kind == VALUE:
        return float(np.mean(after - before) / amount) if amount else 0.0
    others = before != direction.class_index
    return float(np.mean(after[others] == direction.class_index)) if others.any() else 0.0
