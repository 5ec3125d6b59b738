"""Approvals on a real MLflow store: quorum, verified approvers, rejection, mistyped values, leases of ended runs."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowRescheduleException
from mlflow import MlflowClient

from airflow_robust.exceptions import ApprovalRejected, DeploymentRefused
from airflow_robust.operators.deploy import DeployModelOperator
from airflow_robust.operators.promote import PromoteModelOperator
from airflow_robust.operators.train import TrainModelOperator
from airflow_robust.registry.aliases import resolve
from airflow_robust.registry.history import read_history
from airflow_robust.registry.lease import holder_of
from airflow_robust.sensors.approval import ModelApprovalSensor
from airflow_robust.triggers.approval import ApprovalTrigger
from tests.helpers import TaskInstanceStandIn, cancer_split, context_for, execute

RULES = [{"metric": "f1_macro", "direction": "higher", "min": 0.6}]
MODEL = "cancer"


@pytest.fixture
def cancer(tmp_path: Path) -> dict[str, str]:
    return cancer_split(tmp_path)


def ok(result: tuple[dict[str, Any] | None, Exception | None]) -> dict[str, Any]:
    value, err = result
    assert err is None, err
    assert value is not None
    return value


def pending_version(data: dict[str, str], run_id: str) -> str:
    trained = ok(
        execute(
            TrainModelOperator(
                task_id="train",
                estimator="tests.operators.test_robustness_operator:regularised",
                data=data["train"],
                target="target",
                registered_model_name=MODEL,
            ),
            run_id,
        )
    )
    version = str(trained["version"])
    decided = ok(
        execute(
            PromoteModelOperator(
                task_id="promote",
                model_name=MODEL,
                candidate_version=version,
                rules=RULES,
                evaluation_data=data["test"],
                target="target",
                approval="manual",
                required_gates=[],
            ),
            run_id,
        )
    )
    assert decided["decision"] == "pending_approval"
    return version


def tag_review(client: MlflowClient, version: str, value: str, by: str) -> None:
    client.set_model_version_tag(MODEL, version, "robust.approval", value)
    client.set_model_version_tag(MODEL, version, "robust.approval.by", by)


def sensor(version: str, run_id: str, task_id: str = "approval") -> tuple[dict[str, Any] | None, Exception | None]:
    return execute(ModelApprovalSensor(task_id=task_id, model_name=MODEL, version=version), run_id)


def deploy(version: str, run_id: str, **kw: Any) -> tuple[dict[str, Any] | None, Exception | None]:
    return execute(DeployModelOperator(task_id="deploy", model_name=MODEL, version=version, **kw), run_id)


def test_quorum_counts_distinct_people_and_verified_ones_when_asked(
    mlflow_store: dict[str, str], cancer: dict[str, str]
) -> None:
    client = MlflowClient(tracking_uri=mlflow_store["tracking_uri"])
    version = pending_version(cancer, "q1")
    tag_review(client, version, "approved", "alice")
    ok(sensor(version, "q1", "approval_1"))
    ok(sensor(version, "q1", "approval_2"))  # the same person answering a second seat
    _, err = deploy(version, "q1", min_approvals=2)
    assert isinstance(err, DeploymentRefused) and "1 verified approval(s)" in str(err) and "2 required" in str(err)
    tag_review(client, version, "approved", "bob")
    ok(sensor(version, "q1", "approval_2"))
    _, err = deploy(version, "q1", min_approvals=2, require_verified_approver=True)
    assert isinstance(err, DeploymentRefused) and "not counted (identity unverified)" in str(err)
    assert resolve(client, MODEL, "champion") is None
    deployed = ok(deploy(version, "q1", min_approvals=2))
    assert sorted(a["by"] for a in deployed["approved_by"]) == ["alice", "bob"]
    assert read_history(client, MODEL, "champion")[-1]["who"] == "alice (unverified), bob (unverified)"


def test_a_rejection_is_signed_and_removes_the_challenger(mlflow_store: dict[str, str], cancer: dict[str, str]) -> None:
    client = MlflowClient(tracking_uri=mlflow_store["tracking_uri"])
    version = pending_version(cancer, "j1")
    assert resolve(client, MODEL, "challenger") == version
    tag_review(client, version, " Rejected", "carol")
    _, err = sensor(version, "j1")
    assert isinstance(err, ApprovalRejected) and "rejected by carol" in str(err)
    record = client.get_model_version(MODEL, version)
    assert record.tags["robust.approval"] == "rejected" and record.tags["robust.approval.verified"] == "false"
    assert resolve(client, MODEL, "challenger") is None
    entry = read_history(client, MODEL, "challenger")[-1]
    assert (entry["from"], entry["to"], entry["action"]) == (version, "", "reject")
    assert "**Status: rejected for \\@champion by carol (identity not verified)" in record.description
    assert "pending approval" not in record.description
    # approving afterwards does not clear it: a signed rejection of this decision stands
    tag_review(client, version, "approved", "dave")
    ok(sensor(version, "j1", "approval_again"))
    _, err = deploy(version, "j1")
    assert isinstance(err, DeploymentRefused) and "was rejected by carol" in str(err)
    assert resolve(client, MODEL, "champion") is None


def test_a_mistyped_value_is_reported_while_waiting(
    mlflow_store: dict[str, str],
    cancer: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    client = MlflowClient(tracking_uri=mlflow_store["tracking_uri"])
    version = pending_version(cancer, "m1")
    tag_review(client, version, "yes", "erin")
    trigger = ApprovalTrigger("mlflow_default", MODEL, version, "robust.approval", 0.2, time.time() + 60)

    def reviewer_fixes_it() -> None:
        time.sleep(1.5)
        client.set_model_version_tag(MODEL, version, "robust.approval", "APPROVED")

    fixer = threading.Thread(target=reviewer_fixes_it)
    fixer.start()

    async def first_event() -> Any:
        async for event in trigger.run():
            return event.payload
        return None

    with caplog.at_level(logging.WARNING):
        payload = asyncio.run(first_event())
    fixer.join()
    assert payload["status"] == "approved" and payload["raw"] == "APPROVED"
    logged = "\n".join([r.getMessage() for r in caplog.records] + [capfd.readouterr().out])
    warnings = [line for line in logged.splitlines() if "neither 'approved' nor 'rejected'" in line]
    assert len(warnings) == 1 and "robust.approval='yes'" in warnings[0], logged[-3000:]


def test_a_lease_held_by_an_ended_dag_run_is_released(
    mlflow_store: dict[str, str], cancer: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = MlflowClient(tracking_uri=mlflow_store["tracking_uri"])
    trained = ok(
        execute(
            TrainModelOperator(
                task_id="train",
                estimator="tests.operators.test_robustness_operator:regularised",
                data=cancer["train"],
                target="target",
                registered_model_name=MODEL,
            ),
            "l1",
        )
    )
    op = PromoteModelOperator(
        task_id="promote",
        model_name=MODEL,
        candidate_version=trained["version"],
        rules=RULES,
        evaluation_data=cancer["test"],
        target="target",
        approval="auto",
        required_gates=[],
    )
    assert ok(execute(op, "l1"))["decision"] == "promoted"  # keeps the lease for its deploy, which never runs
    assert holder_of(client, MODEL) is not None

    states = {"l1": "running"}
    monkeypatch.setattr(
        TaskInstanceStandIn,
        "get_dagrun_state",
        lambda self, dag_id, run_id: states[run_id],  # what the Task SDK answers
        raising=False,
    )
    with pytest.raises(AirflowRescheduleException):
        op.execute(context_for(TaskInstanceStandIn(task_id="promote", run_id="l2")))
    states["l1"] = "failed"  # the holder's DAG run ended without deploying
    result = op.execute(context_for(TaskInstanceStandIn(task_id="promote", run_id="l2")))
    assert result["decision"] == "promoted"
    holder = holder_of(client, MODEL)
    assert holder is not None and holder[0].endswith("/l2")
