"""A stage is a plain function: the robustness gate runs on a real scikit-learn model and real data in a fresh
interpreter with a request object, ``LocalStorage`` and a real SQLite MLflow store, and Airflow is never
imported. Its verdict is signed into the run, and a verdict that fails is returned, not raised (settling it is
the operator's job)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent(
    """
    import json, logging, sys
    from dataclasses import dataclass, field

    import mlflow
    from mlflow import MlflowClient
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier

    from airflow_robust.data.access import LocalStorage
    from airflow_robust.robustness.stage import evaluate_robustness
    from airflow_robust.training.record import trusted_types
    from airflow_robust.tracking.config import MlflowConfig
    from airflow_robust.tracking.identity import StageIdentity
    from airflow_robust.tracking.runs import stage_run
    from airflow_robust.trust.gate import Signer
    from airflow_robust.trust.signing import SigningKey

    root = sys.argv[1]
    uri = f"sqlite:///{root}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    config = MlflowConfig(tracking_uri=uri, registry_uri=None, backend="embedded", artifact_root=f"file://{root}/a")
    frame = load_breast_cancer(as_frame=True).frame
    frame.to_csv(f"{root}/holdout.csv", index=False)
    x, y = frame.drop(columns="target"), frame["target"]
    with mlflow.start_run():
        model = RandomForestClassifier(n_estimators=50, random_state=0).fit(x, y)  # takes missing values
        model_uri = mlflow.sklearn.log_model(
            model, name="model", serialization_format="skops", skops_trusted_types=trusted_types(model)
        ).model_uri
    version = mlflow.register_model(model_uri, "cancer").version

    class Tracking:
        def get_client(self): return MlflowClient(uri)
        def get_config(self): return config
        def unavailable(self, err): raise AssertionError(err)

    key = SigningKey(b"k" * 32, "test")

    @dataclass
    class Request:
        thresholds: object
        model_uri: str = f"models:/cancer/{version}"
        data: str = f"{root}/holdout.csv"
        target: str = "target"
        on_failure: str = "fail"
        report_only: bool = False
        perturbations: object = None
        metric: object = None
        task: str = "auto"
        features: object = None
        slice_columns: object = None
        min_slice_size: int = 30
        seed: int = 42
        conn_id: object = None
        data_format: object = None
        storage: object = field(default_factory=LocalStorage)
        log: object = logging.getLogger("stage")

        def signer(self, run, tracking): return Signer(tracking.get_client(), run, key)

    out = {}
    for name, thresholds in (("lenient", "default"), ("impossible", {"clean_metric": {"min": 1.01}})):
        identity = StageIdentity(dag_id="no_airflow", run_id=name, task_id="robustness")
        with stage_run(Tracking().get_client(), identity, "robustness", config.artifact_root) as run:
            verdict = evaluate_robustness(Request(thresholds=thresholds), run, Tracking())
        files = [f.path for f in MlflowClient(uri).list_artifacts(run.run_id)]
        out[name] = {"passed": verdict.passed, "gate": verdict.gate, "status": verdict.summary["status"],
                     "digest": verdict.summary.get("model_digest"), "files": files, "reason": verdict.reason}
    out["airflow_imported"] = sorted(m for m in sys.modules if m == "airflow" or m.startswith("airflow."))
    print(json.dumps(out))
    """
)


@pytest.mark.slow
def test_the_robustness_stage_runs_and_signs_without_airflow(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}  # an earlier test's experiment
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=600, check=False, env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["airflow_imported"] == []
    lenient, impossible = out["lenient"], out["impossible"]
    assert (lenient["gate"], lenient["passed"], lenient["status"]) == ("robustness", True, "passed"), lenient["reason"]
    assert (impossible["passed"], impossible["status"]) == (False, "failed")  # returned, not raised
    for verdict in (lenient, impossible):
        assert len(verdict["digest"]) >= 16  # bound to the model's files
        assert {"decision.json", "attestation.json"} <= set(verdict["files"])
