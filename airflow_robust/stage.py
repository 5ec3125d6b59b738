"""Let a user's own ``@task`` log into the DAG run's MLflow parent run.

.. code-block:: python

    from airflow.sdk import task
    from airflow_robust import mlflow_stage_run

    @task
    def my_step(**context):
        with mlflow_stage_run(context) as run:   # child run of this DAG run's parent run
            import mlflow
            mlflow.log_metric("rows", 123)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from airflow_robust.links import XCOM_RUN_URL
from airflow_robust.operators._edge import identity_from_context

if TYPE_CHECKING:
    from airflow_robust.tracking.runs import StageRun


@contextmanager
def mlflow_stage_run(
    context: Any, stage: str = "custom", mlflow_conn_id: str = "mlflow_default", experiment_name: str | None = None
) -> Iterator[StageRun]:
    """Open this task try's child run (active in ``mlflow``'s fluent API) and close it on exit.

    :param context: the task's Airflow context (``**context`` of a ``@task``, or ``get_current_context()``).
    :param stage: value of the ``airflow_robust.stage`` tag; default ``"custom"``.
    :param mlflow_conn_id: connection to MLflow; default ``mlflow_default`` (embedded default if absent).
    :param experiment_name: default ``airflow/<dag_id>``, the same experiment as the operators'.
    """
    from airflow_robust.hooks.mlflow import MlflowHook
    from airflow_robust.tracking.runs import stage_run

    hook = MlflowHook(mlflow_conn_id)
    with hook.applied() as config:
        identity = identity_from_context(context, experiment_name)
        with stage_run(hook.get_client(), identity, stage, config.artifact_root) as run:
            context["ti"].xcom_push(key=XCOM_RUN_URL, value=config.run_url(run.experiment_id, run.run_id))
            yield run
