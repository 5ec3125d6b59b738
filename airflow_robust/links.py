"""Operator extra links: from an Airflow task to its MLflow run, and from a review to the model version."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk.types import TaskInstanceKey

XCOM_RUN_URL = "airflow_robust_mlflow_run_url"
XCOM_VERSION_URL = "airflow_robust_mlflow_version_url"


class MlflowRunLink(BaseOperatorLink):
    """ "MLflow run": the child run this task try logged into."""

    name = "MLflow run"

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        value = XCom.get_value(ti_key=ti_key, key=XCOM_RUN_URL)
        return str(value) if value else ""


class MlflowModelVersionLink(BaseOperatorLink):
    """ "MLflow model version": the version page of the model under review."""

    name = "MLflow model version"

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        value = XCom.get_value(ti_key=ti_key, key=XCOM_VERSION_URL)
        return str(value) if value else ""
