"""Score candidate and champion on the same data; paired bootstrap of the metric difference."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from airflow_robust.promotion.policy import Rule, improvement
from airflow_robust.training.metrics import (
    CLASSIFICATION_METRICS,
    REGRESSION_METRICS,
    Predictions,
    metric_value,
    predict,
)

KNOWN_METRICS = CLASSIFICATION_METRICS + REGRESSION_METRICS
__all__ = [
    "KNOWN_METRICS",
    "Predictions",
    "metric_value",
    "metrics_for",
    "paired_bootstrap",
    "predict",
    "same_predictions",
]


def same_predictions(a: Predictions, b: Predictions) -> bool:
    """Whether two models said the same thing about every row (labels, and probabilities to 1e-9)."""
    if a.predicted.shape != b.predicted.shape or not np.array_equal(a.predicted, b.predicted):
        return False
    if a.proba is None or b.proba is None:
        return a.proba is None and b.proba is None
    return a.proba.shape == b.proba.shape and bool(np.allclose(a.proba, b.proba, rtol=0.0, atol=1e-9))


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
