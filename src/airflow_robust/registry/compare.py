"""Score candidate and champion on the same data; paired bootstrap of the metric difference."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from airflow_robust.registry.policy import Rule, improvement

Metric = Callable[["Predictions", np.ndarray], float]


@dataclass
class Predictions:
    """What one model said about the evaluation rows."""

    y: np.ndarray
    predicted: np.ndarray
    proba: np.ndarray | None
    classes: list[Any]


def predict(model: Any, features: Any, target: Any, task: str) -> Predictions:
    proba = None
    classes = list(getattr(model, "classes_", []))
    predicted = np.asarray(model.predict(features))
    if task == "classification" and hasattr(model, "predict_proba") and len(classes) >= 2:
        proba = np.asarray(model.predict_proba(features))
    return Predictions(np.asarray(target), predicted, proba, classes)


def metric_value(name: str, p: Predictions, rows: np.ndarray | None = None) -> float:
    """One metric of ``p`` (on ``rows`` when given); NaN when it is undefined (e.g. one class)."""
    from sklearn import metrics as m

    y = p.y if rows is None else p.y[rows]
    predicted = p.predicted if rows is None else p.predicted[rows]
    proba = None if p.proba is None else (p.proba if rows is None else p.proba[rows])
    simple: dict[str, Callable[[], float]] = {
        "accuracy": lambda: m.accuracy_score(y, predicted),
        "balanced_accuracy": lambda: m.balanced_accuracy_score(y, predicted),
        "f1_macro": lambda: m.f1_score(y, predicted, average="macro", zero_division=0),
        "precision_macro": lambda: m.precision_score(y, predicted, average="macro", zero_division=0),
        "recall_macro": lambda: m.recall_score(y, predicted, average="macro", zero_division=0),
        "rmse": lambda: math.sqrt(m.mean_squared_error(y.astype(float), predicted.astype(float))),
        "mae": lambda: m.mean_absolute_error(y.astype(float), predicted.astype(float)),
        "r2": lambda: m.r2_score(y.astype(float), predicted.astype(float)) if len(y) > 1 else math.nan,
        "median_ae": lambda: m.median_absolute_error(y.astype(float), predicted.astype(float)),
    }
    if name in simple:
        return float(simple[name]())
    if name in ("roc_auc", "log_loss"):
        return _probabilistic(name, y, proba, p.classes)
    raise KeyError(name)


def _probabilistic(name: str, y: np.ndarray, proba: np.ndarray | None, classes: list[Any]) -> float:
    from sklearn import metrics as m

    present = set(np.unique(y).tolist())
    if proba is None or not present <= set(classes):
        return math.nan
    if name == "log_loss":
        return float(m.log_loss(y, proba, labels=classes))
    if len(present) < 2:
        return math.nan
    if len(classes) == 2:
        return float(m.roc_auc_score(y == classes[1], proba[:, 1]))
    if len(present) < len(classes):
        return math.nan
    return float(m.roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=classes))


KNOWN_METRICS = (
    "accuracy",
    "balanced_accuracy",
    "f1_macro",
    "precision_macro",
    "recall_macro",
    "roc_auc",
    "log_loss",
    "rmse",
    "mae",
    "r2",
    "median_ae",
)


def metrics_for(p: Predictions, names: Sequence[str]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for name in names:
        try:
            out[name] = metric_value(name, p)
        except (KeyError, ValueError):
            out[name] = None
    return out


def paired_bootstrap(
    rule: Rule, candidate: Predictions, champion: Predictions, *, resamples: int, seed: int, confidence: float
) -> tuple[float, float]:
    """Percentile interval of the rule's improvement, resampling the same rows for both models."""
    rng = np.random.default_rng(seed)
    n = len(candidate.y)
    gains = []
    for _ in range(resamples):
        rows = rng.integers(0, n, n)
        a, b = metric_value(rule.metric, candidate, rows), metric_value(rule.metric, champion, rows)
        if math.isfinite(a) and math.isfinite(b) and not (rule.relative and b == 0):
            gains.append(improvement(rule, a, b))
    if len(gains) < max(10, resamples // 2):
        return (math.nan, math.nan)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(np.asarray(gains), [tail, 1.0 - tail])
    return float(low), float(high)
