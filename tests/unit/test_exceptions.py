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
