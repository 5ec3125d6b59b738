"""Reliability on the production topology: killed task processes, a tracking-server outage, secrets.

Real processes throughout: the Celery worker's task processes are SIGKILLed from outside, the
``mlflow server`` process is stopped and started again, and every log, XCom and MLflow entity the
stack produced is scanned for the MLflow connection's credentials.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.integration.stack import Stack

pytestmark = [pytest.mark.integration, pytest.mark.slow]

STAGES = ["validate", "train", "robustness", "promote", "deploy"]
#: what each stage's finished MLflow run must hold (artifact names) after the faults
STAGE_ARTIFACTS = {
    "validate": {"validation_result.json", "decision.json"},
    "robustness": {"robustness.json", "decision.json"},
    "promote": {"decision.json"},
    "deploy": {"serving_check.json", "decision.json"},
}


def _tags(entity: dict[str, Any]) -> dict[str, str]:
    return {t["key"]: t["value"] for t in entity.get("tags", []) or entity.get("data", {}).get("tags", [])}


def _experiment_id(stack: Stack, name: str) -> str | None:
    try:
        found = stack.mlflow("GET", "/experiments/get-by-name", params={"experiment_name": name})
    except AssertionError:
        return None
    return str(found["experiment"]["experiment_id"])


def _runs(stack: Stack, experiment_id: str, filter_string: str = "") -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    token = None
    while True:
        body: dict[str, Any] = {"experiment_ids": [experiment_id], "filter": filter_string, "max_results": 1000}
        if token:
            body["page_token"] = token
        page = stack.mlflow("POST", "/runs/search", json=body)
        runs += page.get("runs", [])
        token = page.get("next_page_token")
        if not token:
            return runs


def _champion(stack: Stack, model: str) -> str | None:
    response = requests.get(
        f"{stack.mlflow_url}/api/2.0/mlflow/registered-models/alias",
        params={"name": model, "alias": "champion"},
        timeout=60,
    )
    if response.status_code in (400, 404) and (
        "RESOURCE_DOES_NOT_EXIST" in response.text or "not found" in response.text.lower()
    ):
        return None  # no such alias (or no such registered model yet)
    response.raise_for_status()
    return str(response.json()["model_version"]["version"])


def _versions(stack: Stack, model: str) -> list[dict[str, Any]]:
    found = stack.mlflow("GET", "/model-versions/search", params={"filter": f"name = '{model}'", "max_results": 200})
    return list(found.get("model_versions", []))


def _task_pid(ti_id: str) -> int | None:
    """The task process of a task instance (its title is ``airflow worker -- <ti id>``)."""
    wanted = f"airflow worker -- {ti_id}"
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if wanted in cmdline:
            return int(proc.name)
    return None


def _wait_until_mid_stage(stack: Stack, dag_id: str, run_id: str, task_id: str, timeout: float = 900) -> dict[str, Any]:
    """Wait until the first try of ``task_id`` runs and has opened its MLflow stage run."""
    experiment_name = f"airflow/{dag_id}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ti = stack.task_instance(dag_id, run_id, task_id)
        if ti["state"] in ("success", "failed", "upstream_failed", "skipped") or ti["try_number"] > 1:
            raise AssertionError(f"{task_id} reached {ti['state']} (try {ti['try_number']}) before it could be killed")
        if ti["state"] == "running":
            experiment_id = _experiment_id(stack, experiment_name)
            if experiment_id is not None:
                open_runs = _runs(
                    stack,
                    experiment_id,
                    f"tags.`airflow.run_id` = '{run_id}' and tags.`airflow.task_id` = '{task_id}' "
                    "and attributes.status = 'RUNNING'",
                )
                if open_runs:
                    return ti
        time.sleep(0.1)
    raise TimeoutError(f"{task_id} of {dag_id} never started\n{stack.logs()}")


def _artifact_names(stack: Stack, run_id: str) -> set[str]:
    listed = stack.mlflow("GET", "/artifacts/list", params={"run_id": run_id})
    return {Path(f["path"]).name for f in listed.get("files", [])}


def _history(stack: Stack, model: str) -> list[tuple[str, str]]:
    experiment_id = _experiment_id(stack, "airflow-robust/alias-history")
    if experiment_id is None:
        return []
    entries = sorted(
        (_tags(r["data"]) for r in _runs(stack, experiment_id, f"tags.`robust.history.model` = '{model}'")),
        key=lambda t: int(t["robust.history.seq"]),
    )
    return [(e["robust.history.from"], e["robust.history.to"]) for e in entries]


def _assert_run_is_whole(stack: Stack, dag_id: str, model: str, run_id: str) -> str:
    """One version, deployed, every stage's finished run complete, nothing left RUNNING."""
    versions = _versions(stack, model)
    assert len(versions) == 1, [(v["version"], _tags(v).get("airflow.run_id")) for v in versions]
    version = str(versions[0]["version"])
    tags = _tags(versions[0])
    assert tags["airflow.run_id"] == run_id
    assert tags["robust.validation.status"] == tags["robust.robustness.status"] == "passed", tags
    assert tags["robust.promotion.status"] == "passed" and tags["robust.deploy.status"] == "deployed", tags
    assert _champion(stack, model) == version
    assert _history(stack, model) == [("", version)]

    experiment_id = _experiment_id(stack, f"airflow/{dag_id}")
    assert experiment_id is not None
    assert _runs(stack, experiment_id, "attributes.status = 'RUNNING'") == []
    for stage, expected in STAGE_ARTIFACTS.items():
        finished = _runs(
            stack,
            experiment_id,
            f"tags.`airflow.run_id` = '{run_id}' and tags.`airflow.task_id` = '{stage}' "
            "and attributes.status = 'FINISHED'",
        )
        assert len(finished) == 1, (stage, [r["info"] for r in finished])
        names = _artifact_names(stack, finished[0]["info"]["run_id"])
        assert expected <= names, (stage, names)
    # the version's training run holds the metrics the train task returned, and the reference
    # profile (a retry that found the version registered reuses it instead of training again)
    trained = stack.xcom(dag_id, run_id, "train")
    source = stack.mlflow("GET", "/runs/get", params={"run_id": versions[0]["run_id"]})["run"]
    assert trained["training_run_id"] == versions[0]["run_id"]
    logged = {m["key"]: m["value"] for m in source["data"].get("metrics", [])}
    assert trained["metrics"] and all(logged[k] == pytest.approx(v) for k, v in trained["metrics"].items())
    assert "reference_profile.json" in _artifact_names(stack, versions[0]["run_id"])
    return version


def test_killed_task_processes_at_every_stage_retry_to_one_version(stack: Stack) -> None:
    """SIGKILL the task process in the middle of each stage's first try; Airflow retries each."""
    dag_id, model = "it_kill", "it_kill"
    stack.wait_for_dag(dag_id)
    run_id = stack.trigger(dag_id)
    killed: dict[str, int] = {}
    for stage in STAGES:
        ti = _wait_until_mid_stage(stack, dag_id, run_id, stage)
        pid = _task_pid(ti["id"])
        assert pid is not None, f"no task process for {stage} ({ti['id']})"
        os.kill(pid, signal.SIGKILL)
        killed[stage] = pid
        if stage != "deploy":
            assert _champion(stack, model) is None, f"@champion moved before deploy (killed {stage})"
    run = stack.wait_run(dag_id, run_id, timeout=1200)
    states = stack.task_states(dag_id, run_id)
    assert run["state"] == "success", (states, stack.logs())
    for stage in STAGES:
        ti = stack.task_instance(dag_id, run_id, stage)
        assert ti["state"] == "success" and ti["try_number"] == 2, (stage, ti["state"], ti["try_number"])
    _assert_run_is_whole(stack, dag_id, model, run_id)
    experiment_id = _experiment_id(stack, f"airflow/{dag_id}")
    assert experiment_id is not None
    for stage in STAGES:
        closed = _runs(
            stack,
            experiment_id,
            f"tags.`airflow.run_id` = '{run_id}' and tags.`airflow.task_id` = '{stage}' "
            "and attributes.status = 'KILLED'",
        )
        assert len(closed) == 1, (stage, len(closed))
        assert _tags(closed[0]["data"]).get("airflow_robust.superseded_by"), stage


OUTAGE_SECONDS = 40


def test_tracking_server_outage_mid_run_retries_and_loses_nothing(stack: Stack) -> None:
    """Stop ``mlflow server`` while ``train`` runs, start it again after 40 s; the run completes."""
    dag_id, model = "it_outage", "it_outage"
    stack.wait_for_dag(dag_id)
    run_id = stack.trigger(dag_id)
    _wait_until_mid_stage(stack, dag_id, run_id, "train")
    stack.stop_process("mlflow")
    stopped = time.monotonic()
    try:
        time.sleep(OUTAGE_SECONDS / 2)
        assert stack.task_instance(dag_id, run_id, "train")["state"] != "success"
        time.sleep(OUTAGE_SECONDS / 2)
    finally:
        stack.start_mlflow()
    outage = time.monotonic() - stopped
    run = stack.wait_run(dag_id, run_id, timeout=1200)
    states = stack.task_states(dag_id, run_id)
    assert run["state"] == "success", (states, stack.logs())
    train = stack.task_instance(dag_id, run_id, "train")
    assert train["try_number"] >= 2, train  # the outage failed tries; retries with backoff carried it
    first_try = stack.task_log(dag_id, run_id, "train", 1)
    assert "TrackingUnavailable" in first_try or "MLflow" in first_try
    assert outage >= OUTAGE_SECONDS
    _assert_run_is_whole(stack, dag_id, model, run_id)


def _all_task_logs_and_xcoms(stack: Stack) -> tuple[list[str], list[str]]:
    items = stack.api("GET", "/dags/~/dagRuns/~/taskInstances", params={"limit": 1000})["task_instances"]
    logs, xcoms = [], []
    for ti in items:
        for attempt in range(1, (ti.get("try_number") or 0) + 1):
            logs.append(stack.task_log(ti["dag_id"], ti["dag_run_id"], ti["task_id"], attempt))
        base = f"/dags/{ti['dag_id']}/dagRuns/{ti['dag_run_id']}/taskInstances/{ti['task_id']}/xcomEntries"
        for entry in stack.api("GET", base).get("xcom_entries", []):
            value = stack.api("GET", f"{base}/{entry['key']}")["value"]
            xcoms.append(value if isinstance(value, str) else json.dumps(value))
    return logs, xcoms


def _all_mlflow_text(stack: Stack) -> list[str]:
    texts = []
    experiments = stack.mlflow("POST", "/experiments/search", json={"max_results": 1000, "view_type": "ALL"})
    for experiment in experiments.get("experiments", []):
        texts.append(json.dumps(experiment))
        for run in _runs(stack, experiment["experiment_id"]):
            texts.append(json.dumps(run))  # params, tags, metrics, run name
    for model in stack.mlflow("GET", "/registered-models/search", params={"max_results": 1000}).get(
        "registered_models", []
    ):
        texts.append(json.dumps(model))
        texts += [json.dumps(v) for v in _versions(stack, model["name"])]  # tags, descriptions
    return texts


def test_connection_credentials_never_leak(stack: Stack) -> None:
    """After full runs (this session's, or one made here): no task log, XCom, MLflow entity,
    artifact or process log holds the connection's login or password."""
    done = stack.api("GET", "/dags/robust_promotion_auto/dagRuns", params={"state": "success", "limit": 1})
    if not done.get("dag_runs"):  # run alone: make one full run of the gated loop first
        stack.wait_for_dag("robust_promotion_auto")
        run_id = stack.trigger("robust_promotion_auto")
        assert stack.wait_run("robust_promotion_auto", run_id, timeout=900)["state"] == "success"
    signing = json.loads(stack.env["AIRFLOW_CONN_AIRFLOW_ROBUST_SIGNING"])["password"]
    secrets = {"login": stack.mlflow_login, "password": stack.mlflow_password, "signing key": signing}
    assert all(len(s) > 12 for s in secrets.values())

    logs, xcoms = _all_task_logs_and_xcoms(stack)
    entities = _all_mlflow_text(stack)
    artifacts = [p for p in stack.artifacts.rglob("*") if p.is_file()]
    files = [p for p in (stack.root / "logs").rglob("*") if p.is_file()]
    files += [p for p in (stack.home / "logs").rglob("*") if p.is_file()]
    assert len(logs) >= 7 and len(xcoms) >= 5 and len(entities) >= 20 and len(artifacts) >= 20, (
        len(logs),
        len(xcoms),
        len(entities),
        len(artifacts),
    )
    # the task processes did use the connection (its masked password shows where Airflow redacted it)
    leaks = []
    for what, secret in secrets.items():
        for kind, texts in (("task log", logs), ("XCom", xcoms), ("MLflow entity", entities)):
            leaks += [f"{what} in a {kind}: {t[:200]!r}" for t in texts if secret in t]
        for path in artifacts + files:
            if secret.encode() in path.read_bytes():
                leaks.append(f"{what} in file {path}")
    assert leaks == []
