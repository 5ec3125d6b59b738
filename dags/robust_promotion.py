"""Example: the whole gated loop on Seattle's weather, with a person reviewing in the MLflow UI.

``robust_promotion`` runs export -> validate -> train -> robustness (as ``robust_training``),
then ``promote`` scores the new version and the current ``@champion`` on the same held-out days.
A candidate that passed every gate and does not regress gets alias ``challenger``, tag
``robust.approval=pending`` and a review table in its description; ``approval`` waits (deferred,
no worker slot) until a reviewer sets ``robust.approval`` to ``approved`` on the model version
page of the MLflow UI; ``deploy`` checks the version in a fresh process and moves ``@champion``
with compare-and-set, recording the move in the alias history.

``robust_promotion`` is scheduled on ``Asset("x-airflow-robust://retrain/seattle_weather")``:
when ``robust_monitoring`` finds drift, it retrains here, through every gate and a review.

``robust_promotion_auto`` is the same loop without a person: a passing candidate is approved by
the rules and deployed in the same DAG run.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import dag
from robust_example_tasks import DAG_ARGS, MODEL_NAME, training_tasks

from airflow_robust.operators.deploy import DeployModelOperator
from airflow_robust.operators.monitor import retrain_asset
from airflow_robust.operators.promote import PromoteModelOperator
from airflow_robust.sensors.approval import ModelApprovalSensor

#: the champion must not get worse on the held-out days, and must be better than guessing
PROMOTION_RULES = [
    {"metric": "f1_macro", "direction": "higher", "min": 0.3, "max_regression": 0.0},
    {"metric": "accuracy", "direction": "higher", "max_regression": 0.02},
]


def promotion(approval: str) -> None:
    train, robustness = training_tasks()
    trained: Any = train.output
    evaluation = "{{ ti.xcom_pull(task_ids='export_dataset', key='evaluation') }}"
    promote = PromoteModelOperator(
        task_id="promote",
        model_name=MODEL_NAME,
        candidate_version=trained["version"],
        rules=PROMOTION_RULES,
        evaluation_data=evaluation,
        target="weather",
        approval=approval,
        on_failure="skip",  # a rejected challenger is a normal outcome: skip the deployment
    )
    deploy = DeployModelOperator(
        task_id="deploy", model_name=MODEL_NAME, version=trained["version"], sample_data=evaluation
    )
    if approval == "manual":
        review = ModelApprovalSensor(
            task_id="approval", model_name=MODEL_NAME, version=trained["version"], poke_interval=5
        )
        robustness >> promote >> review >> deploy
    else:
        robustness >> promote >> deploy


@dag(tags=["airflow-robust", "example"], doc_md=__doc__, **{**DAG_ARGS, "schedule": [retrain_asset(MODEL_NAME)]})
def robust_promotion() -> None:
    promotion("manual")


@dag(tags=["airflow-robust", "example"], doc_md=__doc__, **DAG_ARGS)
def robust_promotion_auto() -> None:
    promotion("auto")


robust_promotion()
robust_promotion_auto()
