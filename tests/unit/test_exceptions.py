from __future__ import annotations

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_robust import exceptions as exc
from airflow_robust.operators._edge import fail_class, for_airflow


def test_tree_shape() -> None:
    assert issubclass(exc.InvalidParameterError, exc.ConfigurationError)
    for gate in (
        exc.DataValidationFailed,
        exc.RobustnessCheckFailed,
        exc.PromotionRejected,
        exc.ApprovalRejected,
        exc.DriftDetected,
    ):
        assert issubclass(gate, exc.GateFailure)
        assert not gate.retryable
    assert exc.TrackingUnavailable.retryable and exc.StorageUnavailable.retryable
    assert not exc.DataSourceError.retryable


def test_gate_failure_becomes_non_retryable_in_airflow_but_keeps_its_class() -> None:
    original = exc.DataValidationFailed("2 critical expectations failed", summary={"success": False})
    converted = for_airflow(original)
    assert isinstance(converted, AirflowFailException)
    assert isinstance(converted, exc.DataValidationFailed)
    assert type(converted).__name__ == "DataValidationFailed"
    assert converted.summary == {"success": False}
    assert str(converted) == "2 critical expectations failed"
    with pytest.raises(exc.GateFailure):
        raise converted


def test_infrastructure_errors_stay_retryable() -> None:
    original = exc.TrackingUnavailable("MLflow down")
    assert for_airflow(original) is original
    assert not isinstance(for_airflow(original), AirflowFailException)


def test_fail_class_is_cached() -> None:
    assert fail_class(exc.PromotionRejected) is fail_class(exc.PromotionRejected)


def test_parameter_error_attributes_survive_conversion() -> None:
    err = for_airflow(exc.InvalidParameterError("target", "TrainModelOperator", "a column", "nope"))
    assert isinstance(err, exc.InvalidParameterError) and isinstance(err, AirflowFailException)
    assert err.parameter == "target"
    assert "The 'target' parameter of TrainModelOperator" in str(err)


def test_the_drawing_in_the_module_docstring_is_the_class_tree() -> None:
    """Every exception class is drawn, under its own parent, and nothing else is."""
    import inspect
    import re

    drawn: dict[str, str] = {}
    parents: list[str] = []
    for line in (exc.__doc__ or "").splitlines():
        match = re.match(r"^    ((?:[│ ]   )*)(?:[├└]── )?([A-Z]\w+)", line)
        if not match or not match.group(2).endswith(
            ("Error", "Failure", "Missing", "Failed", "Rejected", "Refused", "Detected", "Unavailable", "Timeout")
        ):
            continue  # fmt: skip
        depth = len(match.group(1)) // 4 + (1 if "──" in line else 0)
        parents[depth:] = [match.group(2)]
        drawn[match.group(2)] = parents[depth - 1] if depth else ""
    classes = {
        name: cls.__bases__[0].__name__ if cls is not exc.AirflowRobustError else ""
        for name, cls in inspect.getmembers(exc, inspect.isclass)
        if issubclass(cls, exc.AirflowRobustError) and cls.__module__ == exc.__name__
    }
    assert drawn == classes
