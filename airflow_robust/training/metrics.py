"""Metrics of a fitted model on labelled data: the default set per task type, one definition each.

Used for the training holdout and by the promotion gate (candidate and champion on the same data).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from airflow_robust.training.estimators import TaskType

CLASSIFICATION_METRICS = (
    "accuracy",
    "balanced_accuracy",
    "f1_macro",
    "precision_macro",
    "recall_macro",
    "roc_auc",
    "log_loss",
)
REGRESSION_METRICS = ("rmse", "mae", "r2", "median_ae")


#: which way is better, for every metric this package computes (one table: robustness, drift, promotion)
HIGHER_IS_BETTER: dict[str, bool] = {
    "accuracy": True,
    "balanced_accuracy": True,
    "f1_macro": True,
    "precision_macro": True,
    "recall_macro": True,
    "roc_auc": True,
    "log_loss": False,
    "r2": True,
    "rmse": False,
    "mae": False,
    "median_ae": False,
}


def default_metric(task: TaskType | str) -> str:
    """The primary metric per task, used where one figure must speak for the model."""
    return "f1_macro" if task == "classification" else "rmse"


@dataclass
class Predictions:
    """What one model said about labelled rows (``proba`` for classifiers that give probabilities)."""

    y: np.ndarray
    predicted: np.ndarray
    proba: np.ndarray | None
    classes: list[Any]


def predict(model: Any, features: Any, target: Any, task: TaskType | str) -> Predictions:
    classes = list(getattr(model, "classes_", []))
    predicted = np.asarray(model.predict(features))
    proba = None
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


def holdout_metrics(task: TaskType, model: Any, features: Any, target: Any) -> dict[str, float]:
    """Score ``model`` on ``features``/``target``. Metrics that cannot be computed are omitted."""
    predictions = predict(model, features, target, task)
    names = REGRESSION_METRICS if task == "regression" else CLASSIFICATION_METRICS
    values = {name: metric_value(name, predictions) for name in names}
    return {k: v for k, v in values.items() if math.isfinite(v)}
