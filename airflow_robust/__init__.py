"""airflow-robust: gated, MLflow-tracked ML pipelines for Apache Airflow 3.

The public API is lazy: names resolve to their modules on first attribute access, so
``import airflow_robust`` costs (almost) nothing at DAG-parse time.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "TrainModelOperator": "airflow_robust.operators.train",
    "ValidateDataOperator": "airflow_robust.operators.validate",
    "EvaluateRobustnessOperator": "airflow_robust.operators.robustness",
    "RobustnessCheckFailed": "airflow_robust.exceptions",
    "PromoteModelOperator": "airflow_robust.operators.promote",
    "DeployModelOperator": "airflow_robust.operators.deploy",
    "ModelApprovalSensor": "airflow_robust.sensors.approval",
    "ModelReviewOperator": "airflow_robust.operators.review",
    "RegisterModelOperator": "airflow_robust.operators.register",
    "RollbackModelOperator": "airflow_robust.operators.deploy",
    "BatchPredictOperator": "airflow_robust.operators.batch_predict",
    "MonitorDriftOperator": "airflow_robust.operators.monitor",
    "DriftDetected": "airflow_robust.exceptions",
    "PromotionRejected": "airflow_robust.exceptions",
    "DeploymentRefused": "airflow_robust.exceptions",
    "DataValidationFailed": "airflow_robust.exceptions",
    "MlflowHook": "airflow_robust.hooks.mlflow",
    "MlflowRunLink": "airflow_robust.links",
    "MlflowModelVersionLink": "airflow_robust.links",
    "mlflow_stage_run": "airflow_robust.stage",
    "AirflowRobustError": "airflow_robust.exceptions",
    "ConfigurationError": "airflow_robust.exceptions",
    "InvalidParameterError": "airflow_robust.exceptions",
    "GateFailure": "airflow_robust.exceptions",
    "InfrastructureError": "airflow_robust.exceptions",
    "EvidenceError": "airflow_robust.exceptions",
    "TrackingAuthError": "airflow_robust.exceptions",
}

__all__ = [
    "AirflowRobustError",
    "BatchPredictOperator",
    "ConfigurationError",
    "DataValidationFailed",
    "DeployModelOperator",
    "DeploymentRefused",
    "DriftDetected",
    "EvaluateRobustnessOperator",
    "EvidenceError",
    "GateFailure",
    "InfrastructureError",
    "InvalidParameterError",
    "MlflowHook",
    "MlflowModelVersionLink",
    "MlflowRunLink",
    "ModelApprovalSensor",
    "ModelReviewOperator",
    "MonitorDriftOperator",
    "PromoteModelOperator",
    "PromotionRejected",
    "RegisterModelOperator",
    "RobustnessCheckFailed",
    "RollbackModelOperator",
    "TrackingAuthError",
    "TrainModelOperator",
    "ValidateDataOperator",
    "mlflow_stage_run",
]

if TYPE_CHECKING:
    from airflow_robust.exceptions import (
        AirflowRobustError,
        ConfigurationError,
        DataValidationFailed,
        DeploymentRefused,
        DriftDetected,
        EvidenceError,
        GateFailure,
        InfrastructureError,
        InvalidParameterError,
        PromotionRejected,
        RobustnessCheckFailed,
        TrackingAuthError,
    )
    from airflow_robust.hooks.mlflow import MlflowHook
    from airflow_robust.links import MlflowModelVersionLink, MlflowRunLink
    from airflow_robust.operators.batch_predict import BatchPredictOperator
    from airflow_robust.operators.deploy import DeployModelOperator, RollbackModelOperator
    from airflow_robust.operators.monitor import MonitorDriftOperator
    from airflow_robust.operators.promote import PromoteModelOperator
    from airflow_robust.operators.register import RegisterModelOperator
    from airflow_robust.operators.review import ModelReviewOperator
    from airflow_robust.operators.robustness import EvaluateRobustnessOperator
    from airflow_robust.operators.train import TrainModelOperator
    from airflow_robust.operators.validate import ValidateDataOperator
    from airflow_robust.sensors.approval import ModelApprovalSensor
    from airflow_robust.stage import mlflow_stage_run


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'airflow_robust' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
