"""Measure what importing the DAG-facing modules costs on top of ``import airflow.sdk``.

Run in a fresh interpreter (``python -m airflow_robust._parse_cost``); prints one JSON line.
Used by the parse-cost test and by ``bench/parse_cost.py``. Imports nothing heavy itself.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import time

HEAVY = ("pandas", "numpy", "scipy", "sklearn", "great_expectations", "mlflow", "pyarrow", "skops")
DAG_FACING = ("airflow_robust.operators", "airflow_robust.sensors", "airflow_robust.triggers", "airflow_robust.hooks")


def dag_facing_modules() -> list[str]:
    names = [
        "airflow_robust",
        "airflow_robust.links",
        "airflow_robust.exceptions",
        "airflow_robust.get_provider_info",
        "airflow_robust.stage",
    ]
    for package_name in DAG_FACING:
        try:
            package = importlib.import_module(package_name)
        except ModuleNotFoundError:
            continue
        names.append(package_name)
        names.extend(info.name for info in pkgutil.iter_modules(package.__path__, f"{package_name}."))
    return names


def loaded_heavy() -> list[str]:
    return sorted({name.split(".")[0] for name in sys.modules if name.split(".")[0] in HEAVY})


def main() -> None:
    start = time.perf_counter()
    import airflow.sdk  # noqa: F401

    sdk_seconds = time.perf_counter() - start
    heavy_after_sdk = loaded_heavy()
    start = time.perf_counter()
    modules = dag_facing_modules()
    for name in modules:
        importlib.import_module(name)
    added_seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "sdk_seconds": sdk_seconds,
                "added_seconds": added_seconds,
                "modules": modules,
                "heavy_after_sdk": heavy_after_sdk,
                "heavy_after_ours": loaded_heavy(),
            }
        )
    )


if __name__ == "__main__":
    main()
