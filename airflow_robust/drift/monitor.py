"""One pass over the current data: column drift, model view and the monitoring verdict."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from airflow_robust.drift.current import CategoricalAccumulator, CurrentData, NumericAccumulator, accumulate
from airflow_robust.drift.detect import DEFAULT_THRESHOLDS, ColumnDrift, DriftReport, check_column, compare
from airflow_robust.drift.model_view import ModelAccumulator
from airflow_robust.drift.profile import CategoricalProfile, NumericProfile, ReferenceProfile
from airflow_robust.training.metrics import HIGHER_IS_BETTER

SIGNALS = ("dataset", "prediction", "target", "performance")


@dataclass(frozen=True)
class MonitorSpec:
    columns: list[str]
    target: str | None = None
    method: str = "auto"
    column_methods: Mapping[str, str] = field(default_factory=dict)
    thresholds: Mapping[str, float] = field(default_factory=dict)
    drift_share: float = 0.5
    performance_metric: str | None = None
    max_performance_drop: float = 0.1
    signals: Sequence[str] = ("dataset", "performance")
    keep_rows: int = 100_000


@dataclass
class MonitorResult:
    report: DriftReport
    current: CurrentData | None = None
    prediction_drift: ColumnDrift | None = None
    target_drift: ColumnDrift | None = None
    performance: dict[str, Any] | None = None
    estimated_performance: dict[str, Any] | None = None
    signals: dict[str, bool] = field(default_factory=dict)
    watched: Sequence[str] = ()

    @property
    def drift(self) -> bool:
        """Whether any watched signal fired."""
        return any(self.signals.get(name, False) for name in self.watched)

    def reason(self) -> str:
        report = self.report
        parts = [
            f"{len(report.drifted_columns)}/{len(report.columns)} columns drifted "
            f"(share {report.share:.2f}, dataset drift at >= {report.drift_share_threshold:g})"
        ]
        if report.drifted_columns:
            parts.append("drifted: " + ", ".join(report.drifted_columns[:20]))
        for name, col in (("prediction", self.prediction_drift), ("target", self.target_drift)):
            if col is not None:
                parts.append(f"{name} drift: {'yes' if col.drifted else 'no'} ({col.method})")
        if self.performance:
            p = self.performance
            parts.append(
                f"{p['metric']} {p['current']:.4g} vs reference {p['reference']:.4g} "
                f"(drop {p['drop']:.4g}, loss at > {p['max_drop']:g})"
            )
        fired = [name for name in self.watched if self.signals.get(name)]
        verdict = f"drift ({', '.join(fired)})" if fired else "ok"
        return f"{verdict}: " + "; ".join(parts)


def monitor(
    chunks: Iterable[pd.DataFrame],
    profile: ReferenceProfile,
    spec: MonitorSpec,
    *,
    model: Any = None,
    features: Sequence[str] | None = None,
    prediction_chunks: Iterable[pd.DataFrame] | None = None,
    current: CurrentData | None = None,
) -> MonitorResult:
    """Stream ``chunks`` once: column accumulators, plus predictions when ``model`` is given (or a
    ``prediction`` column is present), plus labels when ``spec.target`` is in the data.

    ``prediction_chunks`` (e.g. the output of BatchPredictOperator) supply the predictions, their
    probabilities and labels instead, in a second pass. ``current`` are accumulators computed elsewhere
    (in the database: :func:`airflow_robust.drift.sql.accumulate_sql`); ``chunks`` is then not read."""
    view = profile.model
    model_acc = ModelAccumulator(view) if view else None
    target_columns = [spec.target] if spec.target and spec.target in profile.columns else []

    def passing() -> Iterable[pd.DataFrame]:
        for chunk in chunks:
            if model_acc is not None and prediction_chunks is None:
                _score(chunk, model, features, spec.target, model_acc)
            yield chunk

    if current is None:
        current = accumulate(passing(), profile, [*spec.columns, *target_columns], keep_rows=spec.keep_rows)
    target_acc = current.columns.pop(target_columns[0], None) if target_columns else None
    target_missing = spec.target in current.missing if spec.target else True
    current.missing = [c for c in current.missing if c != spec.target]
    if model_acc is not None and prediction_chunks is not None:
        for chunk in prediction_chunks:
            _score(chunk, None, None, spec.target, model_acc)
    report = compare(
        profile,
        current,
        method=spec.method,
        column_methods=spec.column_methods,
        thresholds=spec.thresholds,
        drift_share=spec.drift_share,
    )
    limits = {**DEFAULT_THRESHOLDS, **dict(spec.thresholds)}
    result = MonitorResult(report=report, current=current, watched=tuple(spec.signals))
    if target_acc is not None and not target_missing and spec.target is not None:
        result.target_drift = check_column(spec.target, profile, target_acc, spec.method, limits)
    if model_acc is not None:
        result.prediction_drift = _prediction_drift(model_acc, view, spec, limits)
        result.performance = _performance(model_acc, view, spec)
        result.estimated_performance = model_acc.estimate()
    result.signals = {
        "dataset": report.dataset_drift,
        "prediction": bool(result.prediction_drift and result.prediction_drift.drifted),
        "target": bool(result.target_drift and result.target_drift.drifted),
        "performance": bool(result.performance and result.performance["loss"]),
    }
    return result


def _score(
    chunk: pd.DataFrame, model: Any, features: Sequence[str] | None, target: str | None, acc: ModelAccumulator
) -> None:
    labels = chunk[target] if target and target in chunk.columns else None
    proba = None
    if model is not None:
        inputs = chunk[list(features)] if features else chunk
        predicted = np.asarray(model.predict(inputs))
        if "calibration" in acc.view and hasattr(model, "predict_proba"):
            proba = np.asarray(model.predict_proba(inputs))[:, 1]
    elif "prediction" in chunk.columns:
        predicted = chunk["prediction"].to_numpy()
        positive = acc.view.get("positive_class")
        column = f"proba_{positive}"
        if positive is not None and column in chunk.columns:
            proba = chunk[column].to_numpy(dtype=float)
    else:
        return
    acc.add(predicted, proba, labels)


def _prediction_drift(
    acc: ModelAccumulator, view: Mapping[str, Any], spec: MonitorSpec, limits: Mapping[str, float]
) -> ColumnDrift | None:
    stored = view.get("predictions")
    if not stored:
        return None
    rows = int(view.get("rows", 0))
    if acc.task == "classification":
        frequencies = {str(k): int(v) for k, v in stored.items()}
        reference = CategoricalProfile(
            count=sum(frequencies.values()), nulls=0, frequencies=frequencies, distinct=len(frequencies)
        )
        categorical = CategoricalAccumulator(reference)
        categorical.rows = sum(acc.prediction_counts.values())
        categorical.frequencies.update(acc.prediction_counts)
        if categorical.rows == 0:
            return None
        current: CategoricalAccumulator | NumericAccumulator = categorical
    else:
        reference_num = NumericProfile(**stored)
        current = NumericAccumulator(reference_num, spec.keep_rows)
        if not acc.predictions:
            return None
        for values in acc.predictions:
            current.add(pd.Series(values))
    profile = ReferenceProfile(rows=rows, columns={"prediction": current.reference})
    return check_column("prediction", profile, current, spec.method, limits)


def _performance(acc: ModelAccumulator, view: Mapping[str, Any], spec: MonitorSpec) -> dict[str, Any] | None:
    metric = spec.performance_metric or ("f1_macro" if acc.task == "classification" else "rmse")
    current = acc.performance(metric)
    reference = (view.get("metrics") or {}).get(metric)
    if current is None or reference is None or not math.isfinite(float(reference)):
        return None
    higher = HIGHER_IS_BETTER.get(metric, True)
    drop = (float(reference) - current) if higher else (current - float(reference))
    return {
        "metric": metric,
        "reference": float(reference),
        "current": current,
        "drop": drop,
        "max_drop": spec.max_performance_drop,
        "loss": drop > spec.max_performance_drop,
        "labelled_rows": acc.labelled,
    }


__all__ = ["SIGNALS", "CurrentData", "MonitorResult", "MonitorSpec", "monitor"]
