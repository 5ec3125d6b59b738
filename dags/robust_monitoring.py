"""Example: score each day's batch with ``@champion``, watch it for drift, and retrain on drift.

``export_batch`` writes the batch to monitor: the held-out quarter of Seattle's weather days (the
same distribution the model was trained on), or, when triggered with ``{"drift": true}``, the same
days as a drifted sensor would report them (temperatures 4 °C warmer, wind 60% stronger, rain
read in tenths of a millimetre). ``score`` (BatchPredictOperator) resolves ``@champion`` once and
writes predictions with probabilities and the model version. ``monitor`` (MonitorDriftOperator)
compares the scored batch with the reference profile stored by the champion's training run: per
column tests, prediction drift, target drift and measured performance. On drift it emits an event
on ``Asset("x-airflow-robust://retrain/seattle_weather")``; ``robust_promotion`` is scheduled on
that Asset, so drift starts a retraining that goes through every gate and a person's review.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Param, dag, task
from robust_example_tasks import MODEL_NAME, data_root, weather_frames

from airflow_robust.operators.batch_predict import BatchPredictOperator
from airflow_robust.operators.monitor import MonitorDriftOperator


@dag(
    schedule="@daily",
    catchup=False,
    tags=["airflow-robust", "example"],
    doc_md=__doc__,
    params={"drift": Param(False, type="boolean", description="report the batch as a drifted sensor would")},
    default_args={"retries": 2, "retry_delay": timedelta(seconds=10)},
)
def robust_monitoring() -> None:
    @task
    def export_batch(**context: object) -> str:
        import re

        from airflow.sdk import ObjectStoragePath

        _, batch = weather_frames()
        if context["params"]["drift"]:  # type: ignore[index]
            batch["temp_max"] += 4.0
            batch["temp_min"] += 4.0
            batch["wind"] *= 1.6
            batch["precipitation"] *= 10.0
        run_dir = re.sub(r"[^\w.-]+", "_", str(context["run_id"]))
        target = ObjectStoragePath(f"{data_root()}/monitoring/{run_dir}/batch.parquet")
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as handle:
            batch.to_parquet(handle, index=False)
        return str(target)

    batch = export_batch()
    predictions = "{{ ti.xcom_pull(task_ids='export_batch').replace('batch.parquet', 'predictions.parquet') }}"
    score = BatchPredictOperator(
        task_id="score",
        model_uri=f"models:/{MODEL_NAME}@champion",
        data=batch,
        output_uri=predictions,
    )
    monitor = MonitorDriftOperator(
        task_id="monitor",
        reference=f"models:/{MODEL_NAME}@champion",
        current=predictions,  # features, labels and the champion's predictions, in one file
        score_model=False,
        on_drift="trigger",
        drift_signals=["dataset", "performance"],  # prediction and target drift are reported too
        # A batch of a few hundred rows: PSI on the reference's quantile bins (alarm at 0.2). Evidently's
        # default above 1,000 reference rows (Wasserstein >= 0.1 std) is within sampling noise at this size:
        # a random quarter of the same years scores 0.15 on `month`.
        method="psi",
    )
    batch >> score >> monitor


robust_monitoring()
