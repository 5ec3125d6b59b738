"""Integration DAGs: the example loop with the review in Airflow (HITL), on models of their own."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from typing import Any

from airflow.sdk import dag
from airflow.sdk.bases.notifier import BaseNotifier
from robust_example_tasks import DAG_ARGS, promotion


class FileNotifier(BaseNotifier):
    """What a Slack or SMTP notifier does, into ``$AIRFLOW_ROBUST_DATA_URI/notifications.jsonl``."""

    template_fields = ("message",)

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def notify(self, context: Any) -> None:
        path = os.environ["AIRFLOW_ROBUST_DATA_URI"].removeprefix("file://") + "/notifications.jsonl"
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a") as handle:
            handle.write(json.dumps({"message": self.message, "review": context["airflow_robust"]}) + "\n")


@dag(**DAG_ARGS)
def it_review() -> None:
    promotion(
        "manual",
        model_name="it_review",
        review="airflow",
        review_kwargs={
            "notifiers": [
                FileNotifier(
                    "Review {{ airflow_robust.model }} v{{ airflow_robust.version }}: {{ airflow_robust.airflow_url }}"
                )
            ]
        },
    )


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
