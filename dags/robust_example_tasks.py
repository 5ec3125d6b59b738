"""Tasks the example DAGs share: export seattle-weather, validate, train, stress-test, promote, deploy.

``training_tasks()`` adds the first four to the DAG being defined (``robust_training`` calls it);
``promotion()`` adds them plus promote (-> approval) -> deploy (the promotion DAGs call it). This
file defines no DAG, so other DAG files can import it. See ``robust_training.py`` for what each
task does and how to trigger it.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import Param, task

from airflow_robust.operators.deploy import DeployModelOperator
from airflow_robust.operators.promote import PromoteModelOperator
from airflow_robust.operators.review import ModelReviewOperator
from airflow_robust.operators.robustness import EvaluateRobustnessOperator
from airflow_robust.operators.train import TrainModelOperator
from airflow_robust.operators.validate import ValidateDataOperator
from airflow_robust.sensors.approval import ModelApprovalSensor

MODEL_NAME = os.environ.get("AIRFLOW_ROBUST_EXAMPLE_MODEL", "seattle_weather")
FEATURES = ["month", "precipitation", "temp_max", "temp_min", "wind"]
SUITE = str(Path(__file__).resolve().parent / "suites" / "seattle_weather.json")
ROBUSTNESS_THRESHOLDS = {"audc": 0.85, "worst_slice_ratio": 0.75, "ece": 0.2, "dummy_gain": 0.2}
#: rows of the training part the ``corrupt`` option breaks (by position), and how
CORRUPTED_ROWS = {3: "temp_max is null", 10: "temp_max is null", 20: "precipitation 999 mm", 30: "temp_min 60 °C"}


def weather_frames() -> tuple[Any, Any]:
    """Seattle weather with a month column, split 75/25 (seeded, stratified) into training and evaluation."""
    from sklearn.model_selection import train_test_split
    from vega_datasets import data as vega

    frame = vega.seattle_weather()
    frame["month"] = frame["date"].dt.month
    train, evaluation = train_test_split(frame, test_size=0.25, random_state=42, stratify=frame["weather"])
    return train.reset_index(drop=True), evaluation.reset_index(drop=True)


def data_root() -> str:
    home = os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow"))
    return os.environ.get("AIRFLOW_ROBUST_DATA_URI", f"file://{os.path.abspath(home)}/data")


def training_tasks(model_name: str = MODEL_NAME) -> tuple[Any, Any]:
    """export -> validate -> train -> robustness, inside the current DAG; returns (train, robustness)."""

    @task(multiple_outputs=True)
    def export_dataset(**context: object) -> dict[str, str]:
        """Write seattle-weather (with a month column) as CSV; return its URI and the gate's output URIs."""
        import re

        import mlflow
        from airflow.sdk import ObjectStoragePath

        from airflow_robust import mlflow_stage_run

        frame, evaluation = weather_frames()
        corrupt = bool(context["params"]["corrupt"])  # type: ignore[index]
        if corrupt:
            frame.loc[[3, 10], "temp_max"] = None
            frame.loc[20, "precipitation"] = 999.0
            frame.loc[30, "temp_min"] = 60.0
            frame = frame.rename(columns={"wind": "wind_speed"})
        run_dir = re.sub(r"[^\w.-]+", "_", str(context["run_id"]))
        base = ObjectStoragePath(f"{data_root()}/runs/{run_dir}")
        base.mkdir(parents=True, exist_ok=True)
        target = base / "seattle_weather.csv"
        with target.open("w") as handle:
            frame.to_csv(handle, index=False)
        with (base / "evaluation.csv").open("w") as handle:
            evaluation.to_csv(handle, index=False)
        with mlflow_stage_run(context, stage="export"):
            mlflow.log_metrics({"rows": len(frame), "columns": frame.shape[1]})
            mlflow.set_tags({"robust.data.uri": str(target), "robust.example.corrupt": str(corrupt)})
        return {
            "data": str(target),
            "quarantine": str(base / "quarantine.csv"),
            "clean": str(base / "clean.csv"),
            "evaluation": str(base / "evaluation.csv"),
        }

    exported = export_dataset()
    validate = ValidateDataOperator(
        task_id="validate",
        data=exported["data"],
        expectations=SUITE,
        quarantine_uri=exported["quarantine"],
        clean_uri=exported["clean"],
    )
    train = TrainModelOperator(
        task_id="train",
        estimator="sklearn.ensemble:RandomForestClassifier",
        params={"n_estimators": 200, "max_depth": 8, "class_weight": "balanced"},
        data=exported["clean"],
        target="weather",
        features=FEATURES,
        registered_model_name=model_name,
    )
    trained = train.output
    robustness = EvaluateRobustnessOperator(
        task_id="robustness",
        model_uri=trained["model_uri"],
        data=exported["evaluation"],
        target="weather",
        thresholds=ROBUSTNESS_THRESHOLDS,
    )
    validate >> train >> robustness
    return train, robustness


#: the champion must not get worse on the held-out days, and must be better than guessing
PROMOTION_RULES = [
    {"metric": "f1_macro", "direction": "higher", "min": 0.3, "max_regression": 0.0},
    {"metric": "accuracy", "direction": "higher", "max_regression": 0.02},
]


def promotion(
    approval: str,
    model_name: str = MODEL_NAME,
    review: str = "mlflow",
    review_kwargs: dict[str, Any] | None = None,
    **promote_kwargs: Any,
) -> None:
    """export -> ... -> robustness -> promote (-> review when manual) -> deploy, inside the current DAG.

    ``review="airflow"``: a person approves in Airflow's Required Actions (``ModelReviewOperator``:
    Airflow authenticates them, the one who triggered the run may not approve it, deploy counts only
    authenticated approvers); ``"mlflow"``: a reviewer sets the ``robust.approval`` tag in the MLflow UI.
    """
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
        approval=approval,
        on_failure="skip",  # a rejected challenger is a normal outcome: skip the deployment
        **promote_kwargs,
    )
    deploy = DeployModelOperator(
        task_id="deploy",
        model_name=model_name,
        version=trained["version"],
        sample_data=evaluation,
        require_verified_approver=review == "airflow",
        rollback_dag_id="robust_rollback",  # named on the version page and the registered model in MLflow
    )
    if approval == "manual" and review == "airflow":
        person = ModelReviewOperator(
            task_id="review", model_name=model_name, version=trained["version"], **(review_kwargs or {})
        )
        robustness >> promote >> person >> deploy
    elif approval == "manual":
        sensor = ModelApprovalSensor(
            task_id="approval", model_name=model_name, version=trained["version"], poke_interval=5
        )
        robustness >> promote >> sensor >> deploy
    else:
        robustness >> promote >> deploy


DAG_ARGS: dict[str, Any] = {
    "schedule": None,
    "catchup": False,
    "params": {"corrupt": Param(False, type="boolean", description="inject bad rows and a renamed column")},
    "default_args": {"retries": 2, "retry_delay": timedelta(seconds=10)},
}
