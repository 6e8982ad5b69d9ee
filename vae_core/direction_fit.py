"""Attribute directions for a model and its data set: what to probe, the fit, and a decoded check.

Probes and directions are fitted on the posterior means of training data and scored on the test
split. Labelled data (digits) gives a class target from the training split's labels. The shapes
set keeps its continuous factors (scale, rotation, x, y) for the test split only, so for shapes
the fit data are fresh draws from the same generator: the training distribution, other images.

The decoded check asks whether a direction does what its name says: move held-out codes along
it, decode, encode the decoded images again and read the result with the probe.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from .data import ImageDataset
from .data.generated import GENERATORS, as_float
from .directions import CLASS, VALUE, Direction, Probe, Target, directions_for, fit_probe
from .latent import decode_mean, encode_images
from .models import VAE

FIT_LIMIT = 10_000  # training codes used at most: a linear probe on a few dims needs no more
CHECK_CODES = 300  # held-out codes moved, decoded and read again for the decoded check
FRESH_SHAPES_SEED = 1_000_003  # not a split seed: fresh shapes are other images


@dataclass(frozen=True)
class AttributeDirections:
    probes: tuple[Probe, ...]
    directions: tuple[Direction, ...]
    fit_source: str  # in words, e.g. "4000 training images"
    n_held_out: int


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


def fit_attribute_directions(model: VAE, data: ImageDataset, limit: int = FIT_LIMIT,
                             check_codes: int = CHECK_CODES) -> AttributeDirections | None:
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
    return AttributeDirections(tuple(probes), tuple(directions), source, len(held_codes))


def _scored_held_out(model: VAE, data: ImageDataset, targets: list[Target]):
    """Posterior means of the test images every target can score, and the targets cut to them:
    an unlabelled test image (-1) or one without a finite factor value is left out."""
    keep = np.ones(len(data.test_x), dtype=bool)
    for target in targets:
        keep &= (target.held_out >= 0) if target.kind == CLASS else np.isfinite(target.held_out)
    codes = encode_images(model, data.test_x[torch.from_numpy(keep)]).mean
    return codes, [replace(target, held_out=target.held_out[keep]) for target in targets]


def check_amount(direction: Direction, target: Target) -> float:
    """How far the decoded check moves: one class-mean difference, or one std of the factor."""
    return 1.0 if direction.kind == CLASS else float(np.std(target.fit))


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
    moved = codes + np.float32(amount) * direction.vector.astype(np.float32)
    codes_back = reencode(model, codes) if codes_back is None else codes_back
    before, after = probe.predict(codes_back), probe.predict(reencode(model, moved))
    if direction.kind == VALUE:
        return float(np.mean(after - before) / amount) if amount else 0.0
    others = before != direction.class_index
    return float(np.mean(after[others] == direction.class_index)) if others.any() else 0.0
