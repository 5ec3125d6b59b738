"""Integration DAGs for the reliability suite: the whole gated loop, with retries and backoff.

``it_kill`` and ``it_outage`` are the example pipeline (export -> validate -> train -> robustness
-> promote (auto) -> deploy) on seattle-weather, each with a registered model of its own, and
with the retry settings a production DAG would use against a tracking server that can go away:
several retries, exponential backoff, capped delay. The tests kill task processes
(``test_reliability.py``) or stop the MLflow server in the middle of a run.

The loop is spelled out here rather than imported from ``robust_promotion.py``: importing a DAG
file from another makes Airflow see its DAGs twice.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import dag
from robust_example_tasks import training_tasks

from airflow_robust import DeployModelOperator, PromoteModelOperator

PROMOTION_RULES = [
    {"metric": "f1_macro", "direction": "higher", "min": 0.3, "max_regression": 0.0},
    {"metric": "accuracy", "direction": "higher", "max_regression": 0.02},
]
RETRYING = {
    "retries": 8,
    "retry_delay": timedelta(seconds=3),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(seconds=20),
}


def pipeline(model_name: str) -> None:
    train, robustness = training_tasks(model_name)
    trained: Any = train.output
    evaluation = "{{ ti.xcom_pull(task_ids='export_dataset', key='evaluation') }}"
    promote = PromoteModelOperator(
        task_id="promote",
        model_name=model_name,
        candidate_version=trained["version"],
        rules=PROMOTION_RULES,
        evaluation_data=evaluation,
        target="weather",
        approval="auto",
        bootstrap_resamples=2000,
    )
    deploy = DeployModelOperator(
        task_id="deploy", model_name=model_name, version=trained["version"], sample_data=evaluation
    )
    robustness >> promote >> deploy


@dag(schedule=None, catchup=False, default_args=RETRYING, params={"corrupt": False}, tags=["integration"])
def it_kill() -> None:
    pipeline("it_kill")


@dag(schedule=None, catchup=False, default_args=RETRYING, params={"corrupt": False}, tags=["integration"])
def it_outage() -> None:
    pipeline("it_outage")


it_kill()
it_outage()
