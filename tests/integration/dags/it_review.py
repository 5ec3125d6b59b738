"""Integration DAGs: the example loop with the review in Airflow (HITL), on models of their own."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag
from robust_example_tasks import DAG_ARGS, promotion


@dag(**DAG_ARGS)
def it_review() -> None:
    promotion("manual", model_name="it_review", review="airflow")


@dag(**DAG_ARGS)
def it_review_timeout() -> None:
    promotion(
        "manual",
        model_name="it_review_timeout",
        review="airflow",
        review_kwargs={"response_timeout": timedelta(seconds=20)},
    )


it_review()
it_review_timeout()
