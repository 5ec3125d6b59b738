"""Promote -> (review) -> deploy -> rollback on a real MLflow store with real scikit-learn models."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from mlflow import MlflowClient

from airflow_robust.exceptions import DeploymentRefused, PromotionRejected
from airflow_robust.operators.deploy import DeployModelOperator, RollbackModelOperator
from airflow_robust.operators.promote import PromoteModelOperator
from airflow_robust.operators.train import TrainModelOperator
from airflow_robust.registry.aliases import resolve
from airflow_robust.registry.history import read_history
from airflow_robust.registry.lease import holder_of
from airflow_robust.sensors.approval import ModelApprovalSensor
from tests.helpers import cancer_split, execute

RULES = [{"metric": "f1_macro", "direction": "higher", "min": 0.6, "max_regression": 0.0}]


@pytest.fixture
def cancer(tmp_path: Path) -> dict[str, str]:
    return cancer_split(tmp_path)


run = execute


def train(data: str, run_id: str, estimator: str, params: dict[str, Any]) -> str:
    result, err = run(
        TrainModelOperator(
            task_id="train",
            estimator=estimator,
            params=params,
            data=data,
            target="target",
            registered_model_name="cancer",
        ),
        run_id,
    )
    assert err is None and result is not None
    return str(result["version"])


def promote(data: str, version: str, run_id: str, **kw: Any) -> tuple[dict[str, Any] | None, Exception | None]:
    args = {"rules": RULES, "required_gates": [], "approval": "auto", **kw}
    return run(
        PromoteModelOperator(
            task_id="promote",
            model_name="cancer",
            candidate_version=version,
            evaluation_data=data,
            target="target",
            **args,
        ),
        run_id,
    )


def deploy(version: str, run_id: str, **kw: Any) -> tuple[dict[str, Any] | None, Exception | None]:
    return run(DeployModelOperator(task_id="deploy", model_name="cancer", version=version, **kw), run_id)


def test_promotion_review_deploy_and_rollback(mlflow_store: dict[str, str], cancer: dict[str, str]) -> None:
    client = MlflowClient(tracking_uri=mlflow_store["tracking_uri"])
    good = train(cancer["train"], "r1", "sklearn.linear_model:LogisticRegression", {"C": 0.01, "max_iter": 5000})

    # 1. no champion: rubber stamp, recorded; the lease is kept for this DAG run's deploy
    result, err = promote(cancer["test"], good, "r1")
    assert err is None and result is not None
    assert result["decision"] == "promoted" and result["rubber_stamp"] is True and result["champion_version"] is None
    assert result["checks"]["f1_macro:vs_champion"]["outcome"] == "NO_BASELINE"
    assert holder_of(client, "cancer") is not None
    deployed, err = deploy(good, "r1", sample_data=cancer["test"])
    assert err is None and deployed is not None and deployed["serving_check"]["passed"] is True
    assert resolve(client, "cancer", "champion") == good and holder_of(client, "cancer") is None

    # 2. a worse candidate is rejected on the same data; nothing moves
    weak = train(cancer["train"], "r2", "sklearn.tree:DecisionTreeClassifier", {"max_depth": 1})
    result, err = promote(cancer["test"], weak, "r2")
    assert isinstance(err, PromotionRejected) and result is not None and result["decision"] == "rejected"
    assert result["champion_version"] == good and "regresses" in str(err)
    assert client.get_model_version("cancer", weak).tags["robust.promotion.status"] == "failed"
    assert resolve(client, "cancer", "champion") == good and holder_of(client, "cancer") is None
    _, err = deploy(weak, "r2")
    assert isinstance(err, DeploymentRefused) and "not cleared for deployment" in str(err)
    assert resolve(client, "cancer", "champion") == good

    # 3. manual review: challenger alias, pending tag, description; deploy waits for approval
    strong = train(cancer["train"], "r3", "tests.operators.test_robustness_operator:regularised", {})  # scaled
    result, err = promote(cancer["test"], strong, "r3", approval="manual", bootstrap_resamples=200)
    assert err is None and result is not None and result["decision"] == "pending_approval"
    version = client.get_model_version("cancer", strong)
    assert version.tags["robust.approval"] == "pending" and resolve(client, "cancer", "challenger") == strong
    assert "| f1_macro:vs_champion | PASS |" in version.description and "robust.approval" in version.description
    assert len(result["data_digest"]) == 16 and holder_of(client, "cancer") is None
    # the review page: evaluation data named, intervals shown, the decision run's comparison plot one click away
    assert f"both scored on `{cancer['test']}`" in version.description
    assert result["identical_to_champion"] is False and result["same_predictions_as_champion"] is False
    low, high = result["intervals"]["f1_macro"]
    assert low <= result["checks"]["f1_macro:vs_champion"]["improvement"] <= high
    assert f"[{low:.4g}, {high:.4g}]" in version.description
    assert set(result["plots"]) == {"comparison"}  # no robustness gate in this DAG: no robustness curve
    assert "champion_vs_challenger.png" in {a.path for a in client.list_artifacts(result["run_id"])}
    decision_row = next(row for row in result["evidence"] if row["gate"] == "promotion")
    plot = next(link["url"] for link in decision_row["links"] if link["label"] == "comparison")
    assert plot.endswith(f"/runs/{result['run_id']}/artifacts/champion_vs_challenger.png")
    assert plot in version.description
    _, err = deploy(strong, "r3")
    assert isinstance(err, DeploymentRefused) and "0 verified approval(s)" in str(err)
    client.set_model_version_tag("cancer", strong, "robust.approval", "Approved ")  # what the reviewer does in the UI
    client.set_model_version_tag("cancer", strong, "robust.approval.by", "alice")
    _, err = deploy(strong, "r3")  # a tag alone is not an approval: the sensor has not signed it
    assert isinstance(err, DeploymentRefused) and "0 verified approval(s)" in str(err)
    approved, err = run(ModelApprovalSensor(task_id="approval", model_name="cancer", version=strong), "r3")
    assert err is None and approved is not None and approved["status"] == "approved"
    assert approved["by"] == "alice" and approved["verified"] is False and approved["source"] == "mlflow-tag"
    assert client.get_model_version("cancer", strong).tags["robust.approval"] == "approved"  # normalised
    deployed, err = deploy(strong, "r3")
    assert err is None and deployed is not None and deployed["previous_version"] == good
    assert resolve(client, "cancer", "champion") == strong and resolve(client, "cancer", "previous_champion") == good
    assert resolve(client, "cancer", "challenger") is None
    history = read_history(client, "cancer", "champion")
    assert [(h["from"], h["to"], h["action"]) for h in history] == [("", good, "deploy"), (good, strong, "deploy")]
    assert history[1]["who"] == "alice (unverified)" and [h["seq"] for h in history] == [1, 2]
    description = client.get_model_version("cancer", strong).description
    assert description.startswith("<!-- airflow-robust status -->\n**Status: deployed to \\@champion")
    assert "pending approval" not in description and "To review" not in description

    # 4. rollback restores the previous version; twice is harmless
    for attempt in ("r4", "r5"):
        rolled, err = run(RollbackModelOperator(task_id="rollback", model_name="cancer", reason="bad canary"), attempt)
        assert err is None and rolled is not None
        assert resolve(client, "cancer", "champion") == good
    history = read_history(client, "cancer", "champion")
    assert [(h["from"], h["to"], h["action"]) for h in history][-1] == (strong, good, "rollback")
    assert len(history) == 3 and history[-1]["why"] == "bad canary"
    # in the MLflow UI the move reads without decoding: what changed first, a UTC time, a description
    move = client.get_run(history[-1]["run_id"])
    assert move.info.run_name == f"{strong} -> {good} rollback @champion cancer"
    assert history[-1]["when"].endswith(" UTC") and history[-1]["when"][:4].isdigit()
    note = move.data.tags["mlflow.note.content"]
    assert f"version {strong} -> {good}** (rollback, move 3) at {history[-1]['when']}" in note
    assert "Why: bad canary." in note
    rolled_back = client.get_model_version("cancer", strong).description
    assert "**Status: rolled back: \\@champion moved to version" in rolled_back


def test_unscorable_champion_is_an_error_never_a_rubber_stamp(
    mlflow_store: dict[str, str], cancer: dict[str, str]
) -> None:
    client = MlflowClient(tracking_uri=mlflow_store["tracking_uri"])
    first = train(cancer["train"], "r1", "sklearn.linear_model:LogisticRegression", {"max_iter": 5000})
    assert promote(cancer["test"], first, "r1")[1] is None
    assert deploy(first, "r1")[1] is None
    # the champion's model files disappear from artifact storage
    source = client.get_model_version("cancer", first).source
    location = client.get_logged_model(source.split("/")[-1]).artifact_location
    shutil.rmtree(location.removeprefix("file://"))
    second = train(cancer["train"], "r2", "sklearn.ensemble:RandomForestClassifier", {"n_estimators": 50})
    result, err = promote(cancer["test"], second, "r2")
    assert isinstance(err, PromotionRejected) and result is not None
    assert result["checks"]["f1_macro:vs_champion"]["outcome"] == "ERROR" and result["rubber_stamp"] is False
    assert resolve(client, "cancer", "champion") == first


def test_required_gate_missing_blocks_promotion(mlflow_store: dict[str, str], cancer: dict[str, str]) -> None:
    client = MlflowClient(tracking_uri=mlflow_store["tracking_uri"])
    version = train(cancer["train"], "r1", "sklearn.linear_model:LogisticRegression", {"max_iter": 5000})
    result, err = promote(cancer["test"], version, "r1", required_gates=["validation", "robustness"])
    assert isinstance(err, PromotionRejected) and result is not None
    assert result["checks"]["gate:robustness"]["outcome"] == "FAIL"
    assert "add EvaluateRobustnessOperator" in result["checks"]["gate:robustness"]["reason"]
    assert resolve(client, "cancer", "champion") is None and holder_of(client, "cancer") is None
    # tags written by hand (anyone with EDIT rights can) are not gate results
    client.set_model_version_tag("cancer", version, "robust.validation.status", "passed")
    client.set_model_version_tag("cancer", version, "robust.robustness.status", "passed")
    result, err = promote(cancer["test"], version, "r1b", required_gates=["validation", "robustness"])
    assert isinstance(err, PromotionRejected) and result is not None and result["decision"] == "rejected"
    assert result["checks"]["gate:robustness"]["outcome"] == "FAIL"
    # without required gates the same version promotes: the refusal above came from the missing evidence
    result, err = promote(cancer["test"], version, "r1c", required_gates=[])
    assert err is None and result is not None and result["decision"] == "promoted"
