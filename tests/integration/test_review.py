"""Approvals that name a real person: Airflow's human-in-the-loop review on the production topology.

The DAG run is triggered by ``admin``; the review task waits under *Required Actions*
(``awaiting_input``, no worker slot). Responses go through Airflow's REST API as authenticated
users, exactly as the UI sends them. The approver Airflow records (``responded_by_user``) must
appear in the task's XCom, on the MLflow version and in the alias history; the triggering user
may not approve (separation of duties); no answer in time rejects.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.stack import ADMIN_USER, REVIEWER_USER, Stack, wait_for

pytestmark = pytest.mark.integration


def _tags(entity: dict[str, Any]) -> dict[str, str]:
    return {t["key"]: t["value"] for t in entity.get("tags", [])}


def _version(stack: Stack, model: str, version: str) -> dict[str, Any]:
    record: dict[str, Any] = stack.mlflow("GET", "/model-versions/get", params={"name": model, "version": version})
    return record["model_version"]


def _alias(stack: Stack, model: str, alias: str) -> str | None:
    try:
        found = stack.mlflow("GET", "/registered-models/alias", params={"name": model, "alias": alias})
    except AssertionError:
        return None
    return str(found["model_version"]["version"])


def _history(stack: Stack, model: str, alias: str) -> list[dict[str, str]]:
    experiment = stack.mlflow(
        "GET", "/experiments/get-by-name", params={"experiment_name": "airflow-robust/alias-history"}
    )["experiment"]
    runs = stack.mlflow(
        "POST",
        "/runs/search",
        json={
            "experiment_ids": [experiment["experiment_id"]],
            "filter": f"tags.`robust.history.model` = '{model}' and tags.`robust.history.alias` = '{alias}'",
            "max_results": 100,
        },
    ).get("runs", [])
    entries = [
        {k.removeprefix("robust.history."): v for k, v in _tags(run["data"]).items() if k.startswith("robust.history.")}
        for run in runs
    ]
    return sorted(entries, key=lambda e: int(e["seq"]))


def _awaiting(stack: Stack, dag_id: str, run_id: str, task_id: str = "review") -> None:
    def parked() -> bool:
        state = stack.task_states(dag_id, run_id).get(task_id)
        if state in ("failed", "upstream_failed", "skipped"):
            raise AssertionError(f"{task_id} ended {state} before a review: {stack.task_states(dag_id, run_id)}")
        return state == "awaiting_input"

    wait_for(parked, 900, f"{dag_id}/{run_id}: {task_id} awaiting input", stack.processes.get("scheduler"), logs=stack)


def test_an_airflow_user_approves_and_is_named_everywhere(stack: Stack) -> None:
    dag_id, model = "it_review", "it_review"
    stack.wait_for_dag(dag_id)

    # 1. the user who triggered the run approves their own model: refused, nothing approved
    own = stack.trigger(dag_id)
    _awaiting(stack, dag_id, own)
    version = str(stack.xcom(dag_id, own, "train")["version"])
    detail = stack.api("GET", f"/dags/{dag_id}/dagRuns/{own}/taskInstances/review/-1/hitlDetails")
    assert detail["subject"] == f"Approve {model} version {version} for @champion?"
    assert "| robustness | PASS |" in detail["body"] and f"**{ADMIN_USER}** triggered this DAG run" in detail["body"]
    assert stack.respond(dag_id, own, "review", "Approve", ADMIN_USER).status_code == 200
    finished = stack.wait_run(dag_id, own)
    states = stack.task_states(dag_id, own)
    assert finished["state"] == "failed" and states["review"] == "failed" and states["deploy"] == "upstream_failed"
    assert "separation of duties" in stack.task_log(dag_id, own, "review", 1)
    tags = _tags(_version(stack, model, version))
    assert tags["robust.approval"] == "pending" and not any(k.startswith("robust.approval.run.") for k in tags)
    assert _alias(stack, model, "champion") is None

    # 2. another person approves: Airflow names them, deploy counts them, the history records them
    run_id = stack.trigger(dag_id)
    _awaiting(stack, dag_id, run_id)
    version = str(stack.xcom(dag_id, run_id, "train")["version"])
    # the notifier was told, with the Required Actions page of this very task as the deep link
    sent = [json.loads(line) for line in (stack.root / "data" / "notifications.jsonl").read_text().splitlines()]
    told = [n for n in sent if n["review"]["version"] == version]
    assert len(told) == 1, sent
    link = f"{stack.api_url}/dags/{dag_id}/runs/{run_id}/tasks/review/required_actions"
    assert told[0]["review"]["airflow_url"].startswith(link), told
    assert told[0]["message"].startswith(f"Review {model} v{version}: {link}")
    assert told[0]["review"]["mlflow_url"].endswith(f"/#/models/{model}/versions/{version}")
    # the waiting task's Extra Links lead to the version under review and the signed decision's run
    links = stack.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/review/links")["extra_links"]
    assert links["MLflow model version"] == told[0]["review"]["mlflow_url"], links
    assert links["MLflow run"] == told[0]["review"]["run_url"] and "/runs/" in links["MLflow run"], links
    response = stack.respond(dag_id, run_id, "review", "Approve", REVIEWER_USER)
    assert response.status_code == 200, response.text
    assert response.json()["responded_by"] == {"id": REVIEWER_USER, "name": REVIEWER_USER}
    assert stack.wait_run(dag_id, run_id)["state"] == "success", stack.task_states(dag_id, run_id)
    review = stack.xcom(dag_id, run_id, "review")
    assert review["status"] == "approved" and review["by"] == REVIEWER_USER and review["verified"] is True
    assert review["responded_by_user"]["name"] == REVIEWER_USER and review["source"] == "airflow-hitl"
    record = _version(stack, model, version)
    tags = _tags(record)
    assert tags["robust.approval"] == "approved" and tags["robust.approval.by"] == REVIEWER_USER
    assert tags["robust.approval.verified"] == "true" and tags["robust.approval.source"] == "airflow-hitl"
    assert record["description"].startswith("<!-- airflow-robust status -->\n**Status: deployed to \\@champion")
    assert f"approved by {REVIEWER_USER}" in record["description"] and "To review" not in record["description"]
    assert _alias(stack, model, "champion") == version and _alias(stack, model, "challenger") is None
    deployed = stack.xcom(dag_id, run_id, "deploy")
    assert deployed["approved_by"][0]["by"] == REVIEWER_USER and deployed["approved_by"][0]["verified"] is True
    last = _history(stack, model, "champion")[-1]
    assert last["to"] == version and last["who"] == REVIEWER_USER and last["action"] == "deploy"


def test_no_answer_in_time_rejects_and_the_run_stays_green(stack: Stack) -> None:
    dag_id, model = "it_review_timeout", "it_review_timeout"
    stack.wait_for_dag(dag_id)
    run_id = stack.trigger(dag_id)
    finished = stack.wait_run(dag_id, run_id)
    states = stack.task_states(dag_id, run_id)
    assert finished["state"] == "success", states
    assert states["review"] == "success" and states["deploy"] == "skipped"
    version = str(stack.xcom(dag_id, run_id, "train")["version"])
    review = stack.xcom(dag_id, run_id, "review")
    assert review["status"] == "rejected" and review["by"] == "timeout" and review["responded_by_user"] is None
    tags = _tags(_version(stack, model, version))
    assert tags["robust.approval"] == "rejected" and tags["robust.approval.source"] == "timeout"
    assert _alias(stack, model, "champion") is None and _alias(stack, model, "challenger") is None
    rejected = _history(stack, model, "challenger")[-1]
    assert (rejected["from"], rejected["to"], rejected["action"]) == (version, "", "reject")
