"""EvaluateRobustnessOperator.execute() on models registered by TrainModelOperator in a real MLflow store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException
from mlflow import MlflowClient

from airflow_robust.exceptions import InvalidParameterError, RobustnessCheckFailed
from airflow_robust.operators.robustness import EvaluateRobustnessOperator
from airflow_robust.operators.train import TrainModelOperator
from tests.helpers import TaskInstanceStandIn, cancer_split, context_for


def regularised() -> object:  # a user factory: impute, scale, regularised logistic regression
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))


@pytest.fixture
def cancer(tmp_path: Path) -> dict[str, str]:
    return cancer_split(tmp_path)


def train(data: str, estimator: str, run_id: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    op = TrainModelOperator(
        task_id="train",
        estimator=estimator,
        params=params or {},
        data=data,
        target="target",
        registered_model_name="cancer",
    )
    return op.execute(context_for(TaskInstanceStandIn(run_id=run_id)))


def evaluate(model_uri: str, data: str, run_id: str, **kwargs: Any) -> tuple[dict[str, Any] | None, Exception | None]:
    ti = TaskInstanceStandIn(task_id="robustness", run_id=run_id)
    op = EvaluateRobustnessOperator(
        task_id="robustness", model_uri=model_uri, data=data, **{"target": "target", **kwargs}
    )
    try:
        return op.execute(context_for(ti)), None
    except Exception as err:
        return ti.xcom.get("return_value"), err


def test_fragile_model_fails_the_gate_and_robust_model_passes(
    mlflow_store: dict[str, str], cancer: dict[str, str]
) -> None:
    client = MlflowClient(tracking_uri=mlflow_store["tracking_uri"])
    fragile = train(cancer["train"], "sklearn.neighbors:KNeighborsClassifier", "r1", {"n_neighbors": 1})
    summary, err = evaluate(fragile["model_uri"], cancer["test"], "r1")
    assert isinstance(err, RobustnessCheckFailed) and isinstance(err, AirflowFailException)
    assert summary is not None and summary["passed"] is False
    failed = [name for name, check in summary["checks"].items() if not check["passed"]]
    assert failed and all(name in str(err) for name in failed)
    tags = client.get_model_version("cancer", fragile["version"]).tags
    assert tags["robust.robustness.status"] == "failed"
    stage = client.get_run(summary["run_id"])
    assert stage.data.tags["robust.robustness.status"] == "failed"
    assert all(name in stage.data.tags["robust.robustness.reason"] for name in failed)

    robust = train(cancer["train"], "tests.operators.test_robustness_operator:regularised", "r2")
    result, err = evaluate(robust["model_uri"], cancer["test"], "r2")
    assert err is None and result is not None and result["passed"] is True
    assert set(result["checks"]) >= {"audc", "flip_rate", "worst_slice_ratio", "ece", "perturbations"}
    assert result["audc"] >= 0.9
    tags = client.get_model_version("cancer", robust["version"]).tags
    assert tags["robust.robustness.status"] == "passed" and float(tags["robust.robustness.audc"]) >= 0.9
    artifacts = {a.path for a in client.list_artifacts(result["run_id"])}
    assert {"robustness.json", "degradation_curve.png", "calibration.png", "slices.csv", "decision.json"} <= artifacts
    report = json.loads(Path(client.download_artifacts(result["run_id"], "robustness.json")).read_text())
    assert report["seed"] == 42 and "ece_binning" in report
    assert client.get_run(result["run_id"]).data.metrics["audc"] == pytest.approx(result["audc"])


def test_no_thresholds_refuses_unless_report_only(mlflow_store: dict[str, str], cancer: dict[str, str]) -> None:
    robust = train(cancer["train"], "tests.operators.test_robustness_operator:regularised", "r3")
    _summary, err = evaluate(robust["model_uri"], cancer["test"], "r3", thresholds={})
    assert isinstance(err, RobustnessCheckFailed) and "no thresholds" in str(err)
    result, err = evaluate(robust["model_uri"], cancer["test"], "r3", thresholds={}, report_only=True)
    assert err is None and result is not None and result["passed"] is True


def test_custom_thresholds_and_user_perturbation(mlflow_store: dict[str, str], cancer: dict[str, str]) -> None:
    robust = train(cancer["train"], "tests.operators.test_robustness_operator:regularised", "r4")
    result, err = evaluate(
        robust["model_uri"],
        cancer["test"],
        "r4",
        thresholds={"audc.noise": 0.95, "clean_metric": {"min": 0.9}},
        perturbations=[
            "noise",
            {"name": "swap", "function": "tests.operators.test_robustness_operator:swap", "severities": [0.1, 0.2]},
        ],
    )
    assert err is None and result is not None
    assert set(result["checks"]) == {"audc.noise", "clean_metric", "perturbations"}


def swap(frame: Any, severity: float, rng: Any) -> Any:
    """A user perturbation: swap two columns on a share of rows."""
    rows = rng.random(len(frame)) < severity
    frame.loc[rows, ["mean radius", "mean texture"]] = frame.loc[rows, ["mean texture", "mean radius"]].to_numpy()
    return frame


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"model_uri": "models:/cancer/99"}, "model_uri"),
        ({"thresholds": {"audc": "high"}}, "thresholds"),
        ({"perturbations": ["earthquake"]}, "perturbations"),
        ({"metric": "rmse"}, "metric"),
        ({"target": "nope"}, "target"),
    ],
)
def test_bad_input(
    mlflow_store: dict[str, str], cancer: dict[str, str], kwargs: dict[str, Any], parameter: str
) -> None:
    robust = train(cancer["train"], "tests.operators.test_robustness_operator:regularised", "r5")
    params = {"model_uri": robust["model_uri"], **kwargs}
    model_uri = params.pop("model_uri")
    _, err = evaluate(model_uri, cancer["test"], "r5", **params)
    assert isinstance(err, InvalidParameterError) and isinstance(err, AirflowFailException), err
    assert f"The {parameter!r} parameter of EvaluateRobustnessOperator" in str(err)
