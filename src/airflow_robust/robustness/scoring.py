"""Metrics for robustness figures, with their direction, sample weights and ratios."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

HIGHER_IS_BETTER = {
    "accuracy": True,
    "balanced_accuracy": True,
    "f1_macro": True,
    "r2": True,
    "rmse": False,
    "mae": False,
}
CLASSIFICATION = ("accuracy", "balanced_accuracy", "f1_macro")
REGRESSION = ("rmse", "mae", "r2")


def default_metric(task: str) -> str:
    return "f1_macro" if task == "classification" else "rmse"


def score(metric: str, y: Any, predicted: Any, weights: np.ndarray | None = None) -> float:
    from sklearn import metrics as m

    if metric == "accuracy":
        return float(m.accuracy_score(y, predicted, sample_weight=weights))
    if metric == "balanced_accuracy":
        return float(m.balanced_accuracy_score(y, predicted, sample_weight=weights))
    if metric == "f1_macro":
        return float(m.f1_score(y, predicted, average="macro", sample_weight=weights, zero_division=0))
    if metric == "rmse":
        return math.sqrt(float(m.mean_squared_error(y, predicted, sample_weight=weights)))
    if metric == "mae":
        return float(m.mean_absolute_error(y, predicted, sample_weight=weights))
    if metric == "r2":
        return float(m.r2_score(y, predicted, sample_weight=weights))
    raise ValueError(f"unknown metric {metric!r}")


def ratio(metric: str, value: float, clean: float) -> float:
    """Robustness ratio: 1.0 = as good as clean, below 1 = worse (inverted for lower-is-better metrics)."""
    if not (math.isfinite(value) and math.isfinite(clean)):
        return float("nan")
    if HIGHER_IS_BETTER[metric]:
        return value / clean if clean != 0 else float("nan")
    if value == 0:
        return 1.0 if clean == 0 else float("inf")
    return clean / value


def expected_calibration_error(proba: np.ndarray, y: Any, classes: list[Any], bins: int = 10) -> float:
    """ECE on the top-class confidence, ``bins`` equal-width bins over [0, 1], weighted by bin size."""
    confidence = proba.max(axis=1)
    predicted = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    correct = (predicted == np.asarray(y, dtype=object)).astype(float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        in_bin = index == b
        if in_bin.any():
            total += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(total)


def brier_score(proba: np.ndarray, y: Any, classes: list[Any]) -> float:
    """Multiclass Brier score: mean over rows of the squared distance to the one-hot label."""
    onehot = (np.asarray(y, dtype=object)[:, None] == np.asarray(classes, dtype=object)[None, :]).astype(float)
    return float(np.mean(np.sum((proba - onehot) ** 2, axis=1)))


def calibration_curve(proba: np.ndarray, y: Any, classes: list[Any], bins: int = 10) -> list[dict[str, float]]:
    confidence = proba.max(axis=1)
    predicted = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    correct = (predicted == np.asarray(y, dtype=object)).astype(float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    return [
        {
            "bin_low": float(edges[b]),
            "bin_high": float(edges[b + 1]),
            "count": int((index == b).sum()),
            "confidence": float(confidence[index == b].mean()),
            "accuracy": float(correct[index == b].mean()),
        }
        for b in range(bins)
        if (index == b).any()
    ]
