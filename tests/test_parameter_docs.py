"""Every parameter of every operator and sensor is documented in its class (or a base class) docstring."""

from __future__ import annotations

import inspect
import re

import pytest

import airflow_robust

PUBLIC = [
    name
    for name in airflow_robust.__all__
    if name.endswith(("Operator", "Sensor")) and inspect.isclass(getattr(airflow_robust, name))
]


def documented(cls: type) -> str:
    return "\n".join(klass.__doc__ or "" for klass in cls.__mro__ if klass.__module__.startswith("airflow_robust"))


@pytest.mark.parametrize("name", PUBLIC)
def test_every_parameter_is_documented(name: str) -> None:
    cls = getattr(airflow_robust, name)
    parameters = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "args", "kwargs")]
    docs = documented(cls)
    missing = [p for p in parameters if not re.search(rf":param {re.escape(p)}:", docs)]
    assert parameters and missing == [], f"{name}: undocumented {missing}"


def test_every_operator_and_sensor_is_checked() -> None:
    assert len(PUBLIC) >= 10 and "ModelApprovalSensor" in PUBLIC and "RollbackModelOperator" in PUBLIC
