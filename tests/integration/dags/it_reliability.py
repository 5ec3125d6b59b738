"""Integration DAGs for the reliability suite: the whole gated loop, with retries and backoff.

``it_kill`` and ``it_outage`` are the loop of ``robust_promotion_auto`` (export -> validate ->
train -> robustness -> promote (auto) -> deploy) on seattle-weather, each with a registered model
of its own, and with the retry settings a production DAG would use against a tracking server that
can go away: several retries, exponential backoff, capped delay. The tests kill task processes
(``test_reliability.py``) or stop the MLflow server in the middle of a run.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag
from robust_example_tasks import promotion

RETRYING = {
    "retries": 8,
    "retry_delay": timedelta(seconds=3),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(seconds=20),
}


@dag(schedule=None, catchup=False, default_args=RETRYING, params={"corrupt": False}, tags=["integration"])
def it_kill() -> None:
    promotion("auto", model_name="it_kill", bootstrap_resamples=2000)


@dag(schedule=None, catchup=False, default_args=RETRYING, params={"corrupt": False}, tags=["integration"])
def it_outage() -> None:
    promotion("auto", model_name="it_outage", bootstrap_resamples=2000)


it_kill()
it_outage()
