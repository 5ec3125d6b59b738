"""The closed loop on the production topology: drift -> retrain -> gates -> review -> alias move.

``robust_monitoring`` scores a drifted batch with ``@champion`` and emits an event on the retrain
Asset; the real scheduler then starts ``robust_promotion`` (scheduled on that Asset), which
retrains, passes the gates and waits for a reviewer; the reviewer's tag (set through MLflow's REST
API, as the UI does) releases the deferred sensor in the triggerer, and ``deploy`` moves
``@champion``.
"""

from __future__ import annotations

import time

import pytest

from tests.integration.stack import Stack, wait_for

pytestmark = pytest.mark.integration
MODEL = "seattle_weather"


def champion(stack: Stack) -> str | None:
    try:
        return str(
            stack.mlflow("GET", "/registered-models/alias", params={"name": MODEL, "alias": "champion"})[
                "model_version"
            ]["version"]
        )
    except AssertionError:
        return None


def test_drifted_batch_retrains_and_a_reviewed_version_becomes_champion(stack: Stack) -> None:
    if champion(stack) is None:  # when run on its own
        stack.wait_for_dag("robust_promotion_auto")
        first = stack.trigger("robust_promotion_auto")
        assert stack.wait_run("robust_promotion_auto", first)["state"] == "success"
    before = champion(stack)
    for dag_id in ("robust_promotion", "robust_monitoring"):
        stack.wait_for_dag(dag_id)
    existing = {r["dag_run_id"] for r in stack.api("GET", "/dags/robust_promotion/dagRuns")["dag_runs"]}

    monitoring = stack.trigger("robust_monitoring", {"drift": True})
    assert stack.wait_run("robust_monitoring", monitoring)["state"] == "success"
    summary = stack.xcom("robust_monitoring", monitoring, "monitor")
    assert summary["drift"] is True and summary["dataset_drift"] is True

    def retraining() -> list[dict]:
        runs = stack.api("GET", "/dags/robust_promotion/dagRuns")["dag_runs"]
        return [r for r in runs if r["dag_run_id"] not in existing]

    wait_for(lambda: bool(retraining()), 180, "the scheduler to start robust_promotion on the retrain Asset")
    run = retraining()[0]
    assert run["run_type"] == "asset_triggered"

    def pending() -> bool:
        return stack.task_states("robust_promotion", run["dag_run_id"]).get("approval") == "deferred"

    wait_for(pending, 900, "the retrained version to wait for review", logs=stack)
    version = stack.xcom("robust_promotion", run["dag_run_id"], "train")["version"]
    assert version != before
    stack.mlflow(
        "POST",
        "/model-versions/set-tag",
        json={"name": MODEL, "version": version, "key": "robust.approval", "value": "approved"},
    )
    final = stack.wait_run("robust_promotion", run["dag_run_id"], timeout=600)
    assert final["state"] == "success", stack.task_states("robust_promotion", run["dag_run_id"])
    assert champion(stack) == version
    started = time.time()
    history = stack.mlflow(
        "POST",
        "/runs/search",
        json={
            "experiment_ids": [
                stack.mlflow(
                    "GET", "/experiments/get-by-name", params={"experiment_name": "airflow-robust/alias-history"}
                )["experiment"]["experiment_id"]
            ],
            "filter": f"tags.`robust.history.model` = '{MODEL}' and tags.`robust.history.to` = '{version}'",
        },
    )["runs"]
    assert len(history) == 1 and time.time() - started < 60
