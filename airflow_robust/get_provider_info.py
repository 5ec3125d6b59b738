"""Provider metadata read by Airflow's ProvidersManager (entry point ``apache_airflow_provider``)."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-robust",
        "name": "airflow-robust",
        "description": "Gated, MLflow-tracked train -> validate -> deploy -> monitor operators for ML pipelines.",
        "versions": [__version__],
        "integrations": [
            {"integration-name": "MLflow", "external-doc-url": "https://mlflow.org/docs/latest/", "tags": ["software"]},
        ],
        "operators": [
            {
                "integration-name": "MLflow",
                "python-modules": [
                    "airflow_robust.operators.train",
                    "airflow_robust.operators.validate",
                    "airflow_robust.operators.robustness",
                    "airflow_robust.operators.promote",
                    "airflow_robust.operators.deploy",
                    "airflow_robust.operators.batch_predict",
                    "airflow_robust.operators.monitor",
                    "airflow_robust.operators.review",
                    "airflow_robust.operators.register",
                ],
            },
        ],
        "sensors": [{"integration-name": "MLflow", "python-modules": ["airflow_robust.sensors.approval"]}],
        "plugins": [{"name": "airflow_robust", "plugin-class": "airflow_robust.plugins.AirflowRobustPlugin"}],
        "triggers": [{"integration-name": "MLflow", "python-modules": ["airflow_robust.triggers.approval"]}],
        "hooks": [{"integration-name": "MLflow", "python-modules": ["airflow_robust.hooks.mlflow"]}],
        "connection-types": [
            {
                "connection-type": "mlflow",
                "hook-class-name": "airflow_robust.hooks.mlflow.MlflowHook",
                "hook-name": "MLflow (airflow-robust)",
                "ui-field-behaviour": {
                    "hidden-fields": [],
                    "relabeling": {"host": "Tracking URI", "login": "Username", "schema": "Scheme (http/https)"},
                    "placeholders": {
                        "host": "http://mlflow:5000",
                        "login": "MLflow username (basic auth)",
                        "password": "MLflow password (masked)",
                    },
                },
                "conn-fields": {
                    "registry_uri": {
                        "label": "Registry URI",
                        "description": "Model registry URI when it differs from the tracking URI",
                        "schema": {"type": ["string", "null"]},
                    },
                    "token": {
                        "label": "Token",
                        "description": "Bearer token (MLFLOW_TRACKING_TOKEN)",
                        "schema": {"type": ["string", "null"], "format": "password"},
                    },
                    "ui_url": {
                        "label": "MLflow UI URL",
                        "description": "Base URL for links to runs and models",
                        "schema": {"type": ["string", "null"]},
                    },
                    "artifact_root": {
                        "label": "Artifact root",
                        "description": "Artifact location for experiments "
                        "created by airflow-robust (e.g. s3://bucket/mlflow)",
                        "schema": {"type": ["string", "null"]},
                    },
                    "insecure_tls": {"label": "Skip TLS verification", "schema": {"type": ["boolean", "null"]}},
                },
            }
        ],
        "extra-links": ["airflow_robust.links.MlflowRunLink", "airflow_robust.links.MlflowModelVersionLink"],
    }
