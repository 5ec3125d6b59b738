"""The Airflow edge: turn our exceptions into task outcomes and a task context into an identity.

Non-retryable errors (configuration, data, gate failures) are re-raised as a class that is
both the original class and ``AirflowFailException``: the task fails after one try, and
``except DataValidationFailed`` still works for users. Infrastructure errors pass through
unchanged so Airflow's retries apply.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from airflow_robust.exceptions import AirflowRobustError
from airflow_robust.tracking.identity import StageIdentity

_FAIL_CLASSES: dict[type[AirflowRobustError], type[AirflowRobustError]] = {}


def fail_class(cls: type[AirflowRobustError]) -> type[AirflowRobustError]:
    """``cls`` mixed with ``AirflowFailException`` (cached; same name and module as ``cls``)."""
    if issubclass(cls, AirflowFailException):
        return cls
    if cls not in _FAIL_CLASSES:
        namespace = {"__module__": cls.__module__, "__qualname__": cls.__qualname__}
        _FAIL_CLASSES[cls] = type(cls.__name__, (cls, AirflowFailException), namespace)
    return _FAIL_CLASSES[cls]


def for_airflow(err: AirflowRobustError) -> BaseException:
    """The exception to raise from ``execute()`` for ``err``."""
    if err.retryable:
        return err
    cls = fail_class(type(err))
    converted: AirflowRobustError = cls.__new__(cls)
    converted.__dict__.update(err.__dict__)
    converted.args = err.args
    return converted


def identity_from_context(context: Any, experiment_name: str | None = None) -> StageIdentity:
    """The stage identity of the running task try."""
    ti = context["ti"]
    map_index = getattr(ti, "map_index", -1)
    try:
        task_url: str | None = ti.log_url
    except Exception:  # noqa: BLE001 - a missing [api] base_url must not break tracking
        task_url = None
    return StageIdentity(
        dag_id=ti.dag_id,
        run_id=ti.run_id,
        task_id=ti.task_id,
        try_number=int(getattr(ti, "try_number", 1) or 1),
        map_index=-1 if map_index is None else int(map_index),
        task_url=task_url,
        experiment_name=experiment_name,
        triggering_user=triggered_by(context),
        ui_base_url=ui_base_url(),
    )


def triggered_by(context: Any) -> str | None:
    """The Airflow user who triggered this DAG run (authenticated by Airflow), or ``None``."""
    dag_run = context.get("dag_run") if hasattr(context, "get") else None
    user = getattr(dag_run, "triggering_user_name", None)
    return str(user) if user else None


def ui_base_url() -> str | None:
    """Airflow's ``[api] base_url``, or ``None`` when it is not configured."""
    try:
        from airflow.sdk.configuration import conf

        base = conf.get("api", "base_url", fallback=None)
    except Exception:  # noqa: BLE001 - no Airflow configuration: texts without links
        return None
    return str(base) if base else None
