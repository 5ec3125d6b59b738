"""TrainModelOperator.execute() against a real MLflow SQLite store, on real bundled data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException
from mlflow import MlflowClient

from airflow_robust.exceptions import EmptyDataError, InvalidParameterError
from airflow_robust.links import XCOM_RUN_URL
from airflow_robust.operators.train import TrainModelOperator
from tests.helpers import TaskInstanceStandIn, breast_cancer_frame, context_for, wine_frame, write_csv


def make_operator(data: str, **kwargs: Any) -> TrainModelOperator:
    defaults: dict[str, Any] = {
        "task_id": "train",
        "estimator": "sklearn.ensemble:RandomForestClassifier",
        "params": {"n_estimators": 25, "max_depth": 5},
        "data": data,
        "target": "target",
        "registered_model_name": "breast_cancer",
    }
    defaults.update(kwargs)
    return TrainModelOperator(**defaults)


@pytest.fixture
def cancer_csv(tmp_path: Path) -> str:
    return write_csv(breast_cancer_frame(), tmp_path / "data" / "breast_cancer.csv")


def test_trains_logs_and_registers(mlflow_store: dict[str, str], cancer_csv: str) -> None:
    ti = TaskInstanceStandIn()
    result = make_operator(cancer_csv).execute(context_for(ti))
    assert result["model_uri"] == "models:/breast_cancer/1"
    assert result["version"] == "1" and result["model_name"] == "breast_cancer" and not result["reused"]
    assert result["metrics"]["accuracy"] > 0.9 and result["task"] == "classification"

    client = MlflowClient(tracking_uri=mlflow_store["tracking_uri"])
    run = client.get_run(result["run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.params["estimator"] == "sklearn.ensemble:RandomForestClassifier"
    assert run.data.params["model.n_estimators"] == "25"
    assert run.data.metrics["accuracy"] == pytest.approx(result["metrics"]["accuracy"])
    assert run.data.tags["airflow.task_id"] == "train" and run.data.tags["robust.model_version"] == "1"
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert "reference_profile.json" in artifacts
    inputs = run.inputs.dataset_inputs
    assert len(inputs) == 1 and inputs[0].dataset.digest == result["data_digest"]

    version = client.get_model_version("breast_cancer", "1")
    assert version.run_id == result["run_id"]
    assert version.tags["airflow.dag_id"] == "test_dag" and version.tags["airflow.run_id"] == ti.run_id
    assert version.tags["robust.data.uri"] == cancer_csv
    assert version.tags["robust.data.digest"] == result["data_digest"]

    import mlflow

    model = mlflow.pyfunc.load_model(result["model_uri"])
    assert model.metadata.signature is not None
    predictions = model.predict(breast_cancer_frame().drop(columns=["target"]).head(10))
    assert set(predictions) <= {"benign", "malignant"}
    assert ti.xcom[XCOM_RUN_URL].endswith(f"/runs/{result['run_id']}")


def test_retry_reuses_the_registered_version(mlflow_store: dict[str, str], cancer_csv: str) -> None:
    first = make_operator(cancer_csv).execute(context_for(TaskInstanceStandIn(try_number=1)))
    second = make_operator(cancer_csv).execute(context_for(TaskInstanceStandIn(try_number=2)))
    assert second["reused"] and second["version"] == first["version"]
    assert second["metrics"] == first["metrics"]
    client = MlflowClient(tracking_uri=mlflow_store["tracking_uri"])
    assert len(client.search_model_versions("name = 'breast_cancer'")) == 1
    # a new DAG run trains and registers a new version
    third = make_operator(cancer_csv).execute(context_for(TaskInstanceStandIn(run_id="manual__other")))
    assert third["version"] == "2" and not third["reused"]


def test_validation_data_regression_and_callable(mlflow_store: dict[str, str], tmp_path: Path) -> None:
    frame = wine_frame().drop(columns=["target"])
    train_uri = write_csv(frame.iloc[:140], tmp_path / "train.csv")
    valid_uri = write_csv(frame.iloc[140:], tmp_path / "valid.parquet.csv")
    result = make_operator(
        train_uri,
        estimator="sklearn.linear_model:Ridge",
        params={"alpha": 1.0},
        target="alcohol",
        validation_data=valid_uri,
        registered_model_name="wine_alcohol",
    ).execute(context_for(TaskInstanceStandIn()))
    assert result["task"] == "regression" and {"rmse", "r2"} <= set(result["metrics"])
    client = MlflowClient(tracking_uri=mlflow_store["tracking_uri"])
    assert client.get_run(result["run_id"]).data.params["holdout"] == "validation_data"
    # an import-path callable as data
    from_callable = make_operator("tests.unit.test_data:wine", registered_model_name="wine").execute(
        context_for(TaskInstanceStandIn(run_id="manual__callable"))
    )
    assert from_callable["version"] == "1"


@pytest.mark.parametrize(
    ("overrides", "parameter"),
    [
        ({"estimator": "not an import path"}, "estimator"),
        ({"params": {"n_estimators": "many"}}, "params"),
        ({"target": ""}, "target"),
        ({"test_size": 1.5}, "test_size"),
        ({"task": "clustering"}, "task"),
        ({"registered_model_name": "it's"}, "registered_model_name"),
        ({"features": "mean radius"}, "features"),
        ({"target": "no_such_column"}, "target"),
    ],
)
def test_bad_parameters_fail_without_retry_and_register_nothing(
    mlflow_store: dict[str, str], cancer_csv: str, overrides: dict[str, Any], parameter: str
) -> None:
    with pytest.raises(InvalidParameterError) as info:
        make_operator(cancer_csv, **overrides).execute(context_for(TaskInstanceStandIn()))
    assert isinstance(info.value, AirflowFailException)
    assert f"The {parameter!r} parameter of TrainModelOperator" in str(info.value)
    client = MlflowClient(tracking_uri=mlflow_store["tracking_uri"])
    assert client.search_registered_models() == [] or client.search_model_versions("name = 'breast_cancer'") == []


def test_params_that_are_not_a_mapping_fail_when_the_dag_is_parsed() -> None:
    # Airflow itself checks a task's ``params`` before the operator sees them.
    with pytest.raises(TypeError, match="params must be a mapping"):
        make_operator("x.csv", params=["n_estimators", 3])


def test_dag_level_params_do_not_leak_into_model_params() -> None:
    from airflow.sdk import DAG

    with DAG("params_dag", params={"threshold": 0.5}, schedule=None):
        op = make_operator("x.csv", params={"n_estimators": 7})
    assert op.model_params == {"n_estimators": 7}
    assert op.params["threshold"] == 0.5


def test_missing_and_empty_data(mlflow_store: dict[str, str], tmp_path: Path) -> None:
    with pytest.raises(AirflowFailException, match="No file at"):
        make_operator(str(tmp_path / "absent.csv")).execute(context_for(TaskInstanceStandIn()))
    empty = tmp_path / "empty.csv"
    empty.write_text(",".join(breast_cancer_frame().columns) + "\n")
    with pytest.raises(EmptyDataError):
        make_operator(str(empty)).execute(context_for(TaskInstanceStandIn()))
    original = empty.read_bytes()
    assert empty.read_bytes() == original  # input untouched


def test_unreachable_tracking_server_is_retryable_and_names_the_uri(
    cancer_csv: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_robust.exceptions import TrackingUnavailable

    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    with pytest.raises(TrackingUnavailable, match=r"http://127\.0\.0\.1:9") as info:
        make_operator(cancer_csv).execute(context_for(TaskInstanceStandIn()))
    assert not isinstance(info.value, AirflowFailException)


def test_object_storage_uri_through_objectstoragepath(mlflow_store: dict[str, str]) -> None:
    """A non-local URI is read through Airflow's ObjectStoragePath (fsspec's in-memory filesystem here)."""
    import fsspec
    from airflow.sdk import ObjectStoragePath
    from airflow.sdk.io.store import attach

    attach("memory", fs=fsspec.filesystem("memory"))  # what a provider's filesystem registration does
    target = ObjectStoragePath("memory://datasets/breast_cancer.csv")
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w") as handle:
        breast_cancer_frame().to_csv(handle, index=False)
    result = make_operator("memory://datasets/breast_cancer.csv").execute(context_for(TaskInstanceStandIn()))
    client = MlflowClient(tracking_uri=mlflow_store["tracking_uri"])
    version = client.get_model_version("breast_cancer", result["version"])
    assert version.tags["robust.data.uri"] == "memory://datasets/breast_cancer.csv"


def test_sql_through_an_airflow_connection(
    mlflow_store: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlalchemy as sa

    db = tmp_path / "warehouse.sqlite"
    breast_cancer_frame().to_sql("patients", sa.create_engine(f"sqlite:///{db}"), index=False)
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps({"conn_type": "sqlite", "host": str(db)}))
    result = make_operator("SELECT * FROM patients", conn_id="warehouse").execute(context_for(TaskInstanceStandIn()))
    assert result["metrics"]["accuracy"] > 0.9
    client = MlflowClient(tracking_uri=mlflow_store["tracking_uri"])
    assert client.get_model_version("breast_cancer", "1").tags["robust.data.uri"] == (
        "sql(warehouse): SELECT * FROM patients"
    )
