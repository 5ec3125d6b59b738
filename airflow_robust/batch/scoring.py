"""Batch scoring: predictions (and class probabilities) for one chunk of rows, tagged with the model version."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from airflow_robust.registry.models import ModelRef

PREDICTION = "prediction"
MODEL_NAME = "model_name"
MODEL_VERSION = "model_version"
PROBA_PREFIX = "proba_"


def proba_column(label: Any) -> str:
    """``proba_<class>`` with the class label made safe for column names."""
    return PROBA_PREFIX + re.sub(r"[^\w.-]+", "_", str(label))


@dataclass
class BatchTally:
    """Running totals over the chunks of one batch (what the XCom summary reports)."""

    rows: int = 0
    chunks: int = 0
    class_counts: Counter[str] = field(default_factory=Counter)
    total: float = 0.0
    non_finite: int = 0

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rows": self.rows, "chunks": self.chunks}
        if self.class_counts:
            out["prediction_counts"] = dict(self.class_counts.most_common(50))
        elif self.rows:
            out["prediction_mean"] = self.total / max(self.rows - self.non_finite, 1)
            out["non_finite_predictions"] = self.non_finite
        return out


def score_chunk(
    model: Any,
    chunk: pd.DataFrame,
    *,
    features: Sequence[str],
    ref: ModelRef,
    passthrough: Sequence[str],
    probabilities: bool,
    tally: BatchTally,
) -> pd.DataFrame:
    """Output rows for ``chunk``: passthrough columns, ``prediction``, ``proba_<class>``, model name and version."""
    inputs = chunk[list(features)]
    predicted = np.asarray(model.predict(inputs))
    if predicted.ndim > 1 and predicted.shape[1] == 1:
        predicted = predicted[:, 0]
    out = chunk[list(passthrough)].reset_index(drop=True).copy()
    out[PREDICTION] = predicted
    classes = list(getattr(model, "classes_", []))
    if probabilities and classes and hasattr(model, "predict_proba"):
        proba = np.asarray(model.predict_proba(inputs))
        for index, label in enumerate(classes):
            out[proba_column(label)] = proba[:, index]
    out[MODEL_NAME] = ref.name
    out[MODEL_VERSION] = ref.version
    tally.rows += len(out)
    tally.chunks += 1
    if predicted.dtype.kind in "fiu" and not classes:
        values = predicted.astype(float)
        finite = np.isfinite(values)
        tally.total += float(values[finite].sum())
        tally.non_finite += int((~finite).sum())
    else:
        counts = pd.Series(predicted).astype(str).value_counts()
        tally.class_counts.update({str(k): int(v) for k, v in counts.items()})
    return out
