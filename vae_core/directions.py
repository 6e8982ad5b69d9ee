"""Attribute directions in latent space, fitted on posterior means; numpy in, numpy out.

A class target (a digit's label, a shape's kind) gives one direction per class: the mean code of
that class minus the mean code of the others ("towards 8"); a slider value t moves z by t times
that difference. A value target (scale, x...) gives the activation pattern of a linear regression
probe with weights w: S w / (w' S w), S the codes' covariance (Haufe et al., 2014). A slider value
t changes the probe's reading by exactly t factor units, moving z the way the data varies with the
factor; the bare w / |w|^2 would also do that, but mostly along dimensions the decoder ignores.
Probes are scikit-learn models, fitted on training codes and scored on held-out ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression

CLASS, VALUE = "class", "value"


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
    """One slider's direction: z + t * vector."""

    name: str  # "towards 8", or the factor's name
    target: str
    kind: str
    vector: np.ndarray  # (D,)
    probe_score: float  # held-out: the class's recall (CLASS) or the probe's R^2 (VALUE)
    class_index: int | None = None
    effect: float | None = None  # the decoded check (see decoded_effect), when measured
    spread: float = 1.0  # a typical move: 1 for a class, the factor's std for a value


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
    """The sliders a target gives: one per class (class-mean differences) or one (the probe)."""
    if target.kind == VALUE:
        vector = value_direction(probe, fit_codes)
        return [Direction(target.name, target.name, VALUE, vector, probe.score)]
    vectors = class_mean_directions(fit_codes, target.fit, len(target.class_names))
    return [Direction(f"towards {name}", target.name, CLASS, vectors[k],
                      float(probe.class_recall[k]), class_index=k)
            for k, name in enumerate(target.class_names)]


def nearest_codes(codes: np.ndarray, z: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k codes (N, D) closest to z (D,) in Euclidean distance, nearest first."""
    distances = np.linalg.norm(np.asarray(codes) - np.asarray(z)[None, :], axis=1)
    k = min(k, len(distances))
    nearest = np.argpartition(distances, k - 1)[:k] if k else np.empty(0, dtype=int)
    return nearest[np.argsort(distances[nearest], kind="stable")]


def vector_arithmetic(z_a: np.ndarray, z_b: np.ndarray, z_c: np.ndarray) -> np.ndarray:
    """z(A) - z(B) + z(C): C with A's difference from B added."""
    return np.asarray(z_a) - np.asarray(z_b) + np.asarray(z_c)
