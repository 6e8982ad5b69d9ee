"""A model's disentanglement scores on its data set's known factors, and their JSON form.

The scores are computed on the test split (the only part whose factors are kept), from the
posterior means E_q[z | x]. Export stores them in the model's metadata, so pages show a shipped
model's scores without refitting DCI's predictors (~10 s on two busy cores). scikit-learn is
imported only when scores are computed: loading a checkpoint checks a stored report without it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .active_units import active_units, posterior_mean_variance
from .config import ConfigError, require
from .data import ImageDataset
from .latent import encode_images
from .models import VAE


class MissingFactorsError(ValueError):
    """The model's data set has no known generative factors to score against."""


@dataclass(frozen=True)
class DisentanglementReport:
    """Figures on n_images test images; lists are plain floats so the report is JSON."""

    factor_names: list[str]
    n_images: int
    mig: float
    mig_per_factor: list[float]  # (K,) gap / H(v_k)
    mutual_information: list[list[float]]  # (K, D) nats
    factor_entropy: list[float]  # (K,) nats
    dci_disentanglement: float
    dci_completeness: float
    dci_informativeness: float
    informativeness_per_factor: list[float]  # (K,)
    posterior_mean_variance: list[float]  # (D,)
    active_units: int
    probe_accuracy: dict[str, float]  # categorical factor -> held-out linear probe accuracy

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def normalized_mutual_information(self) -> np.ndarray:
        """I(z_j; v_k) / H(v_k), (K, D): for the heat map."""
        mi, h = np.array(self.mutual_information), np.array(self.factor_entropy)
        return mi / np.where(h > 0, h, 1.0)[:, None]


def factor_matrix(data: ImageDataset) -> tuple[list[str], np.ndarray]:
    """The test split's factors as names and an (M, K) array; MissingFactorsError without."""
    if not data.test_factors:
        raise MissingFactorsError(
            f"the data set '{data.name}' has no known generative factors, so there is nothing "
            "to score disentanglement against; use a model trained on 'shapes'")
    names = list(data.test_factors)
    return names, np.stack([data.test_factors[k].numpy() for k in names], axis=1)


def linear_probe_accuracy(codes: np.ndarray, labels: np.ndarray, seed: int = 0) -> float:
    """Held-out accuracy (30% of rows) of a logistic regression from codes to class labels."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    split = train_test_split(codes, labels, test_size=0.3, random_state=seed, stratify=labels)
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    probe.fit(split[0], split[2])
    return float(probe.score(split[1], split[3]))


def disentanglement_report(model: VAE, data: ImageDataset, seed: int = 0) -> DisentanglementReport:
    """MIG, DCI, active units and linear-probe accuracies of the model on data's test split."""
    from .disentanglement import dci, is_categorical, mutual_information_gap

    names, factors = factor_matrix(data)
    codes = encode_images(model, data.test_x).mean.astype(np.float64)  # (M, D)
    mig = mutual_information_gap(codes, factors)
    scores = dci(codes, factors, seed=seed)
    probes = {name: linear_probe_accuracy(codes, factors[:, k].astype(int), seed)
              for k, name in enumerate(names) if is_categorical(factors[:, k])}
    return DisentanglementReport(
        factor_names=names, n_images=len(codes), mig=mig.score,
        mig_per_factor=mig.per_factor.tolist(), mutual_information=mig.mutual_information.tolist(),
        factor_entropy=mig.entropy.tolist(), dci_disentanglement=scores.disentanglement,
        dci_completeness=scores.completeness, dci_informativeness=scores.informativeness,
        informativeness_per_factor=scores.per_factor_informativeness.tolist(),
        posterior_mean_variance=posterior_mean_variance(codes).tolist(),
        active_units=active_units(codes), probe_accuracy=probes,
    )


def report_from_dict(values: Any, latent_dim: int) -> DisentanglementReport:
    """Rebuild a stored report, checking every field (it comes from a file). ValueError."""
    try:
        return _report_from_dict(values, latent_dim)
    except ConfigError as error:  # a failed require(): it names the field, this the section
        raise ValueError(f"metadata.disentanglement: {error}") from error


def _report_from_dict(values: Any, latent_dim: int) -> DisentanglementReport:
    if not isinstance(values, dict) or set(values) != set(DisentanglementReport.__annotations__):
        raise ValueError("metadata.disentanglement must hold exactly the report's fields")
    names = values["factor_names"]
    k = len(names) if isinstance(names, list) else -1
    require(2 <= k <= 16 and all(isinstance(n, str) and 0 < len(n) <= 32 for n in names),
            "factor_names must be 2 to 16 short names")
    for key, shape in (("mig_per_factor", (k,)), ("mutual_information", (k, latent_dim)),
                       ("factor_entropy", (k,)), ("informativeness_per_factor", (k,)),
                       ("posterior_mean_variance", (latent_dim,))):
        require(_is_array(values[key], shape), f"{key} must be {shape} finite numbers")
    for key in ("mig", "dci_disentanglement", "dci_completeness", "dci_informativeness"):
        require(_is_number(values[key]), f"{key} must be a finite number")
    for key, limit in (("n_images", 10**7), ("active_units", latent_dim)):
        value = values[key]
        require(isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= limit,
                f"{key} must be a whole number from 0 to {limit}")
    probes = values["probe_accuracy"]
    require(isinstance(probes, dict) and all(n in names and _is_number(v)
                                             for n, v in probes.items()),
            "probe_accuracy must map factor names to numbers")
    return DisentanglementReport(**values)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_array(value: Any, shape: tuple[int, ...]) -> bool:
    if not shape:
        return _is_number(value)
    return (isinstance(value, list) and len(value) == shape[0]
            and all(_is_array(v, shape[1:]) for v in value))


def report_text(report: DisentanglementReport) -> str:
    """The report as the CLI prints it: scores, then I(z_j; v_k) / H(v_k) per factor."""
    dims = len(report.posterior_mean_variance)
    lines = [
        f"{report.n_images} test images; scores on the posterior means",
        f"  MIG                     {report.mig:6.3f}  (binned, 20 bins; gap / H(factor))",
        f"  DCI disentanglement     {report.dci_disentanglement:6.3f}",
        f"  DCI completeness        {report.dci_completeness:6.3f}",
        f"  DCI informativeness     {report.dci_informativeness:6.3f}  "
        "(held-out, GradientBoosting)",
        f"  active units            {report.active_units:6d}  of {dims} "
        "(Var of the posterior mean > 0.01)",
    ]
    lines += [f"  linear probe, {name:9s} {acc:6.3f}  (held-out accuracy)"
              for name, acc in report.probe_accuracy.items()]
    lines.append("I(z_j; factor) / H(factor), and each factor's MIG gap:")
    lines.append("  " + " " * 10 + "".join(f"{'z' + str(j):>6s}" for j in range(dims)) + "     gap")
    for name, row, gap in zip(report.factor_names, report.normalized_mutual_information(),
                              report.mig_per_factor, strict=True):
        lines.append(f"  {name:10s}" + "".join(f"{v:6.2f}" for v in row) + f"  {gap:6.2f}")
    return "\n".join(lines)


# What export adds to a model card for a data set with known factors.

def disentanglement_metadata(model: VAE, data: ImageDataset) -> dict[str, Any]:
    """{"disentanglement": report} for data with known factors, else {} (nothing to score)."""
    if not data.test_factors:
        return {}
    return {"disentanglement": disentanglement_report(model, data).as_dict()}


def disentanglement_rows(report: dict[str, Any] | None) -> str:
    """Model-card table rows for a stored report ('' without one), each ending in a newline."""
    if report is None:
        return ""
    probes = ", ".join(f"{name} {acc:.1%}" for name, acc in report["probe_accuracy"].items())
    rows = [
        f"| MIG | {report['mig']:.3f} (20-bin histogram estimator on the posterior means, "
        f"{report['n_images']} test images) |",
        f"| DCI | disentanglement {report['dci_disentanglement']:.3f}, completeness "
        f"{report['dci_completeness']:.3f}, informativeness {report['dci_informativeness']:.3f} "
        "(GradientBoosting, held-out 20%) |",
    ]
    if probes:
        rows.append(f"| linear probe on z | {probes} held-out accuracy |")
    return "".join(row + "\n" for row in rows)
