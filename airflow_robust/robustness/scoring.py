"""Metrics for robustness figures, with their direction, sample weights and ratios."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from airflow_robust.training.metrics import HIGHER_IS_BETTER

#: the metrics a robustness curve is drawn with (their direction: ``training.metrics.HIGHER_IS_BETTER``)
CLASSIFICATION = ("accuracy", "balanced_accuracy", "f1_macro")


def score(metric: str, y: Any, predicted: Any, weights: np.ndarray | None = None) -> float:
    """``metric`` of ``predicted`` against ``y``: scikit-learn's definition.

    Classification labels given as integer codes (what ``evaluate`` passes) are scored from one
    weighted confusion matrix, which gives scikit-learn's values without its per-call label
    checks; anything else goes through ``sklearn.metrics``.
    """
    if metric in CLASSIFICATION and _is_codes(y) and _is_codes(predicted):
        return _from_confusion(metric, np.asarray(y), np.asarray(predicted), weights)
    from sklearn import metrics as m

    functions: dict[str, Any] = {
        "accuracy": m.accuracy_score,
        "balanced_accuracy": m.balanced_accuracy_score,
        "f1_macro": lambda a, b, sample_weight: m.f1_score(
            a, b, average="macro", sample_weight=sample_weight, zero_division=0
        ),
        "rmse": lambda a, b, sample_weight: math.sqrt(m.mean_squared_error(a, b, sample_weight=sample_weight)),
        "mae": m.mean_absolute_error,
        "r2": m.r2_score,
    }
    if metric not in functions:
        raise ValueError(f"unknown metric {metric!r}")
    return float(functions[metric](y, predicted, sample_weight=weights))


def _is_codes(values: Any) -> bool:
    return isinstance(values, np.ndarray) and values.dtype.kind == "i"


def _from_confusion(metric: str, y: np.ndarray, predicted: np.ndarray, weights: np.ndarray | None) -> float:
    low = min(int(y.min(initial=0)), int(predicted.min(initial=0)))
    true, pred = y - low, predicted - low
    k = max(int(true.max(initial=0)), int(pred.max(initial=0))) + 1
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    confusion = np.bincount(true * k + pred, weights=w, minlength=k * k).reshape(k, k)
    seen = np.zeros(k, dtype=bool)  # labels present in y or predicted (weights may be zero)
    seen[true] = True
    seen[pred] = True
    confusion = confusion[np.ix_(seen, seen)]
    hits = np.diag(confusion)
    if metric == "accuracy":
        return float(hits.sum() / confusion.sum())
    support = confusion.sum(axis=1)
    if metric == "balanced_accuracy":  # mean recall over the classes present in y
        present = support > 0
        return float(np.mean(hits[present] / support[present]))
    k = len(hits)
    denominator = 2 * hits + (confusion.sum(axis=0) - hits) + (support - hits)  # f1 = 2tp / (2tp + fp + fn)
    f1 = np.divide(2 * hits, denominator, out=np.zeros(k), where=denominator > 0)
    return float(np.mean(f1))


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
