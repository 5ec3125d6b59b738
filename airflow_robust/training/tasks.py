"""Decide whether a target is a classification or a regression target."""

from __future__ import annotations

from typing import Any

import pandas as pd

from airflow_robust.exceptions import ConfigurationError
from airflow_robust.training.estimators import TaskType, estimator_task

MAX_CLASSES_FOR_INTEGER_TARGET = 20


def infer_task(target: pd.Series, estimator: Any = None, declared: str | None = None) -> TaskType:
    """The declared task wins, then the estimator's type, then the target's dtype.

    An integer target with at most 20 distinct values counts as classification.
    A declaration that contradicts the estimator is a configuration error.
    """
    from_estimator = estimator_task(estimator) if estimator is not None else None
    if declared not in (None, "auto"):
        if from_estimator is not None and from_estimator != declared:
            raise ConfigurationError(
                f"task={declared!r} contradicts the estimator {type(estimator).__name__}, "
                f"which is a {from_estimator} estimator."
            )
        return "classification" if declared == "classification" else "regression"
    if from_estimator is not None:
        return from_estimator
    if (
        pd.api.types.is_bool_dtype(target)
        or isinstance(target.dtype, pd.CategoricalDtype)
        or not pd.api.types.is_numeric_dtype(target)
    ):
        return "classification"
    if pd.api.types.is_integer_dtype(target) and target.nunique() <= MAX_CLASSES_FOR_INTEGER_TARGET:
        return "classification"
    return "regression"
