"""Holdout metrics: a sensible default set per task type."""

from __future__ import annotations

import math
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


def default_metric(task: TaskType) -> str:
    """The primary metric per task, used where one figure must speak for the model."""
    return "f1_macro" if task == "classification" else "rmse"


def holdout_metrics(task: TaskType, model: Any, features: Any, target: Any) -> dict[str, float]:
    """Score ``model`` on ``features``/``target``. Metrics that cannot be computed are omitted."""
    from sklearn import metrics as m

    predicted = model.predict(features)
    if task == "regression":
        y = np.asarray(target, dtype=float)
        p = np.asarray(predicted, dtype=float)
        return _finite(
            {
                "rmse": math.sqrt(m.mean_squared_error(y, p)),
                "mae": m.mean_absolute_error(y, p),
                "r2": m.r2_score(y, p) if len(y) > 1 else float("nan"),
                "median_ae": m.median_absolute_error(y, p),
            }
        )
    scores: dict[str, float] = {
        "accuracy": m.accuracy_score(target, predicted),
        "balanced_accuracy": m.balanced_accuracy_score(target, predicted),
        "f1_macro": m.f1_score(target, predicted, average="macro", zero_division=0),
        "precision_macro": m.precision_score(target, predicted, average="macro", zero_division=0),
        "recall_macro": m.recall_score(target, predicted, average="macro", zero_division=0),
    }
    if hasattr(model, "predict_proba"):
        scores.update(_probabilistic(model, features, target))
    return _finite(scores)


def _probabilistic(model: Any, features: Any, target: Any) -> dict[str, float]:
    from sklearn import metrics as m

    classes = list(getattr(model, "classes_", []))
    present = set(np.unique(np.asarray(target)).tolist())
    if len(classes) < 2 or not present <= set(classes):
        return {}
    proba = model.predict_proba(features)
    out = {"log_loss": m.log_loss(target, proba, labels=classes)}
    if len(present) < 2:
        return out
    if len(classes) == 2:
        out["roc_auc"] = m.roc_auc_score(np.asarray(target) == classes[1], proba[:, 1])
    elif len(present) == len(classes):
        out["roc_auc"] = m.roc_auc_score(target, proba, multi_class="ovr", average="macro", labels=classes)
    return out


def _finite(scores: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in scores.items() if v is not None and math.isfinite(float(v))}
