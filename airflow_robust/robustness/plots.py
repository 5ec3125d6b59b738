"""PNG figures for the MLflow run: degradation curves and the calibration (reliability) diagram."""

from __future__ import annotations

from typing import Any


def degradation_png(report: Any, path: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    for name, points in report.curves.items():
        xs = [0.0] + [p["severity"] / points[-1]["severity"] for p in points]
        ys = [1.0] + [p["rr"] for p in points]
        ax.plot(xs, ys, marker="o", label=f"{name} (AUDC {report.audc_by[name]:.3f}, max s={points[-1]['severity']:g})")
    ax.axhline(1.0, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xlabel("severity (fraction of the largest tested)")
    ax.set_ylabel(f"robustness ratio ({report.metric})")
    ax.set_title(f"Degradation curves, clean {report.metric} = {report.clean_metric:.3f}")
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def calibration_png(report: Any, path: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfectly calibrated")
    xs = [b["confidence"] for b in report.calibration]
    ys = [b["accuracy"] for b in report.calibration]
    ax.plot(xs, ys, marker="o", label=f"model (ECE {report.ece:.3f}, Brier {report.brier:.3f})")
    ax.set_xlabel("top-class confidence (10 equal-width bins)")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
