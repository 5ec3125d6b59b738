"""``airflow_robust.celery``: free to import, and a Celery worker's ``import_modules`` signal preloads the gates'
libraries (in a fresh interpreter each, as a scheduler and a worker would start)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from airflow_robust._parse_cost import HEAVY

SCHEDULER = """
import json, sys
from airflow.providers.celery.executors.celery_executor_utils import get_celery_configuration
config = get_celery_configuration()
import airflow_robust.celery
print(json.dumps({"heavy": sorted({m.split('.')[0] for m in sys.modules} & set(HEAVY)),
                  "broker": config["broker_url"], "ours": config is airflow_robust.celery.CELERY_CONFIG}))
"""

WORKER = """
import json, sys
from celery.signals import import_modules
import airflow_robust.celery
before = sorted({m.split('.')[0] for m in sys.modules} & set(HEAVY))
import_modules.send(sender=None)  # what `celery worker` sends before it forks its pool
after = sorted({m.split('.')[0] for m in sys.modules} & set(HEAVY))
print(json.dumps({"before": before, "after": after}))
"""


def _run(code: str, **env: str) -> dict[str, Any]:
    import os

    done = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{code}"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **env},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_the_celery_config_is_airflows_and_costs_the_scheduler_nothing() -> None:
    out = _run(
        SCHEDULER,
        AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS="airflow_robust.celery.CELERY_CONFIG",
        AIRFLOW__CELERY__BROKER_URL="redis://127.0.0.1:6379/9",
    )
    assert out["broker"] == "redis://127.0.0.1:6379/9"  # Airflow's own configuration, settings applied
    assert out["ours"] is True
    assert out["heavy"] == []


def test_a_worker_preloads_what_the_gates_import() -> None:
    out = _run(WORKER)
    assert not {"mlflow", "great_expectations", "sklearn", "pandas"} & set(out["before"])
    assert {"mlflow", "great_expectations", "sklearn", "pandas", "scipy", "pyarrow"} <= set(out["after"])
