"""What export adds for a data set with known factors: the stored report and its card rows."""

from __future__ import annotations

from typing import Any

from .data import ImageDataset
from .models import VAE


def disentanglement_metadata(model: VAE, data: ImageDataset) -> dict[str, Any]:
    """{"disentanglement": report} for data with known factors, else {} (nothing to score)."""
    if not data.test_factors:
        return {}
    from .disentanglement_report import disentanglement_report

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
