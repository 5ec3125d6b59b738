"""MlflowHook with real connections (env-var connections) and a real MLflow SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_robust.exceptions import ConfigurationError
from airflow_robust.hooks.mlflow import MlflowHook


def test_embedded_default_when_nothing_is_configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    hook = MlflowHook()
    config = hook.get_config()
    assert config.backend == "embedded"
    ok, message = hook.test_connection()
    assert ok, message
    assert (tmp_path / "mlflow" / "mlflow.db").exists()
    assert (tmp_path / "mlflow" / "artifacts").is_dir()


def test_connection_from_airflow_env_var(mlflow_store: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    conn = {
        "conn_type": "mlflow",
        "host": "ignored",
        "login": "alice",
        "password": "pw-123",
        "extra": {
            "tracking_uri": mlflow_store["tracking_uri"],
            "token": "tok-456",
            "artifact_root": mlflow_store["artifact_root"],
        },
    }
    monkeypatch.setenv("AIRFLOW_CONN_MLFLOW_TEAM", json.dumps(conn))
    hook = MlflowHook("mlflow_team")
    config = hook.get_config()
    assert config.backend == "connection" and config.tracking_uri == mlflow_store["tracking_uri"]
    assert config.username == "alice" and config.token == "tok-456"
    ok, message = hook.test_connection()
    assert ok and "mlflow_team" in message
    assert "pw-123" not in message and "tok-456" not in message


def test_unreachable_server_reports_connection_and_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_MLFLOW_DOWN", json.dumps({"conn_type": "mlflow", "host": "http://127.0.0.1:9"}))
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    ok, message = MlflowHook("mlflow_down").test_connection()
    assert not ok
    assert "'mlflow_down'" in message and "http://127.0.0.1:9" in message


def test_a_named_connection_that_does_not_exist_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="'no_such_conn' does not exist"):
        MlflowHook("no_such_conn").get_config()
