"""Integration DAG: a task whose MLflow connection points at a URI where nothing listens."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag

from airflow_robust import TrainModelOperator


@dag(schedule=None, catchup=False, tags=["airflow-robust", "integration"])
def it_broken_mlflow() -> None:
    TrainModelOperator(
        task_id="train",
        estimator="sklearn.linear_model:LogisticRegression",
        data="sklearn_frames:breast_cancer",
        target="target",
        registered_model_name="never_registered",
        mlflow_conn_id="mlflow_broken",
        retries=1,
        retry_delay=timedelta(seconds=2),
    )


it_broken_mlflow()
