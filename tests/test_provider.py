"""Provider registration: schema-valid provider info, and `airflow providers list` shows us."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema

from airflow_robust.get_provider_info import get_provider_info


def test_provider_info_is_valid_against_airflows_schema() -> None:
    import airflow

    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    info = get_provider_info()
    jsonschema.validate(info, schema)
    assert info["package-name"] == "airflow-robust"
    from importlib.metadata import version

    assert info["versions"][0] == version("airflow-robust")
    for dotted in [*info["extra-links"], *(c["hook-class-name"] for c in info["connection-types"])]:
        module, _, name = dotted.rpartition(".")
        assert getattr(__import__(module, fromlist=[name]), name)


def test_airflow_providers_list_shows_airflow_robust() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "airflow", "providers", "list", "--output", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=180,
        env=os.environ.copy(),
    )
    start = out.stdout.index("[")
    providers = {p["package_name"]: p for p in json.loads(out.stdout[start:])}
    assert "airflow-robust" in providers
    assert providers["airflow-robust"]["version"] == get_provider_info()["versions"][0]


def test_connection_type_and_its_fields_are_registered() -> None:
    from airflow.providers_manager import ProvidersManager
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    manager = ProvidersManager()
    hook = ProvidersManagerTaskRuntime().hooks["mlflow"]
    assert hook is not None and hook.hook_class_name == "airflow_robust.hooks.mlflow.MlflowHook"
    widgets = manager.connection_form_widgets
    assert "extra__mlflow__token" in widgets and widgets["extra__mlflow__token"].is_sensitive
    assert "extra__mlflow__registry_uri" in widgets
    assert "airflow_robust.links.MlflowRunLink" in manager.extra_links_class_names


def test_airflow_plugins_shows_the_review_page() -> None:
    """Airflow itself finds the plugin through the provider and lists its FastAPI app and UI link."""
    out = subprocess.run(
        [sys.executable, "-m", "airflow", "plugins", "--output", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=180,
        env=os.environ.copy(),
    )
    start = out.stdout.index("[")
    plugins = {p["name"]: p for p in json.loads(out.stdout[start:])}
    assert "airflow_robust" in plugins, plugins
    ours = json.dumps(plugins["airflow_robust"])
    assert "/airflow-robust" in ours and "Model reviews" in ours
