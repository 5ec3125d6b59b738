"""Any model, any training code: every flavor through the whole gated loop with dag.test().

The example DAG ``robust_bring_your_own_model`` (the README recipe) trains in the user's own task
(their library, their ``log_model``, their ``mlflow.set_experiment``) with airflow-robust's
operators around it: validate -> train -> register -> robustness -> promote -> approval (a reviewer
in the MLflow UI, played by a thread) -> deploy -> batch scoring -> monitoring. Real data:
scikit-learn's bundled wine (3 classes) and diabetes (regression) sets.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from airflow_robust.registry.aliases import resolve
from tests.system.test_example_dags import client_for, load_dag

pytestmark = pytest.mark.system

CASES = [
    # flavor, task, flavor it is loaded with, class probabilities?
    ("sklearn-pipeline", "classification", "sklearn", True),
    ("sklearn-tree", "classification", "sklearn", True),
    ("sklearn-linear", "regression", "sklearn", False),
    ("xgboost", "regression", "xgboost", False),
    ("lightgbm", "classification", "lightgbm", True),
    ("lightgbm", "regression", "lightgbm", False),
    ("pyfunc-proba", "classification", "pyfunc", True),
    ("pyfunc-labels", "classification", "pyfunc", False),
    ("pyfunc-linear", "regression", "pyfunc", False),
]
DAG_ID = "robust_bring_your_own_model"


@pytest.fixture
def reviewer(airflow_db: Path) -> Iterator[None]:
    """A person approving every pending version in the MLflow UI (the ``robust.approval`` tag)."""
    client = client_for(airflow_db)
    stop = threading.Event()

    def approve() -> None:
        while not stop.is_set():
            try:
                pending = client.search_model_versions("tags.`robust.approval` = 'pending'")
            except Exception:  # the store may not exist yet
                pending = []
            for version in pending:
                client.set_model_version_tag(
                    version.name, version.version, "robust.approval.by", "reviewer@example.com"
                )
                client.set_model_version_tag(version.name, version.version, "robust.approval", "approved")
            time.sleep(0.5)

    thread = threading.Thread(target=approve, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=10)


def run(conf: dict[str, str], day: int) -> tuple[Any, dict[str, Any]]:
    when = datetime(2026, 6, 1, tzinfo=timezone.utc).replace(day=day)
    dag_run = load_dag(DAG_ID).test(logical_date=when, run_after=when, run_conf=conf)
    return dag_run, {ti.task_id: ti.state for ti in dag_run.get_task_instances()}


def xcom(dag_run: Any, task_id: str) -> Any:
    return dag_run.get_task_instance(task_id).xcom_pull(task_ids=task_id)


def model_name(flavor: str, kind: str) -> str:
    return f"byom_{flavor.replace('-', '_')}_{kind}"


@pytest.mark.parametrize(("flavor", "kind", "loaded_as", "probabilities"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_every_flavor_passes_every_gate(
    airflow_db: Path, reviewer: None, flavor: str, kind: str, loaded_as: str, probabilities: bool
) -> None:
    day = 1 + CASES.index(next(c for c in CASES if c[:2] == (flavor, kind)))
    dag_run, states = run({"flavor": flavor, "task": kind}, day)
    assert dag_run.state == "success" and set(states.values()) == {"success"}, states
    client = client_for(airflow_db)
    name = model_name(flavor, kind)
    version = xcom(dag_run, "register")["version"]
    assert resolve(client, name, "champion") == version
    tags = client.get_model_version(name, version).tags
    assert tags["airflow.dag_id"] == DAG_ID and tags["robust.data.digest"] and tags["robust.registration.run_id"]
    assert tags["robust.validation.status"] == "passed"  # the validation before the user's task counts
    robustness = xcom(dag_run, "robustness")
    assert robustness["model_flavor"] == loaded_as and robustness["status"] == "passed"
    if kind == "classification":
        assert ("ece" in robustness["skipped"]) is not probabilities, robustness["skipped"]
        assert (robustness["ece"] is not None) is probabilities
    promote = xcom(dag_run, "promote")
    assert promote["gates"] == {"registration": "passed", "validation": "passed", "robustness": "passed"}
    assert xcom(dag_run, "approval")["by"] == "reviewer@example.com"
    scored = pd.read_parquet(xcom(dag_run, "export")["scored"])
    proba = [c for c in scored.columns if c.startswith("proba_")]
    assert bool(proba) is probabilities and scored["model_version"].astype(str).eq(version).all()
    monitor = xcom(dag_run, "monitor")
    assert monitor["status"] in ("passed", "warned") and monitor["current_rows"] == len(scored)
    assert monitor["model_uri"] == f"models:/{name}/{version}" and monitor["drift"] is False


def test_the_readme_recipe_with_xgboost_reaches_champion_and_a_worse_model_is_rejected(
    airflow_db: Path, reviewer: None
) -> None:
    client = client_for(airflow_db)
    name = model_name("xgboost", "classification")
    good_run, states = run({"flavor": "xgboost", "task": "classification"}, 20)
    assert good_run.state == "success" and set(states.values()) == {"success"}, states
    good = xcom(good_run, "register")["version"]
    assert resolve(client, name, "champion") == good
    assert xcom(good_run, "robustness")["ece"] is not None  # XGBClassifier's own predict_proba

    worse_run, states = run({"flavor": "xgboost", "task": "classification", "quality": "worse"}, 21)
    decision = xcom(worse_run, "promote")
    assert decision["decision"] == "rejected", decision["checks"]
    assert decision["checks"]["f1_macro:vs_champion"]["outcome"] == "FAIL"
    assert states["promote"] == "skipped" and states["deploy"] == "skipped"
    assert resolve(client, name, "champion") == good
