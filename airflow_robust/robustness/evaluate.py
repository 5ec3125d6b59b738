"""Evaluate a fitted model under perturbations, on slices, and for calibration.

Figures (``RobustnessReport.figures()``):

- ``clean_metric``: the primary metric on the clean data.
- ``rr.<perturbation>@<severity>``: robustness ratio metric(perturbed) / metric(clean) (inverted
  for lower-is-better metrics, so 1.0 always means "no degradation").
- ``audc.<perturbation>`` and ``audc`` (their mean): area under the degradation curve, the
  trapezoid through (0, 1) and (s_i, min(RR_i, 1)) divided by the largest severity; 1.0 = no
  degradation at any severity.
- ``flip_rate``: share of predictions that change at the mildest noise (regression: relative
  change above ``flip_tolerance``).
- ``worst_slice_ratio``: min over slices of metric(slice) / metric(all), slices of at least
  ``min_slice_size`` rows (named columns, or quantile bins of numeric and values of categorical
  features). For classification the slice metric is accuracy: macro averages are undefined on
  slices that hold a single class.
- ``ece`` (top-class confidence, 10 equal-width bins) and ``brier`` for probabilistic classifiers.
- ``dummy_gain``: how much better than a prior/mean dummy the model is (positive = better).

Predictions are batched: one ``predict`` per perturbation over all its severities.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from airflow_robust.registry.flavors import no_probabilities
from airflow_robust.robustness.perturbations import Perturbation, categorical_columns, numeric_columns
from airflow_robust.robustness.scoring import (
    brier_score,
    calibration_curve,
    expected_calibration_error,
    ratio,
    score,
)
from airflow_robust.training.metrics import HIGHER_IS_BETTER


@dataclass(frozen=True)
class RobustnessSpec:
    task: str
    metric: str
    perturbations: Sequence[Perturbation]
    slice_columns: Sequence[str] | None = None
    min_slice_size: int = 30
    slice_bins: int = 4
    seed: int = 42
    flip_tolerance: float = 0.1
    ece_bins: int = 10


@dataclass
class RobustnessReport:
    task: str
    metric: str
    clean_metric: float
    rows: int
    seed: int
    curves: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    audc_by: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    flip_rate: float | None = None
    slices: list[dict[str, Any]] = field(default_factory=list)
    ece: float | None = None
    brier: float | None = None
    calibration: list[dict[str, float]] = field(default_factory=list)
    dummy_metric: float | None = None
    predict_calls: int = 0
    predict_rows: int = 0
    #: figure -> why it was not computed (e.g. the model gives no class probabilities)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def audc(self) -> float:
        values = [v for v in self.audc_by.values() if math.isfinite(v)]
        if self.errors or not values:
            return float("nan")
        return float(np.mean(values))

    @property
    def worst_slice_ratio(self) -> float | None:
        ratios = [s["ratio"] for s in self.slices if math.isfinite(s["ratio"])]
        return min(ratios) if ratios else None

    @property
    def dummy_gain(self) -> float | None:
        if self.dummy_metric is None:
            return None
        sign = 1.0 if HIGHER_IS_BETTER[self.metric] else -1.0
        return sign * (self.clean_metric - self.dummy_metric)

    def figures(self) -> dict[str, float | None]:
        out: dict[str, float | None] = {
            "clean_metric": self.clean_metric,
            "audc": self.audc,
            "flip_rate": self.flip_rate,
            "worst_slice_ratio": self.worst_slice_ratio,
            "ece": self.ece,
            "brier": self.brier,
            "dummy_gain": self.dummy_gain,
        }
        for name, value in self.audc_by.items():
            out[f"audc.{name}"] = value
        for name, points in self.curves.items():
            for point in points:
                out[f"rr.{name}@{point['severity']:g}"] = point["rr"]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "metric": self.metric,
            "clean_metric": self.clean_metric,
            "rows": self.rows,
            "seed": self.seed,
            "audc": _finite(self.audc),
            "audc_by_perturbation": _clean(self.audc_by),
            "curves": self.curves,
            "perturbation_errors": self.errors,
            "flip_rate": self.flip_rate,
            "worst_slice_ratio": self.worst_slice_ratio,
            "slices": self.slices,
            "ece": self.ece,
            "ece_binning": "top-class confidence, 10 equal-width bins on [0, 1], weighted by bin size",
            "brier": self.brier,
            "calibration": self.calibration,
            "dummy_metric": self.dummy_metric,
            "dummy_gain": self.dummy_gain,
            "predict_calls": self.predict_calls,
            "predict_rows": self.predict_rows,
            "skipped": self.skipped,
        }


def evaluate(model: Any, features: pd.DataFrame, target: pd.Series, spec: RobustnessSpec) -> RobustnessReport:
    features = features.reset_index(drop=True)
    labels = target.reset_index(drop=True).to_numpy()
    counter = _Counter(model)
    y = labels
    if spec.task == "classification":  # integer codes: the same scores, without sorting strings every time
        counter.categories = pd.Index(pd.unique(np.concatenate([labels, np.asarray(getattr(model, "classes_", []))])))
        y = counter.encode(labels)
    clean_pred = counter.predict(features)
    clean = score(spec.metric, y, clean_pred)
    report = RobustnessReport(
        task=spec.task, metric=spec.metric, clean_metric=clean, rows=len(features), seed=spec.seed
    )
    for index, perturbation in enumerate(spec.perturbations):
        rng = np.random.default_rng([spec.seed, index])
        try:
            points, flips = _curve(counter, perturbation, features, y, clean_pred, clean, spec, rng)
        except Exception as err:  # noqa: BLE001 - a model that cannot cope fails this check, it does not crash
            report.errors[perturbation.name] = f"{type(err).__name__}: {str(err).splitlines()[0][:300]}"
            report.audc_by[perturbation.name] = float("nan")
            continue
        report.curves[perturbation.name] = points
        report.audc_by[perturbation.name] = audc([p["severity"] for p in points], [p["rr"] for p in points])
        if perturbation.name == "noise" or (report.flip_rate is None and flips is not None):
            report.flip_rate = flips
    report.slices = _slices(features, y, clean_pred, clean, spec)
    if spec.task == "classification" and hasattr(model, "predict_proba"):
        proba = np.asarray(model.predict_proba(features))
        classes = list(getattr(model, "classes_", []))
        report.ece = expected_calibration_error(proba, labels, classes, spec.ece_bins)
        report.brier = brier_score(proba, labels, classes)
        report.calibration = calibration_curve(proba, labels, classes, spec.ece_bins)
    elif spec.task == "classification":
        why = no_probabilities(model) or "the model gives no class probabilities"
        report.skipped = {"ece": why, "brier": why, "calibration": why}
    report.dummy_metric = _dummy(features, y, spec)
    report.predict_calls, report.predict_rows = counter.calls, counter.rows
    return report


def audc(severities: Sequence[float], ratios: Sequence[float]) -> float:
    """Area under (0, 1), (s_i, min(rr_i, 1)) divided by the largest severity; NaN if any ratio is."""
    if not severities or any(not math.isfinite(r) for r in ratios):
        return float("nan")
    xs = np.concatenate([[0.0], np.asarray(severities, dtype=float)])
    ys = np.concatenate([[1.0], np.minimum(np.asarray(ratios, dtype=float), 1.0)])
    order = np.argsort(xs)
    xs, ys = xs[order], ys[order]
    return float(np.sum((xs[1:] - xs[:-1]) * (ys[1:] + ys[:-1]) / 2.0) / xs[-1])


class _Counter:
    """Counts predict calls and rows (for the benchmark and the report); encodes class labels."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.calls = 0
        self.rows = 0
        self.categories: pd.Index | None = None

    def encode(self, values: np.ndarray) -> np.ndarray:
        """Class labels as integer codes; a label outside the known classes becomes -1 (wrong for every row)."""
        assert self.categories is not None
        return np.asarray(self.categories.get_indexer(pd.Index(values)), dtype=np.int64)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        self.calls += 1
        self.rows += len(frame)
        predicted = np.asarray(self.model.predict(frame))
        return predicted if self.categories is None else self.encode(predicted)


def _curve(
    counter: _Counter,
    perturbation: Perturbation,
    features: pd.DataFrame,
    y: np.ndarray,
    clean_pred: np.ndarray,
    clean: float,
    spec: RobustnessSpec,
    rng: np.random.Generator,
) -> tuple[list[dict[str, float]], float | None]:
    frames, weights = [], []
    for severity in perturbation.severities:
        frame, weight = perturbation.apply(features, y, severity, rng)
        frames.append(frame)
        weights.append(weight)
    if perturbation.weights_only:
        predictions = [clean_pred for _ in frames]
    else:
        stacked = counter.predict(pd.concat(frames, ignore_index=True))
        predictions = np.split(stacked, len(frames))
    points = []
    for severity, predicted, weight in zip(perturbation.severities, predictions, weights, strict=True):
        value = score(spec.metric, y, predicted, weight)
        points.append(
            {
                "severity": float(severity),
                "metric": value,
                "rr": ratio(spec.metric, value, clean),
                "flip_rate": _flip_rate(spec, clean_pred, predicted),
            }
        )
    return points, points[0]["flip_rate"] if not perturbation.weights_only else None


def _flip_rate(spec: RobustnessSpec, clean: np.ndarray, perturbed: np.ndarray) -> float:
    if spec.task == "classification":
        return float(np.mean(clean != perturbed))
    base = np.maximum(np.abs(clean.astype(float)), 1e-12)
    return float(np.mean(np.abs(perturbed.astype(float) - clean.astype(float)) / base > spec.flip_tolerance))


def _slices(
    features: pd.DataFrame, y: np.ndarray, predicted: np.ndarray, clean: float, spec: RobustnessSpec
) -> list[dict[str, Any]]:
    columns = list(spec.slice_columns) if spec.slice_columns else list(features.columns)
    numeric = set(numeric_columns(features))
    metric = "accuracy" if spec.task == "classification" else spec.metric
    overall = score(metric, y, predicted) if metric != spec.metric else clean
    out = []
    for column in columns:
        series = features[column]
        if column in numeric and series.nunique() > spec.slice_bins * 2:
            binned = pd.qcut(series, q=spec.slice_bins, duplicates="drop")
            codes, names = np.asarray(binned.cat.codes), [str(c) for c in binned.cat.categories]
        elif column in numeric or column in categorical_columns(features):
            codes, uniques = pd.factorize(series.astype(str))
            names = [str(u) for u in uniques]
        else:
            continue
        sizes = np.bincount(codes[codes >= 0], minlength=len(names))
        for code, name in enumerate(names):
            if sizes[code] < spec.min_slice_size:
                continue
            rows = np.flatnonzero(codes == code)
            value_in_slice = score(metric, y[rows], predicted[rows])
            out.append(
                {
                    "column": str(column),
                    "slice": name,
                    "rows": len(rows),
                    "metric_name": metric,
                    "overall": overall,
                    "metric": value_in_slice,
                    "ratio": ratio(metric, value_in_slice, overall),
                }
            )
    return sorted(out, key=lambda s: s["ratio"] if math.isfinite(s["ratio"]) else -1.0)


def _dummy(features: pd.DataFrame, y: np.ndarray, spec: RobustnessSpec) -> float:
    from sklearn.dummy import DummyClassifier, DummyRegressor

    dummy = DummyClassifier(strategy="prior") if spec.task == "classification" else DummyRegressor()
    dummy.fit(np.zeros((len(y), 1)), y)
    return score(spec.metric, y, dummy.predict(np.zeros((len(y), 1))))


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _clean(values: dict[str, float]) -> dict[str, float | None]:
    return {k: _finite(v) for k, v in values.items()}
