"""How a connection (or its absence) becomes an MlflowConfig; and that applying it is scoped."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from airflow_robust.exceptions import ConfigurationError
from airflow_robust.tracking.config import ConnectionFields, applied, resolve_config


def test_embedded_default_under_airflow_home(tmp_path: Path) -> None:
    config = resolve_config(None, env={}, airflow_home=str(tmp_path))
    assert config.backend == "embedded"
    assert config.tracking_uri == f"sqlite:///{tmp_path}/mlflow/mlflow.db"
    assert config.artifact_root == f"file://{tmp_path}/mlflow/artifacts"
    assert "embedded" in config.describe()


def test_environment_variable_when_no_connection() -> None:
    config = resolve_config(None, env={"MLFLOW_TRACKING_URI": "http://mlflow:5000"})
    assert config.backend == "environment"
    assert config.tracking_uri == "http://mlflow:5000"
    assert config.ui_url == "http://mlflow:5000"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (ConnectionFields("c", host="http://mlflow:5000"), "http://mlflow:5000"),
        (ConnectionFields("c", host="http://mlflow", port=5001), "http://mlflow:5001"),
        (ConnectionFields("c", host="mlflow.example.com", schema="https", port=443), "https://mlflow.example.com:443"),
        (ConnectionFields("c", host="mlflow"), "http://mlflow"),
        (ConnectionFields("c", host="ignored", extra={"tracking_uri": "databricks"}), "databricks"),
    ],
)
def test_tracking_uri_from_connection(fields: ConnectionFields, expected: str) -> None:
    assert resolve_config(fields, env={}).tracking_uri == expected


def test_connection_wins_over_environment_and_carries_credentials() -> None:
    conn = ConnectionFields(
        "mlflow_prod",
        host="https://mlflow.corp",
        login="alice",
        password="s3cret",
        extra={"registry_uri": "https://registry.corp", "token": "tok-123", "insecure_tls": "true"},
    )
    config = resolve_config(conn, env={"MLFLOW_TRACKING_URI": "http://other:5000"})
    assert config.backend == "connection" and config.conn_id == "mlflow_prod"
    assert config.registry_uri == "https://registry.corp"
    env = config.environment()
    assert env["MLFLOW_TRACKING_USERNAME"] == "alice"
    assert env["MLFLOW_TRACKING_PASSWORD"] == "s3cret"
    assert env["MLFLOW_TRACKING_TOKEN"] == "tok-123"
    assert env["MLFLOW_TRACKING_INSECURE_TLS"] == "true"
    for text in (repr(config), config.describe()):
        assert "s3cret" not in text and "tok-123" not in text
    assert "mlflow_prod" in config.describe() and "https://mlflow.corp" in config.describe()


def test_connection_without_uri_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="'empty' has no tracking URI"):
        resolve_config(ConnectionFields("empty"), env={})


def test_applied_sets_then_restores_this_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "someone-else")
    monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD", raising=False)
    before_uri = mlflow.get_tracking_uri()
    config = resolve_config(ConnectionFields("c", host="http://127.0.0.1:1", login="bob", password="pw"), env={})
    with applied(config):
        assert os.environ["MLFLOW_TRACKING_USERNAME"] == "bob"
        assert os.environ["MLFLOW_TRACKING_PASSWORD"] == "pw"
        assert mlflow.get_tracking_uri() == "http://127.0.0.1:1"
    assert os.environ["MLFLOW_TRACKING_USERNAME"] == "someone-else"
    assert "MLFLOW_TRACKING_PASSWORD" not in os.environ
    assert mlflow.get_tracking_uri() == before_uri


def test_links() -> None:
    config = resolve_config(ConnectionFields("c", host="http://mlflow:5000/"), env={})
    assert config.run_url("3", "abc") == "http://mlflow:5000/#/experiments/3/runs/abc"
    assert config.model_version_url("my model", 2) == "http://mlflow:5000/#/models/my%20model/versions/2"


def test_sqlite_store_keeps_artifacts_beside_the_database_not_in_cwd(tmp_path: Path) -> None:
    config = resolve_config(None, env={"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/m.db"})
    assert config.artifact_root == f"file://{tmp_path}/artifacts"
    conn = ConnectionFields("c", extra={"tracking_uri": f"sqlite:///{tmp_path}/m.db", "artifact_root": "s3://b/a"})
    assert resolve_config(conn, env={}).artifact_root == "s3://b/a"
    assert resolve_config(None, env={"MLFLOW_TRACKING_URI": "http://mlflow:5000"}).artifact_root is None
