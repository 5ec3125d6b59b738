"""Stage tracking against a real MLflow SQLite store: parent/child runs, concurrency, retries."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest
from mlflow import MlflowClient

from airflow_robust.tracking.identity import StageIdentity
from airflow_robust.tracking.runs import aggregate_status, open_stage_run, stage_run


def identity(task_id: str = "train", try_number: int = 1, run_id: str = "manual__1", **kw: object) -> StageIdentity:
    return StageIdentity(
        dag_id="dag_a",
        run_id=run_id,
        task_id=task_id,
        try_number=try_number,
        task_url=f"http://airflow/dags/dag_a/runs/{run_id}/tasks/{task_id}",
        **kw,
    )  # type: ignore[arg-type]


@pytest.fixture
def client(mlflow_store: dict[str, str]) -> MlflowClient:
    return MlflowClient(tracking_uri=mlflow_store["tracking_uri"])


def stage_runs(client: MlflowClient, experiment_id: str) -> list:  # type: ignore[type-arg]
    return client.search_runs([experiment_id], "tags.`airflow_robust.kind` = 'stage'")


def parent_runs(client: MlflowClient, experiment_id: str) -> list:  # type: ignore[type-arg]
    return client.search_runs([experiment_id], "tags.`airflow_robust.kind` = 'dag_run'")


def test_one_parent_per_dag_run_and_tagged_children(client: MlflowClient, mlflow_store: dict[str, str]) -> None:
    with stage_run(client, identity("validate"), "validate", mlflow_store["artifact_root"], activate=False) as a:
        pass
    with stage_run(client, identity("train"), "train", mlflow_store["artifact_root"], activate=False) as b:
        pass
    assert a.parent_run_id == b.parent_run_id
    experiment = client.get_experiment(a.experiment_id)
    assert experiment.name == "airflow/dag_a"
    assert experiment.artifact_location.startswith(mlflow_store["artifact_root"])
    child = client.get_run(b.run_id)
    tags = child.data.tags
    assert tags["mlflow.parentRunId"] == a.parent_run_id
    assert tags["airflow.dag_id"] == "dag_a" and tags["airflow.run_id"] == "manual__1"
    assert tags["airflow.task_id"] == "train" and tags["airflow.try_number"] == "1"
    assert tags["airflow.map_index"] == "-1"
    assert tags["airflow.task_url"].endswith("/tasks/train")
    assert child.info.status == "FINISHED"
    assert client.get_run(a.parent_run_id).info.status == "FINISHED"
    # another DAG run gets its own parent
    with stage_run(client, identity(run_id="manual__2"), "train", activate=False) as c:
        pass
    assert c.parent_run_id != a.parent_run_id
    assert len(parent_runs(client, a.experiment_id)) == 2


def test_experiment_name_is_overridable(client: MlflowClient) -> None:
    run = open_stage_run(client, identity(experiment_name="team/churn"), "train")
    assert client.get_experiment(run.experiment_id).name == "team/churn"


def test_failed_stage_marks_child_and_parent_failed(client: MlflowClient) -> None:
    with pytest.raises(RuntimeError), stage_run(client, identity(), "train", activate=False) as run:
        raise RuntimeError("boom")
    assert client.get_run(run.run_id).info.status == "FAILED"
    assert client.get_run(run.parent_run_id).info.status == "FAILED"


def test_retry_closes_the_earlier_try_left_running(client: MlflowClient) -> None:
    first = open_stage_run(client, identity(try_number=1), "train")  # killed: never closed
    assert client.get_run(first.run_id).info.status == "RUNNING"
    with stage_run(client, identity(try_number=2), "train", activate=False) as second:
        pass
    stale = client.get_run(first.run_id)
    assert stale.info.status == "KILLED"
    assert stale.data.tags["airflow_robust.superseded_by"] == second.run_id
    running = [r for r in stage_runs(client, second.experiment_id) if r.info.status == "RUNNING"]
    assert running == []
    assert client.get_run(second.parent_run_id).info.status == "FINISHED"


def test_mapped_tasks_are_separate(client: MlflowClient) -> None:
    a = open_stage_run(client, identity(map_index=0), "train")
    b = open_stage_run(client, identity(map_index=1), "train")
    assert client.get_run(a.run_id).info.status == "RUNNING"  # b did not close a
    assert client.get_run(b.run_id).data.tags["airflow.map_index"] == "1"
    assert "[1]" in client.get_run(b.run_id).info.run_name


def _open_in_process(uri: str, task_id: str, barrier: Any, results: Any) -> None:
    client = MlflowClient(tracking_uri=uri)
    client.search_experiments(max_results=1)  # imports and connections done before the race
    barrier.wait(timeout=120)
    with stage_run(client, identity(task_id), "stage", activate=False) as run:
        results.put((run.run_id, run.parent_run_id))


@pytest.mark.slow  # a minute of concurrent MLflow writers: make test runs it, make check does not
def test_concurrent_tasks_converge_on_one_parent(client: MlflowClient, mlflow_store: dict[str, str]) -> None:
    """Six processes start stages of one DAG run at the same instant (a barrier releases them)."""
    uri = mlflow_store["tracking_uri"]
    client.search_experiments()  # create the schema before the race
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(6), ctx.Queue()
    procs = [ctx.Process(target=_open_in_process, args=(uri, f"task_{i}", barrier, results)) for i in range(6)]
    for proc in procs:
        proc.start()
    opened = [results.get(timeout=180) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    experiment = client.get_experiment_by_name("airflow/dag_a")
    parents = parent_runs(client, experiment.experiment_id)
    assert len(parents) == 1, [p.info.run_id for p in parents]
    children = stage_runs(client, experiment.experiment_id)
    assert len(children) == 6
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {parents[0].info.run_id}
    assert {run_id for run_id, _ in opened} == {c.info.run_id for c in children}
    assert parents[0].info.status == "FINISHED"


class _Info:
    def __init__(self, status: str) -> None:
        self.status = status


class _Data:
    def __init__(self, tags: dict[str, str]) -> None:
        self.tags = tags


class _Run:
    def __init__(self, task: str, try_number: int, status: str, superseded: bool = False) -> None:
        self.info = _Info(status)
        tags = {"airflow.task_id": task, "airflow.try_number": str(try_number), "airflow_robust.task_key": task}
        if superseded:
            tags["airflow_robust.superseded_by"] = "x"
        self.data = _Data(tags)


def test_aggregate_status_uses_the_latest_try_of_each_task() -> None:
    assert aggregate_status([_Run("a", 1, "FAILED"), _Run("a", 2, "FINISHED")]) == "FINISHED"
    assert aggregate_status([_Run("a", 1, "KILLED", superseded=True), _Run("a", 2, "RUNNING")]) == "RUNNING"
    assert aggregate_status([_Run("a", 1, "FINISHED"), _Run("b", 1, "FAILED")]) == "FAILED"
    assert aggregate_status([]) == "FINISHED"


def test_dag_ids_with_odd_characters_are_safe(client: MlflowClient, tmp_path: Path) -> None:
    odd = StageIdentity(dag_id="dag.with-odd_chars", run_id="manual__it's 'quoted'", task_id="t")
    with stage_run(client, odd, "train", activate=False) as run:
        pass
    assert client.get_run(run.run_id).data.tags["airflow.run_id"] == "manual__it's 'quoted'"
