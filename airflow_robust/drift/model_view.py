"""The model's side of monitoring: prediction drift, target drift, performance, and a label-free estimate.

At training time :func:`reference_view` stores, in the reference profile, what the model said
on its holdout: the distribution of its predictions, its metrics, and for binary classifiers an
isotonic calibration map of its positive-class probability. At monitoring time
:class:`ModelAccumulator` streams predictions (and labels, when the current data has them):

- prediction drift: current predictions against the holdout's, with the same tests as columns;
- performance on labelled current data (confusion matrix or error sums) against the holdout metric;
- for binary classifiers without labels, a CBPE-style estimate: calibrated probabilities give the
  expected confusion matrix, hence an *estimated* accuracy and F1. It assumes the calibration
  learnt on the holdout still holds (no concept drift) and is labelled as an estimate everywhere.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from airflow_robust.drift.profile import build_profile


def reference_view(
    model: Any, task: str, features: pd.DataFrame, target: pd.Series, metrics: dict[str, float]
) -> dict[str, Any]:
    """What to store as ``ReferenceProfile.model`` (JSON-able)."""
    predicted = np.asarray(model.predict(features))
    view: dict[str, Any] = {"task": task, "rows": len(features), "metrics": dict(metrics)}
    if task == "classification":
        classes = [str(c) for c in getattr(model, "classes_", [])]
        view["classes"] = classes
        view["predictions"] = {str(k): int(v) for k, v in pd.Series(predicted).astype(str).value_counts().items()}
        if len(classes) == 2 and hasattr(model, "predict_proba"):
            view["calibration"] = _calibration(model.predict_proba(features)[:, 1], target.astype(str) == classes[1])
            view["positive_class"] = classes[1]
    else:
        profile = build_profile(pd.DataFrame({"prediction": predicted.astype(float)}))
        view["predictions"] = profile.to_dict()["columns"]["prediction"]
    return view


def _calibration(proba: np.ndarray, positive: pd.Series) -> dict[str, list[float]]:
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(proba, positive.to_numpy(dtype=float))
    return {"x": [float(v) for v in iso.X_thresholds_], "y": [float(v) for v in iso.y_thresholds_]}


@dataclass
class ModelAccumulator:
    """Streams predictions, probabilities and labels of the current data."""

    view: dict[str, Any]
    predictions: list[np.ndarray] = field(default_factory=list)
    prediction_counts: Counter[str] = field(default_factory=Counter)
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    labelled: int = 0
    squared_error: float = 0.0
    absolute_error: float = 0.0
    expected: dict[str, float] = field(default_factory=lambda: {"tp": 0.0, "fp": 0.0, "fn": 0.0, "tn": 0.0})
    estimated_rows: int = 0

    @property
    def task(self) -> str:
        return str(self.view.get("task", "classification"))

    def add(self, predicted: np.ndarray, proba: np.ndarray | None, labels: pd.Series | None) -> None:
        if self.task == "classification":
            as_text = pd.Series(predicted).astype(str)
            self.prediction_counts.update({str(k): int(v) for k, v in as_text.value_counts().items()})
            if labels is not None:
                mask = labels.notna().to_numpy()
                pairs = pd.DataFrame({"y": labels.astype(str).to_numpy()[mask], "p": as_text.to_numpy()[mask]})
                counted: dict[Any, Any] = pairs.value_counts().to_dict()
                for key, count in counted.items():
                    self.confusion[(str(key[0]), str(key[1]))] += int(count)
                self.labelled += int(mask.sum())
            if proba is not None and "calibration" in self.view:
                self._expect(as_text.to_numpy(), proba)
        else:
            values = predicted.astype(float)
            self.predictions.append(values)
            if labels is not None:
                y = pd.to_numeric(labels, errors="coerce").to_numpy(dtype=float)
                mask = np.isfinite(y) & np.isfinite(values)
                self.squared_error += float(np.sum((y[mask] - values[mask]) ** 2))
                self.absolute_error += float(np.sum(np.abs(y[mask] - values[mask])))
                self.labelled += int(mask.sum())

    def _expect(self, predicted: np.ndarray, proba: np.ndarray) -> None:
        calibration = self.view["calibration"]
        p = np.interp(proba, calibration["x"], calibration["y"])
        positive = predicted == self.view["positive_class"]
        self.expected["tp"] += float(p[positive].sum())
        self.expected["fp"] += float((1 - p[positive]).sum())
        self.expected["fn"] += float(p[~positive].sum())
        self.expected["tn"] += float((1 - p[~positive]).sum())
        self.estimated_rows += len(p)

    def performance(self, metric: str) -> float | None:
        """``metric`` on the labelled current rows, or ``None`` without labels."""
        if self.labelled == 0:
            return None
        if self.task != "classification":
            if metric == "mae":
                return self.absolute_error / self.labelled
            return math.sqrt(self.squared_error / self.labelled)
        labels = sorted({y for y, _ in self.confusion} | {p for _, p in self.confusion})
        matrix = np.asarray([[self.confusion.get((y, p), 0) for p in labels] for y in labels], dtype=float)
        correct = np.diag(matrix)
        if metric == "accuracy":
            return float(correct.sum() / matrix.sum())
        true_totals, predicted_totals = matrix.sum(axis=1), matrix.sum(axis=0)
        recall = np.divide(correct, true_totals, out=np.zeros_like(correct), where=true_totals > 0)
        if metric == "balanced_accuracy":
            return float(recall[true_totals > 0].mean())
        precision = np.divide(correct, predicted_totals, out=np.zeros_like(correct), where=predicted_totals > 0)
        denominator = precision + recall
        f1 = np.divide(2 * precision * recall, denominator, out=np.zeros_like(correct), where=denominator > 0)
        present = (true_totals > 0) | (predicted_totals > 0)
        return float(f1[present].mean())

    def estimate(self) -> dict[str, Any] | None:
        """CBPE-style estimated accuracy and F1 (binary classifiers with a stored calibration)."""
        if not self.estimated_rows:
            return None
        e = self.expected
        f1_denominator = 2 * e["tp"] + e["fp"] + e["fn"]
        return {
            "estimate": True,
            "method": "CBPE (expected confusion matrix from holdout-calibrated probabilities)",
            "accuracy": (e["tp"] + e["tn"]) / self.estimated_rows,
            "f1_positive": 2 * e["tp"] / f1_denominator if f1_denominator else None,
            "rows": self.estimated_rows,
        }
