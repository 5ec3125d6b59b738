"""Operator extra links: from an Airflow task to its MLflow run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk.types import TaskInstanceKey

XCOM_RUN_URL = "airflow_robust_mlflow_run_url"


class MlflowRunLink(BaseOperatorLink):
    """ "MLflow run": the child run this task try logged into."""

    name = "MLflow run"

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        value = XCom.get_value(ti_key=ti_key, key=XCOM_RUN_URL)
        return str(value) if value else ""
