"""Example: validate, train and stress-test a weather classifier on Seattle's daily weather.

``export_dataset`` writes the seattle-weather dataset (shipped inside the ``vega-datasets``
PyPI package: 1,461 real days, 2012-2015) to storage and logs its own MLflow child run with
``mlflow_stage_run``. ``validate`` is the Great Expectations gate (``suites/seattle_weather.json``):
failing rows go to a quarantine file, passing rows to a clean file, and a critical failure stops
the run before training. ``train`` fits a random forest on the clean rows, logs metrics, the
model and a reference profile, and registers a version of ``seattle_weather``. ``robustness``
stress-tests that version on a held-out quarter of the days (noise, missing values, unit shift,
outliers, class-prior shift, slices, calibration) and tags the version with the result; a
promotion step would follow it. Weather classes overlap (drizzle vs rain vs fog), so individual
predictions flip easily under noise: this example gates on degradation (AUDC), the worst slice,
calibration and the gain over a dummy model rather than on the flip rate.

Trigger with ``{"corrupt": true}`` to see the gate close: the export then injects nulls,
impossible values and a renamed column. Storage defaults to ``$AIRFLOW_HOME/data``; set
``AIRFLOW_ROBUST_DATA_URI`` (e.g. ``s3://bucket/airflow-robust``) for workers that share no disk.
"""

from __future__ import annotations

from airflow.sdk import dag
from robust_example_tasks import CORRUPTED_ROWS, DAG_ARGS, FEATURES, MODEL_NAME, training_tasks, weather_frames

__all__ = ["CORRUPTED_ROWS", "FEATURES", "MODEL_NAME", "weather_frames"]


@dag(tags=["airflow-robust", "example"], doc_md=__doc__, **DAG_ARGS)
def robust_training() -> None:
    training_tasks()


robust_training()
