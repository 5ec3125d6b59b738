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

``robust_promotion_reviewed`` is the same loop with the review in Airflow: ``review`` appears under
*Required Actions* in the Airflow UI with the signed evidence; Airflow records who approved (the
person who triggered the run may not approve it), and ``deploy`` accepts only authenticated approvers.
No answer within 7 days means rejection.

``robust_promotion_auto`` is the same loop without a person: a passing candidate is approved by
the rules and deployed in the same DAG run.
"""

from __future__ import annotations

from airflow.sdk import dag
from robust_example_tasks import DAG_ARGS, MODEL_NAME, promotion

from airflow_robust.operators.monitor import retrain_asset


@dag(tags=["airflow-robust", "example"], doc_md=__doc__, **{**DAG_ARGS, "schedule": [retrain_asset(MODEL_NAME)]})
def robust_promotion() -> None:
    promotion("manual")


@dag(tags=["airflow-robust", "example"], doc_md=__doc__, **DAG_ARGS)
def robust_promotion_reviewed() -> None:
    promotion("manual", review="airflow")


@dag(tags=["airflow-robust", "example"], doc_md=__doc__, **DAG_ARGS)
def robust_promotion_auto() -> None:
    promotion("auto")


robust_promotion()
robust_promotion_reviewed()
robust_promotion_auto()
