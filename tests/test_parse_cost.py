"""DAG-parse cost: importing every DAG-facing module adds no heavy library to `import airflow.sdk`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import tomllib

from airflow_robust._parse_cost import HEAVY

ROOT = Path(__file__).resolve().parent.parent


def measure() -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-m", "airflow_robust._parse_cost"], capture_output=True, text=True, check=True, timeout=120
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_operator_sensor_hook_modules_load_no_heavy_library() -> None:
    result = measure()
    modules = result["modules"]
    assert isinstance(modules, list)
    assert "airflow_robust.operators.train" in modules and "airflow_robust.hooks.mlflow" in modules
    added = set(result["heavy_after_ours"]) - set(result["heavy_after_sdk"])  # type: ignore[arg-type]
    assert added == set(), f"importing DAG-facing modules loaded {sorted(added)}"


def test_ruff_ban_list_matches_the_heavy_list() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    banned = set(config["tool"]["ruff"]["lint"]["flake8-tidy-imports"]["banned-module-level-imports"])
    assert banned == set(HEAVY)
