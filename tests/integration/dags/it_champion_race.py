"""Integration DAG: many DAG runs promote candidates of different quality of one model at once.

Each run trains a logistic regression on breast_cancer with the run's ``C`` (regularisation sets
its quality), then ``promote`` (approval="auto", no regression allowed) and ``deploy``. Runs of
this DAG race for ``@champion``; the promotion lease serializes them.
"""

from __future__ import annotations

import os
from datetime import timedelta

from airflow.sdk import Param, dag, task

from airflow_robust import DeployModelOperator, PromoteModelOperator, TrainModelOperator

MODEL = "it_race"


@dag(
    schedule=None,
    catchup=False,
    max_active_runs=16,
    render_template_as_native_obj=True,
    params={"C": Param(1.0, type="number")},
    default_args={"retries": 2, "retry_delay": timedelta(seconds=5)},
    tags=["airflow-robust", "integration"],
)
def it_champion_race() -> None:
    @task(multiple_outputs=True)
    def split() -> dict[str, str]:
        """The same seeded split in every run, so every candidate is judged on the same rows."""
        from sklearn.datasets import load_breast_cancer
        from sklearn.model_selection import train_test_split

        frame = load_breast_cancer(as_frame=True).frame
        train, evaluation = train_test_split(frame, test_size=0.4, random_state=7, stratify=frame["target"])
        root = os.environ["AIRFLOW_ROBUST_DATA_URI"].removeprefix("file://") + "/race"
        os.makedirs(root, exist_ok=True)
        paths = {"train": f"{root}/train.csv", "evaluation": f"{root}/evaluation.csv"}
        for name, part in (("train", train), ("evaluation", evaluation)):
            if not os.path.exists(paths[name]):
                part.to_csv(f"{paths[name]}.{os.getpid()}", index=False)
                os.replace(f"{paths[name]}.{os.getpid()}", paths[name])
        return paths

    data = split()
    train = TrainModelOperator(
        task_id="train",
        estimator="sklearn.linear_model:LogisticRegression",
        params={"C": "{{ params.C }}", "max_iter": 5000},
        data=data["train"],
        target="target",
        registered_model_name=MODEL,
        preprocess="none",
    )
    promote = PromoteModelOperator(
        task_id="promote",
        model_name=MODEL,
        candidate_version=train.output["version"],
        rules=[{"metric": "f1_macro", "direction": "higher", "min": 0.5, "max_regression": 0.0}],
        evaluation_data=data["evaluation"],
        target="target",
        approval="auto",
        required_gates=[],
        on_failure="skip",
    )
    deploy = DeployModelOperator(task_id="deploy", model_name=MODEL, version=train.output["version"])
    train >> promote >> deploy


it_champion_race()
