"""Disentanglement scores of a code against known generative factors: MIG, DCI, active units.

Arrays in, numbers out. `codes` are (N, D) posterior means (one row per image); `factors` are
(N, K) known factor values of the same images, with their K names alongside.

Estimators (the ones disentanglement_lib uses, so figures compare with published ones):
- MIG (Chen et al. 2018, "Isolating Sources of Disentanglement in VAEs"): each code dimension is
  binned into 20 equal-width bins over its range (disentanglement_lib's histogram discretizer);
  a factor with at most 20 distinct values keeps them as its classes, a continuous one is binned
  the same way. I(z_j; v_k) is the plug-in (histogram) mutual information in nats
  (sklearn.metrics.mutual_info_score). For each factor, the gap between its largest and
  second-largest I(z_j; v_k) is divided by the factor's entropy H(v_k); MIG is their mean.
- DCI (Eastwood & Williams 2018): one scikit-learn GradientBoosting model per factor predicts it
  from the code, trained on a seeded 80% of the rows; its feature importances form the (D, K)
  importance matrix R. Disentanglement: 1 - entropy (base K) of each code's row of R, weighted by
  that row's share of R. Completeness: 1 - entropy (base D) of each factor's column, weighted by
  that column's share. Informativeness: the held-out score of each factor's predictor, averaged:
  accuracy for a categorical factor (a classifier), R^2 clipped at 0 for the others (a regressor).
- Active units (Burda et al. 2016): see active_units.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import entropy
from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor
from sklearn.metrics import mutual_info_score
from sklearn.model_selection import train_test_split

N_BINS = 20  # disentanglement_lib's default for MIG
MAX_CATEGORIES = 10  # a factor of at most this many distinct integers is a class label


def _bin(values: np.ndarray, n_bins: int = N_BINS) -> np.ndarray:
    """Equal-width bins over the values' range, as disentanglement_lib's discretizer."""
    edges = np.histogram(values, n_bins)[1]
    return np.digitize(values, edges[:-1])


def _classes(values: np.ndarray) -> np.ndarray:
    """A factor as class indices: its own values when few, else N_BINS bins."""
    distinct, index = np.unique(values, return_inverse=True)
    return index if len(distinct) <= N_BINS else _bin(values)


def is_categorical(values: np.ndarray) -> bool:
    """A factor of a few integer values (shape 0/1/2) is a label, not a quantity."""
    distinct = np.unique(values)
    return len(distinct) <= MAX_CATEGORIES and bool(np.all(distinct == np.round(distinct)))


@dataclass(frozen=True)
class MIG:
    score: float
    per_factor: np.ndarray  # (K,) gap / entropy
    mutual_information: np.ndarray  # (K, D) nats
    entropy: np.ndarray  # (K,) nats


def mutual_information_gap(codes: np.ndarray, factors: np.ndarray) -> MIG:
    """MIG of codes (N, D) against factors (N, K); needs D >= 2 (see the module docstring)."""
    codes, factors = _checked(codes, factors)
    binned = [_bin(column) for column in codes.T]
    targets = [_classes(column) for column in factors.T]
    mi = np.array([[mutual_info_score(t, b) for b in binned] for t in targets])  # (K, D)
    h = np.array([mutual_info_score(t, t) for t in targets])  # H(v) = I(v; v)
    top = np.sort(mi, axis=1)[:, ::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        gaps = np.where(h > 0, (top[:, 0] - top[:, 1]) / h, 0.0)
    return MIG(float(gaps.mean()), gaps, mi, h)


@dataclass(frozen=True)
class DCI:
    disentanglement: float
    completeness: float
    informativeness: float
    per_factor_informativeness: np.ndarray  # (K,) held-out accuracy or R^2
    importance: np.ndarray  # (D, K)


def dci(codes: np.ndarray, factors: np.ndarray, seed: int = 0) -> DCI:
    """DCI of codes (N, D) against factors (N, K) (see the module docstring)."""
    codes, factors = _checked(codes, factors)
    split = train_test_split(codes, factors, test_size=0.2, random_state=seed)
    code_train, code_test, factor_train, factor_test = split
    importance, scores = [], []
    for k in range(factors.shape[1]):
        model = _predictor(factors[:, k], seed)
        model.fit(code_train, factor_train[:, k])
        importance.append(np.abs(model.feature_importances_))
        scores.append(max(0.0, model.score(code_test, factor_test[:, k])))
    matrix = np.stack(importance, axis=1)  # (D, K)
    return DCI(_disentanglement(matrix), _completeness(matrix), float(np.mean(scores)),
               np.array(scores), matrix)


def _predictor(values: np.ndarray, seed: int):
    if is_categorical(values):
        return GradientBoostingClassifier(random_state=seed)
    return GradientBoostingRegressor(random_state=seed)


def _disentanglement(matrix: np.ndarray) -> float:
    """1 - H_K(row) per code, weighted by the code's share of all importance."""
    per_code = 1.0 - entropy(matrix.T + 1e-11, base=matrix.shape[1])
    weights = matrix.sum(axis=1) / max(matrix.sum(), 1e-11)
    return float(np.sum(per_code * weights))


def _completeness(matrix: np.ndarray) -> float:
    """1 - H_D(column) per factor, weighted by the factor's share of all importance."""
    per_factor = 1.0 - entropy(matrix + 1e-11, base=matrix.shape[0])
    weights = matrix.sum(axis=0) / max(matrix.sum(), 1e-11)
    return float(np.sum(per_factor * weights))


def _checked(codes: np.ndarray, factors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    codes, factors = np.asarray(codes, np.float64), np.asarray(factors, np.float64)
    if codes.ndim != 2 or factors.ndim != 2 or len(codes) != len(factors):
        raise ValueError("codes (N, D) and factors (N, K) need one row per image")
    if codes.shape[1] < 2 or factors.shape[1] < 2 or len(codes) < 10:
        raise ValueError("need at least 2 code dimensions, 2 factors and 10 images")
    if not (np.isfinite(codes).all() and np.isfinite(factors).all()):
        raise ValueError("codes and factors must be finite")
    return codes, factors
