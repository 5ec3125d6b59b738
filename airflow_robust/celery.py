"""Celery workers that start gate tasks warm.

On a Celery worker every Airflow task is a fork of the worker's pool process. Airflow preloads its
own modules there (numpy, its operators); the gates also import MLflow, pandas, SciPy,
scikit-learn and Great Expectations, seconds of every task's start (``bench/task_start.py``
measures it). Point Airflow's Celery configuration at this module and the worker imports them
once, before it forks, so each task finds them loaded::

    AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS=airflow_robust.celery.CELERY_CONFIG

``CELERY_CONFIG`` is Airflow's own Celery configuration, unchanged. Importing this module costs
nothing (the scheduler and the API server read the Celery configuration too): the preload runs on
Celery's ``import_modules`` signal, which only a worker sends, the hook Airflow uses for its own
preload. A module that is not installed is left out; nothing here starts a thread, so forking
stays safe.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG
from celery.signals import import_modules

__all__ = ["CELERY_CONFIG", "PRELOAD", "preload"]

log = logging.getLogger(__name__)

#: Airflow's Celery configuration: this module only adds the preload
CELERY_CONFIG: dict[str, Any] = DEFAULT_CELERY_CONFIG

#: what the gates import when they run, heaviest first
PRELOAD = (
    "great_expectations",
    "mlflow",
    "mlflow.pyfunc",
    "mlflow.sklearn",
    "scipy.stats",
    "pandas",
    "pyarrow",
    "sklearn.ensemble",
    "sklearn.linear_model",
    "sklearn.metrics",
    "sklearn.model_selection",
)


@import_modules.connect  # type: ignore[untyped-decorator,unused-ignore]
def preload(*_args: Any, **_kwargs: Any) -> list[str]:
    """Import :data:`PRELOAD` in the worker's main process; returns what was loaded."""
    loaded = []
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError as err:
            log.info("airflow-robust: not preloading %s (%s)", name, err)
            continue
        loaded.append(name)
    log.info("airflow-robust: preloaded %s for task processes", ", ".join(loaded))
    return loaded
