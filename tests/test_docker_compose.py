"""docker/ describes the topology the integration tests prove: same processes, commands and settings."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from tests.integration.stack import AIRFLOW_PROCESSES, AIRFLOW_SETTINGS, mlflow_server_args

DOCKER = Path(__file__).resolve().parent.parent / "docker"
COMPOSE = yaml.safe_load((DOCKER / "docker-compose.yml").read_text())
SERVICES = {
    "api-server": "airflow-apiserver",
    "scheduler": "airflow-scheduler",
    "dag-processor": "airflow-dag-processor",
    "triggerer": "airflow-triggerer",
    "celery-worker": "airflow-worker",
}


def test_every_process_of_the_native_topology_is_a_service() -> None:
    services = COMPOSE["services"]
    assert {"postgres", "redis", "mlflow", "airflow-init", *SERVICES.values()} <= set(services)
    assert services["airflow-init"]["command"] == ["db", "migrate"]
    for process, service in SERVICES.items():
        native = [arg for arg in AIRFLOW_PROCESSES[process] if not arg.startswith("--") and arg != "127.0.0.1"]
        assert services[service]["command"] == native, service
        assert services[service]["image"] == "airflow-robust:latest"


def test_airflow_settings_match_the_integration_test() -> None:
    for service in SERVICES.values():
        env = COMPOSE["services"][service]["environment"]
        assert set(AIRFLOW_SETTINGS) <= set(env), service
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:6379/")
        assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql+psycopg2://")
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
        connection = json.loads(env["AIRFLOW_CONN_MLFLOW_DEFAULT"])
        assert connection["conn_type"] == "mlflow" and connection["host"] == "http://mlflow:5000"


def test_mlflow_server_has_the_flags_of_the_integration_test() -> None:
    command = COMPOSE["services"]["mlflow"]["command"]
    assert command[0] == "mlflow"
    native = mlflow_server_args("postgresql+psycopg2://db", "file:///artifacts", "h", 1)
    flags = [a for a in native if a.startswith("--")]
    assert [a for a in command if a.startswith("--") and a != "--allowed-hosts"] == flags
    assert command[command.index("--backend-store-uri") + 1].startswith("postgresql+psycopg2://")
    assert command[command.index("--port") + 1] == "5000"


def test_dockerfile_installs_the_package_and_env_example_defines_every_variable() -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text()
    assert re.search(r'pip install .*"/opt/airflow-robust\[production,examples\]"', dockerfile)
    assert "FROM apache/airflow:${AIRFLOW_VERSION}" in dockerfile
    used = set(re.findall(r"\$\{(\w+)\}", (DOCKER / "docker-compose.yml").read_text()))
    defined = {line.split("=", 1)[0] for line in (DOCKER / ".env.example").read_text().splitlines() if "=" in line}
    assert used <= defined, used - defined
    databases = (DOCKER / "init-databases.sql").read_text()
    assert "CREATE DATABASE airflow" in databases and "CREATE DATABASE mlflow" in databases
