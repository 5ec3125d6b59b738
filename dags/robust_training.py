"""Example: train a weather classifier on Seattle's daily weather, tracked in MLflow.

``export_dataset`` writes the seattle-weather dataset (shipped inside the ``vega-datasets``
PyPI package: 1,461 real days, 2012-2015) to storage and logs its own MLflow child run with
``mlflow_stage_run``; ``train`` fits a random forest, logs metrics, the model and a reference
profile, and registers a version of ``seattle_weather``.

Storage defaults to ``$AIRFLOW_HOME/data``; set ``AIRFLOW_ROBUST_DATA_URI`` (e.g.
``s3://bucket/airflow-robust``) for workers that share no disk.
"""

from __future__ import annotations

import os
from datetime import timedelta

from airflow.sdk import dag, task

from airflow_robust.operators.train import TrainModelOperator

MODEL_NAME = os.environ.get("AIRFLOW_ROBUST_EXAMPLE_MODEL", "seattle_weather")
FEATURES = ["month", "precipitation", "temp_max", "temp_min", "wind"]


def data_root() -> str:
    home = os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow"))
    return os.environ.get("AIRFLOW_ROBUST_DATA_URI", f"file://{os.path.abspath(home)}/data")


@dag(
    schedule=None,
    catchup=False,
    tags=["airflow-robust", "example"],
    doc_md=__doc__,
    default_args={"retries": 2, "retry_delay": timedelta(seconds=10)},
)
def robust_training() -> None:
    @task
    def export_dataset(**context: object) -> str:
        """Write seattle-weather (with a month column) as CSV; return its URI."""
        import mlflow
        from airflow.sdk import ObjectStoragePath
        from vega_datasets import data as vega

        from airflow_robust import mlflow_stage_run

        frame = vega.seattle_weather()
        frame["month"] = frame["date"].dt.month
        target = ObjectStoragePath(f"{data_root()}/seattle_weather.csv")
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w") as handle:
            frame.to_csv(handle, index=False)
        with mlflow_stage_run(context, stage="export"):
            mlflow.log_metrics({"rows": len(frame), "columns": frame.shape[1]})
            mlflow.set_tag("robust.data.uri", str(target))
        return str(target)

    dataset = export_dataset()
    TrainModelOperator(
        task_id="train",
        estimator="sklearn.ensemble:RandomForestClassifier",
        params={"n_estimators": 200, "max_depth": 8, "class_weight": "balanced"},
        data=dataset,
        target="weather",
        features=FEATURES,
        registered_model_name=MODEL_NAME,
    )


robust_training()
