"""Every public operator: every declared parameter constraint rejects its bad examples with one message shape."""

from __future__ import annotations

import re
from typing import Any

import pytest

from airflow_robust.exceptions import InvalidParameterError
from airflow_robust.operators.base import RobustBaseOperator
from airflow_robust.operators.batch_predict import BatchPredictOperator
from airflow_robust.operators.deploy import DeployModelOperator, RollbackModelOperator
from airflow_robust.operators.monitor import MonitorDriftOperator
from airflow_robust.operators.promote import PromoteModelOperator
from airflow_robust.operators.register import RegisterModelOperator
from airflow_robust.operators.review import ModelReviewOperator
from airflow_robust.operators.robustness import EvaluateRobustnessOperator
from airflow_robust.operators.train import TrainModelOperator
from airflow_robust.operators.validate import ValidateDataOperator
from airflow_robust.params import validate

VALID: dict[type[Any], dict[str, Any]] = {
    ModelReviewOperator: {"model_name": "m", "version": "2"},
    RegisterModelOperator: {"model_name": "m", "model_uri": "runs:/0123456789abcdef/model"},
    TrainModelOperator: {
        "estimator": "sklearn.tree:DecisionTreeClassifier",
        "data": "/d.csv",
        "target": "y",
        "registered_model_name": "m",
    },
    EvaluateRobustnessOperator: {"model_uri": "models:/m/1", "data": "/d.csv", "target": "y"},
    PromoteModelOperator: {
        "model_name": "m",
        "candidate_version": "2",
        "rules": [{"metric": "f1_macro", "direction": "higher", "max_regression": 0.0}],
        "evaluation_data": "/d.csv",
        "target": "y",
    },
    DeployModelOperator: {"model_name": "m", "version": 2},
    RollbackModelOperator: {"model_name": "m"},
    MonitorDriftOperator: {"reference": "models:/m@champion", "current": "/d.csv"},
    BatchPredictOperator: {"model_uri": "models:/m@champion", "data": "/d.csv", "output_uri": "/p.parquet"},
    ValidateDataOperator: {
        "data": "/d.csv",
        "expectations": [{"type": "expect_column_to_exist", "kwargs": {"column": "a"}}],
    },
}
ATTRIBUTE = {"params": "model_params"}

CASES = [
    (cls, name, bad) for cls in VALID for name, constraint in cls.PARAMETERS.items() for bad in constraint.example_bad
]


def test_every_public_operator_is_covered() -> None:
    import airflow_robust

    operators = {name for name in airflow_robust.__all__ if name.endswith("Operator")}
    assert operators == {cls.__name__ for cls in VALID}
    assert len(CASES) >= 40


@pytest.mark.parametrize(("cls", "name", "bad"), CASES, ids=[f"{c.__name__}.{n}={b!r}" for c, n, b in CASES])
def test_bad_value_is_rejected_with_the_fixed_message(cls: type[RobustBaseOperator], name: str, bad: Any) -> None:
    op = cls(task_id="t", **VALID[cls])
    validate(cls.__name__, cls.PARAMETERS, op.parameter_values())  # the baseline is valid
    setattr(op, ATTRIBUTE.get(name, name), bad)
    with pytest.raises(InvalidParameterError) as info:
        validate(cls.__name__, cls.PARAMETERS, op.parameter_values())
    message = str(info.value)
    assert message.startswith(f"The {name!r} parameter of {cls.__name__} must be ")
    assert re.search(r"\. Got .* instead\.", message)
