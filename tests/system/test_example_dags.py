"""The example DAGs, run for real (dag.test() on a SQLite Airflow DB), checked through MlflowClient."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from mlflow import MlflowClient

from airflow_robust.tracking.config import embedded_config

pytestmark = pytest.mark.system
DAGS = Path(__file__).resolve().parents[2] / "dags"
sys.path.insert(0, str(DAGS))


def load_dag(dag_id: str) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(dag_id)


@pytest.fixture(scope="module")
def first_run(airflow_db: Path) -> dict[str, Any]:
    dag = load_dag("robust_training")
    logical_date = datetime(2026, 1, 1, tzinfo=timezone.utc)
    dag_run = dag.test(logical_date=logical_date, run_after=logical_date)
    return {"dag": dag, "dag_run": dag_run, "logical_date": logical_date, "home": airflow_db}


def client_for(home: Path) -> MlflowClient:
    return MlflowClient(tracking_uri=embedded_config(str(home)).tracking_uri)


def test_training_dag_succeeds_and_is_tracked(first_run: dict[str, Any]) -> None:
    dag_run = first_run["dag_run"]
    assert dag_run.state == "success"
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert states == {"export_dataset": "success", "validate": "success", "train": "success", "robustness": "success"}

    client = client_for(first_run["home"])
    experiment = client.get_experiment_by_name("airflow/robust_training")
    assert experiment is not None
    parents = client.search_runs(
        [experiment.experiment_id],
        f"tags.`airflow.run_id` = '{dag_run.run_id}' and tags.`airflow_robust.kind` = 'dag_run'",
    )
    assert len(parents) == 1
    parent = parents[0]
    assert parent.info.status == "FINISHED"
    children = client.search_runs([experiment.experiment_id], f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'")
    by_task = {c.data.tags["airflow.task_id"]: c for c in children}
    assert set(by_task) == {"export_dataset", "validate", "train", "robustness"}
    assert by_task["robustness"].data.tags["robust.robustness.status"] == "passed"
    assert by_task["validate"].data.tags["robust.validation.status"] == "passed"
    train = by_task["train"]
    for key in ("airflow.dag_id", "airflow.run_id", "airflow.try_number", "airflow.map_index", "airflow.task_url"):
        assert key in train.data.tags
    assert train.data.tags["airflow.task_url"].endswith("/tasks/train?try_number=1")
    assert by_task["export_dataset"].data.metrics["rows"] == 1095  # the training three quarters of 1,461 days
    assert train.info.status == "FINISHED"

    version = client.get_model_version("seattle_weather", train.data.tags["robust.model_version"])
    assert version.run_id == train.info.run_id
    assert version.tags["airflow.dag_id"] == "robust_training"
    assert version.tags["airflow.run_id"] == dag_run.run_id
    assert version.tags["robust.data.uri"].endswith("/clean.csv")  # trained on the rows that passed the gate
    assert len(version.tags["robust.data.digest"]) == 16
    assert version.tags["robust.robustness.status"] == "passed"
    assert float(train.data.metrics["accuracy"]) > 0.5

    xcom = dag_run.get_task_instance("train").xcom_pull(task_ids="train")
    assert xcom["model_uri"] == f"models:/seattle_weather/{version.version}"
    # the "MLflow run" extra link, as Airflow stored it when the task finished
    link = dag_run.get_task_instance("train").xcom_pull(task_ids="train", key="_link_MlflowRunLink")
    assert link == f"http://127.0.0.1:5000/#/experiments/{experiment.experiment_id}/runs/{train.info.run_id}"


def test_clearing_and_rerunning_train_registers_no_second_version(first_run: dict[str, Any]) -> None:
    """dag.test() on the same logical date clears the DAG run's task instances and runs them again."""
    client = client_for(first_run["home"])
    before = client.search_model_versions("name = 'seattle_weather'")
    rerun = first_run["dag"].test(logical_date=first_run["logical_date"], run_after=first_run["logical_date"])
    assert rerun.state == "success"
    assert rerun.run_id == first_run["dag_run"].run_id
    after = client.search_model_versions("name = 'seattle_weather'")
    assert [v.version for v in after] == [v.version for v in before]
    train_ti = rerun.get_task_instance("train")
    result = train_ti.xcom_pull(task_ids="train")
    assert result["reused"] is True
    experiment = client.get_experiment_by_name("airflow/robust_training")
    running = client.search_runs([experiment.experiment_id], "attributes.status = 'RUNNING'")
    assert running == []


def test_dagbag_has_no_import_errors() -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    assert bag.import_errors == {}
    assert "robust_training" in bag.dag_ids
    for dag_id in bag.dag_ids:
        assert bag.get_dag(dag_id).tags, f"{dag_id} has no tags"


def test_corrupted_data_closes_the_gate_before_training(airflow_db: Path) -> None:
    """Nulls, out-of-range values and a renamed column: validate fails without retry, train never runs."""
    import pandas as pd

    dag = load_dag("robust_training")
    client = client_for(airflow_db)
    versions_before = len(client.search_model_versions("name = 'seattle_weather'"))
    logical_date = datetime(2026, 2, 1, tzinfo=timezone.utc)
    dag_run = dag.test(logical_date=logical_date, run_after=logical_date, run_conf={"corrupt": True})
    assert dag_run.state == "failed"
    validate_ti = dag_run.get_task_instance("validate")
    assert validate_ti.state == "failed"  # not up_for_retry: the answer will not change
    assert validate_ti.try_number == 1
    assert dag_run.get_task_instance("train").state == "upstream_failed"
    assert dag_run.get_task_instance("robustness").state == "upstream_failed"
    summary = validate_ti.xcom_pull(task_ids="validate")
    assert summary["success"] is False and summary["status"] == "failed"
    failed = {f["expectation"] for f in summary["failed_expectations"]}
    assert "expect_table_columns_to_match_set" in failed
    assert "expect_column_values_to_not_be_null(temp_max)" in failed
    # the quarantine file holds exactly the corrupted rows
    module = __import__("robust_training")
    exported = dag_run.get_task_instance("export_dataset").xcom_pull(task_ids="export_dataset")
    quarantined = pd.read_csv(exported["quarantine"].removeprefix("file://"))
    original, _ = module.weather_frames()
    expected_dates = set(original.loc[list(module.CORRUPTED_ROWS), "date"].dt.strftime("%Y-%m-%d"))
    assert set(quarantined["date"]) == expected_dates
    assert len(quarantined) == len(module.CORRUPTED_ROWS)
    assert len(client.search_model_versions("name = 'seattle_weather'")) == versions_before
