"""Resolve ``estimator="package.module:Name"`` into a fitted-ready scikit-learn estimator."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from typing import Any, Literal

from airflow_robust.exceptions import ConfigurationError, InvalidParameterError

TaskType = Literal["classification", "regression"]


def import_object(path: str) -> Any:
    """Import ``package.module:Name`` (or ``package.module.Name``)."""
    text = path.strip()
    module_name, sep, attr = text.partition(":")
    if not sep:
        module_name, _, attr = text.rpartition(".")
    if not module_name or not attr:
        raise ConfigurationError(f"{path!r} is not an import path such as 'package.module:Name'.")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ConfigurationError(f"Cannot import module {module_name!r} for {path!r}: {err}") from err
    try:
        obj = module
        for part in attr.split("."):
            obj = getattr(obj, part)
    except AttributeError as err:
        raise ConfigurationError(f"Module {module_name!r} has no attribute {attr!r}.") from err
    return obj


def build_estimator(path: str, params: Mapping[str, Any] | None = None, owner: str = "training") -> Any:
    """Instantiate a class, or call a factory, with ``params``; check the result is an estimator.

    scikit-learn's own parameter constraints are checked here (not at ``fit``), and a violation
    is reported as a bad ``params`` value.
    """
    target = import_object(path)
    if not callable(target):
        raise ConfigurationError(f"{path!r} is neither an estimator class nor a factory function.")
    kwargs = dict(params or {})
    try:
        estimator = target(**kwargs)
    except TypeError as err:
        raise InvalidParameterError(
            "params", owner, f"keyword arguments accepted by {path}", kwargs, detail=str(err)
        ) from err
    if inspect.isclass(estimator) or not (hasattr(estimator, "fit") and hasattr(estimator, "predict")):
        raise ConfigurationError(
            f"{path!r} must build a scikit-learn estimator with fit() and predict(). "
            f"Got {type(estimator).__name__} instead."
        )
    validate_params = getattr(estimator, "_validate_params", None)
    if callable(validate_params):
        try:
            validate_params()
        except ValueError as err:
            raise InvalidParameterError(
                "params", owner, f"valid parameters for {path}", kwargs, detail=str(err)
            ) from err
    return estimator


def estimator_task(estimator: Any) -> TaskType | None:
    """``classification``/``regression`` from the estimator's own declaration, if it makes one."""
    from sklearn.base import BaseEstimator, is_classifier, is_regressor

    if not isinstance(estimator, BaseEstimator):  # a wrapped pyfunc: it says so itself, or nothing
        declared = getattr(estimator, "_estimator_type", None)
        return {"classifier": "classification", "regressor": "regression"}.get(str(declared))  # type: ignore[return-value]
    if is_classifier(estimator):
        return "classification"
    if is_regressor(estimator):
        return "regression"
    return None
