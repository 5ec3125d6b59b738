"""The example pipeline on the production topology: Celery workers, PostgreSQL, an MLflow server.

Driven through Airflow's REST API and checked through MLflow's REST API, as an operator of the
platform would.
"""

from __future__ import annotations

import random

import pytest

from tests.integration.stack import Stack

pytestmark = pytest.mark.integration


def _experiment(stack: Stack, name: str) -> dict:
    return stack.mlflow("GET", "/experiments/get-by-name", params={"experiment_name": name})["experiment"]


def _runs(stack: Stack, experiment_id: str, filter_string: str) -> list[dict]:
    body = {"experiment_ids": [experiment_id], "filter": filter_string, "max_results": 1000}
    return stack.mlflow("POST", "/runs/search", json=body).get("runs", [])


def _tags(entity: dict) -> dict[str, str]:
    return {t["key"]: t["value"] for t in entity.get("tags", []) or entity.get("data", {}).get("tags", [])}


def test_auto_promotion_pipeline_on_celery(stack: Stack) -> None:
    stack.wait_for_dag("robust_promotion_auto")
    run_id = stack.trigger("robust_promotion_auto")
    run = stack.wait_run("robust_promotion_auto", run_id)
    states = stack.task_states("robust_promotion_auto", run_id)
    assert run["state"] == "success", (states, stack.logs())
    assert states == dict.fromkeys(
        ["export_dataset", "validate", "train", "robustness", "promote", "deploy"], "success"
    )
    trained = stack.xcom("robust_promotion_auto", run_id, "train")
    version = trained["version"]

    experiment = _experiment(stack, "airflow/robust_promotion_auto")
    parents = _runs(
        stack,
        experiment["experiment_id"],
        f"tags.`airflow.run_id` = '{run_id}' and tags.`airflow_robust.kind` = 'dag_run'",
    )
    assert len(parents) == 1 and parents[0]["info"]["status"] == "FINISHED"
    parent_id = parents[0]["info"]["run_id"]
    children = _runs(stack, experiment["experiment_id"], f"tags.`mlflow.parentRunId` = '{parent_id}'")
    by_task = {_tags(c["data"])["airflow.task_id"]: c for c in children}
    assert set(by_task) == set(states)
    assert all(c["info"]["status"] == "FINISHED" for c in children)
    assert _tags(by_task["validate"]["data"])["robust.validation.status"] == "passed"

    record = stack.mlflow("GET", "/model-versions/get", params={"name": "seattle_weather", "version": version})
    tags = _tags(record["model_version"])
    assert tags["airflow.run_id"] == run_id
    assert tags["robust.validation.status"] == tags["robust.robustness.status"] == "passed"
    assert tags["robust.promotion.status"] == "passed" and tags["robust.approval"] == "approved"
    assert tags["robust.deploy.status"] == "deployed"
    champion = stack.mlflow("GET", "/registered-models/alias", params={"name": "seattle_weather", "alias": "champion"})
    assert champion["model_version"]["version"] == version
    # the model's artifacts went through the server's artifact proxy into its artifact store
    assert any(stack.artifacts.rglob("MLmodel"))
    # the worker imported the gates' libraries once, before it forked the task processes
    assert "airflow-robust: preloaded great_expectations, mlflow" in stack.processes["celery-worker"].tail(10**7)


def test_wrong_mlflow_uri_fails_with_the_connection_named_and_retries(stack: Stack) -> None:
    stack.wait_for_dag("it_broken_mlflow")
    run_id = stack.trigger("it_broken_mlflow")
    run = stack.wait_run("it_broken_mlflow", run_id, timeout=600)
    assert run["state"] == "failed"
    ti = stack.task_instance("it_broken_mlflow", run_id, "train")
    assert ti["state"] == "failed" and ti["try_number"] == 2  # retries applied: an infrastructure error
    log = stack.task_log("it_broken_mlflow", run_id, "train", 1)
    broken = stack.env["AIRFLOW_CONN_MLFLOW_BROKEN"]
    assert "TrackingUnavailable" in log
    assert "connection 'mlflow_broken'" in log
    assert broken.split('"host": "')[1].split('"')[0] in log


#: four candidates of different quality, one per worker slot: they train at once and race for the lease
RACE_C = [1e-5, 1e-3, 0.1, 10.0]


def test_concurrent_promotions_end_with_the_best_version(stack: Stack) -> None:
    """Four DAG runs promote candidates of different quality at once; the lease serializes them."""
    stack.wait_for_dag("it_champion_race")
    order = RACE_C[:]
    random.Random(3).shuffle(order)
    run_ids = [stack.trigger("it_champion_race", {"C": c}) for c in order]
    for run_id in run_ids:
        stack.wait_run("it_champion_race", run_id, timeout=1200)
    candidates: dict[str, float] = {}
    for run_id in run_ids:
        states = stack.task_states("it_champion_race", run_id)
        assert states["train"] == "success" and states["promote"] in ("success", "skipped"), states
        promote = stack.xcom("it_champion_race", run_id, "promote")
        version = promote["candidate_version"]
        candidates[version] = promote["checks"]["f1_macro:bounds"]["candidate"]
        if promote["decision"] == "promoted":
            assert states["deploy"] == "success", states
        else:
            assert promote["decision"] == "rejected" and states["deploy"] == "skipped", (promote, states)
    assert len(candidates) == len(RACE_C)  # one version per DAG run
    best = max(candidates.values())
    champion = stack.mlflow("GET", "/registered-models/alias", params={"name": "it_race", "alias": "champion"})
    assert candidates[champion["model_version"]["version"]] == best

    experiment = _experiment(stack, "airflow-robust/alias-history")
    entries = sorted(
        (
            _tags(r["data"])
            for r in _runs(stack, experiment["experiment_id"], "tags.`robust.history.model` = 'it_race'")
        ),
        key=lambda t: int(t["robust.history.seq"]),
    )
    moves = [(e["robust.history.from"], e["robust.history.to"]) for e in entries]
    assert [int(e["robust.history.seq"]) for e in entries] == list(range(1, len(entries) + 1))  # no lost update
    assert moves[0][0] == "" and all(moves[i][1] == moves[i + 1][0] for i in range(len(moves) - 1))  # no interleaving
    assert moves[-1][1] == champion["model_version"]["version"]
    # every move went to a version at least as good as the one it replaced
    assert all(candidates[b] >= candidates[a] for a, b in moves[1:])
