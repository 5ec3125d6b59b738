"""The promotion example DAGs for real: dag.test(), a deferred approval sensor, a reviewer using MlflowClient."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from airflow_robust.registry.aliases import resolve
from airflow_robust.registry.history import read_history
from tests.system.test_example_dags import client_for, load_dag

pytestmark = pytest.mark.system
MODEL = "seattle_weather"


def reviewer(home: Path, stop: threading.Event, seen: dict[str, Any]) -> None:
    """Wait for a pending version, check what the reviewer would see, approve it as the UI would."""
    client = client_for(home)
    while not stop.is_set():
        try:
            pending = client.search_model_versions(f"name = '{MODEL}' and tags.`robust.approval` = 'pending'")
        except Exception:
            pending = []
        if pending:
            version = pending[0]
            seen["version"] = str(version.version)
            seen["description"] = version.description
            seen["challenger"] = resolve(client, MODEL, "challenger")
            client.set_model_version_tag(MODEL, version.version, "robust.approval.by", "reviewer@example.com")
            client.set_model_version_tag(MODEL, version.version, "robust.approval", "approved")
            return
        time.sleep(1)


def test_manual_review_then_auto_promotion(airflow_db: Path) -> None:
    client = client_for(airflow_db)
    stop, seen = threading.Event(), {}
    thread = threading.Thread(target=reviewer, args=(airflow_db, stop, seen), daemon=True)
    thread.start()
    logical_date = datetime(2026, 2, 1, tzinfo=timezone.utc)
    try:
        dag_run = load_dag("robust_promotion").test(logical_date=logical_date, run_after=logical_date)
    finally:
        stop.set()
        thread.join(timeout=10)
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert states == dict.fromkeys(
        ["export_dataset", "validate", "train", "robustness", "promote", "approval", "deploy"], "success"
    ), states
    version = seen["version"]
    assert seen["challenger"] == version
    assert "airflow-robust promotion: pending approval" in seen["description"]
    assert "| validation | PASS |" in seen["description"] and "| robustness | PASS |" in seen["description"]
    record = client.get_model_version(MODEL, version)
    assert record.tags["robust.approval"] == "approved" and record.tags["robust.approval.decided_at"]
    assert record.tags["robust.promotion.status"] == "passed" and record.tags["robust.robustness.status"] == "passed"
    assert record.tags["robust.validation.status"] == "passed"
    assert record.tags["robust.promotion.run"].startswith("http")
    assert resolve(client, MODEL, "champion") == version and resolve(client, MODEL, "challenger") is None
    promote = dag_run.get_task_instance("promote").xcom_pull(task_ids="promote")
    assert promote["decision"] == "pending_approval" and promote["rubber_stamp"] is True
    decision_run = client.get_run(promote["run_id"])
    assert decision_run.data.tags["robust.promotion.status"] == "passed"
    assert "decision.json" in {a.path for a in client.list_artifacts(promote["run_id"])}
    history = read_history(client, MODEL, "champion")
    assert [(h["from"], h["to"], h["who"]) for h in history] == [("", version, "reviewer@example.com (unverified)")]

    # the same loop without a person: the next version is judged against the champion and deployed
    later = datetime(2026, 2, 2, tzinfo=timezone.utc)
    auto_run = load_dag("robust_promotion_auto").test(logical_date=later, run_after=later)
    assert {ti.task_id: ti.state for ti in auto_run.get_task_instances()}["deploy"] == "success"
    auto = auto_run.get_task_instance("promote").xcom_pull(task_ids="promote")
    assert auto["decision"] == "promoted" and auto["champion_version"] == version and auto["rubber_stamp"] is False
    new = auto_run.get_task_instance("train").xcom_pull(task_ids="train")["version"]
    assert resolve(client, MODEL, "champion") == new and resolve(client, MODEL, "previous_champion") == version
    history = read_history(client, MODEL, "champion")
    assert [(h["from"], h["to"]) for h in history] == [("", version), (version, new)]
    # MLflow says where the undo is: the version page and the registered model name the rollback DAG
    assert "to undo, trigger the Airflow DAG robust_rollback" in client.get_model_version(MODEL, new).description
    assert client.get_registered_model(MODEL).tags["robust.rollback.champion.dag"] == "robust_rollback"

    # undo the automatic deployment with the rollback example: @champion goes back, the history says why
    undo = load_dag("robust_rollback").test(
        logical_date=datetime(2026, 2, 3, tzinfo=timezone.utc), run_conf={"reason": "latency regression in prod"}
    )
    assert undo.get_task_instance("rollback").state == "success"
    assert resolve(client, MODEL, "champion") == version
    assert client.get_model_version(MODEL, new).tags["robust.deploy.status"] == "rolled_back"
    last = read_history(client, MODEL, "champion")[-1]
    assert (last["from"], last["to"], last["action"], last["why"]) == (
        new,
        version,
        "rollback",
        "latency regression in prod",
    )
    assert last["who"] == "dag_test"  # the DAG run's triggering user (dag.test() names itself), not a DAG path
    again = load_dag("robust_rollback").test(logical_date=datetime(2026, 2, 4, tzinfo=timezone.utc))
    assert again.get_task_instance("rollback").xcom_pull(task_ids="rollback")["action"] == "noop"
    assert resolve(client, MODEL, "champion") == version and len(read_history(client, MODEL, "champion")) == 3


def _retrain_events() -> list[Any]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.uri == f"x-airflow-robust://retrain/{MODEL}")
        ).scalars()
        return [dict(event.extra or {}) for event in rows]


def test_monitoring_emits_the_retrain_event_only_for_a_drifted_batch(airflow_db: Path) -> None:
    client = client_for(airflow_db)
    if resolve(client, MODEL, "champion") is None:  # when run on its own
        day = datetime(2026, 3, 1, tzinfo=timezone.utc)
        load_dag("robust_promotion_auto").test(logical_date=day, run_after=day)
    champion = resolve(client, MODEL, "champion")
    assert champion is not None
    before = len(_retrain_events())
    calm_day = datetime(2026, 3, 2, tzinfo=timezone.utc)
    calm = load_dag("robust_monitoring").test(logical_date=calm_day, run_after=calm_day)
    assert {ti.task_id: ti.state for ti in calm.get_task_instances()} == dict.fromkeys(
        ["export_batch", "score", "monitor"], "success"
    )
    summary = calm.get_task_instance("monitor").xcom_pull(task_ids="monitor")
    assert summary["drift"] is False and summary["dataset_drift"] is False, summary["reason"]
    assert summary["drifted_columns"] == [], summary  # a normal batch raises no alarm on any column
    scored = calm.get_task_instance("score").xcom_pull(task_ids="score")
    assert scored["model_uri"] == f"models:/{MODEL}/{champion}"
    assert len(_retrain_events()) == before  # no drift, no retraining

    drift_day = datetime(2026, 3, 3, tzinfo=timezone.utc)
    drifted = load_dag("robust_monitoring").test(logical_date=drift_day, run_after=drift_day, run_conf={"drift": True})
    assert drifted.get_task_instance("monitor").state == "success"  # on_drift="trigger" continues
    summary = drifted.get_task_instance("monitor").xcom_pull(task_ids="monitor")
    assert summary["drift"] is True and summary["dataset_drift"] is True
    assert {"temp_max", "temp_min", "wind", "precipitation"} <= set(summary["drifted_columns"])
    events = _retrain_events()
    assert len(events) == before + 1
    assert set(events[-1]["drifted_columns"]) == set(summary["drifted_columns"])
    assert client.get_model_version(MODEL, champion).tags["robust.monitor.status"] == "drift"
