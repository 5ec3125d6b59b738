"""Gates that break: an internal crash, a corrupted model or an unreadable champion never promotes.

Each case runs the whole gated chain on a real MLflow store with real scikit-learn models on
breast_cancer: validate -> train -> robustness -> promote (approval="auto", every gate
required) -> deploy, against a champion already in place. A fault is injected at one point;
afterwards ``@champion``, the alias history and every other alias must be exactly as before,
and no version other than the champion may carry a passed promotion. The control case (no
fault) shows the same chain does promote the candidate, so the matrix could fail.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mlflow import MlflowClient

from airflow_robust.exceptions import DeploymentRefused
from airflow_robust.operators.deploy import DeployModelOperator
from airflow_robust.operators.promote import PromoteModelOperator
from airflow_robust.operators.robustness import EvaluateRobustnessOperator
from airflow_robust.operators.train import TrainModelOperator
from airflow_robust.operators.validate import ValidateDataOperator
from airflow_robust.registry.aliases import resolve
from airflow_robust.registry.history import read_history
from tests.helpers import cancer_split, execute

MODEL = "cancer"
RULES = [{"metric": "f1_macro", "direction": "higher", "min": 0.6, "max_regression": 0.0}]
EXPECTATIONS = [
    {"type": "expect_column_to_exist", "kwargs": {"column": "mean radius"}},
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "mean radius"}},
    {"type": "expect_column_values_to_be_between", "kwargs": {"column": "mean radius", "min_value": 0}},
]
STRONG = "tests.operators.test_robustness_operator:regularised"


@pytest.fixture
def cancer(tmp_path: Path) -> dict[str, str]:
    return cancer_split(tmp_path)


run = execute


def promote_op(cancer: dict[str, str], version: str, required_gates: list[str]) -> PromoteModelOperator:
    """The promotion step of every case: automatic approval, no regression against @champion."""
    return PromoteModelOperator(
        task_id="promote",
        model_name=MODEL,
        candidate_version=version,
        rules=RULES,
        evaluation_data=cancer["test"],
        target="target",
        approval="auto",
        required_gates=required_gates,
    )


def model_dir(client: MlflowClient, version: str) -> Path:
    source = client.get_model_version(MODEL, version).source
    location = client.get_logged_model(source.split("/")[-1]).artifact_location
    return Path(location.removeprefix("file://"))


def corrupt(directory: Path) -> None:
    """Overwrite every model file with garbage of the same size (a torn or bit-rotted upload)."""
    files = [p for p in directory.rglob("*") if p.is_file() and p.name not in ("MLmodel",)]
    assert files, directory
    for path in files:
        path.write_bytes(b"\x00garbage\xff" * max(1, path.stat().st_size // 9))


@pytest.fixture
def champion(mlflow_store: dict[str, str], cancer: dict[str, str]) -> str:
    result, err = run(
        TrainModelOperator(
            task_id="train",
            estimator="sklearn.tree:DecisionTreeClassifier",
            params={"max_depth": 1},
            data=cancer["train"],
            target="target",
            registered_model_name=MODEL,
        ),
        "r0",
    )
    assert err is None and result is not None
    version = str(result["version"])
    promoted, err = run(
        promote_op(cancer, version, required_gates=[]),
        "r0",
    )
    assert err is None and promoted is not None and promoted["decision"] == "promoted"
    assert run(DeployModelOperator(task_id="deploy", model_name=MODEL, version=version), "r0")[1] is None
    return version


Fault = Callable[[pytest.MonkeyPatch, MlflowClient, str, str], None]
#: a fault is injected (patches for this stage, client, stage about to run, candidate version or "")


def chain(cancer: dict[str, str], client: MlflowClient, fault: Fault | None) -> dict[str, Exception | None]:
    """validate -> train -> robustness -> promote -> deploy of one DAG run; every task runs
    (as with ``trigger_rule="all_done"``), so a later gate must catch what an earlier one missed."""
    errors: dict[str, Exception | None] = {}
    version = ""

    def stage(name: str, op: Any) -> dict[str, Any] | None:
        with pytest.MonkeyPatch.context() as patches:  # a patch lasts for this stage only
            if fault is not None:
                fault(patches, client, name, version)
            result, errors[name] = run(op, "r1")
        return result

    stage("validate", ValidateDataOperator(task_id="validate", data=cancer["train"], expectations=EXPECTATIONS))
    trained = stage(
        "train",
        TrainModelOperator(
            task_id="train", estimator=STRONG, data=cancer["train"], target="target", registered_model_name=MODEL
        ),
    )
    assert trained is not None, errors["train"]
    version = str(trained["version"])
    stage(
        "robustness",
        EvaluateRobustnessOperator(
            task_id="robustness", model_uri=f"models:/{MODEL}/{version}", data=cancer["test"], target="target"
        ),
    )
    stage(
        "promote",
        promote_op(cancer, version, required_gates=["validation", "robustness"]),
    )
    stage(
        "deploy",
        DeployModelOperator(task_id="deploy", model_name=MODEL, version=version, sample_data=cancer["test"]),
    )
    return errors


def _raise(message: str) -> Callable[..., Any]:
    def crash(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError(message)

    return crash


def gx_internal_error(mp: pytest.MonkeyPatch, _client: MlflowClient, stage: str, _version: str) -> None:
    if stage == "validate":
        import great_expectations as gx

        mp.setattr(gx.Checkpoint, "run", _raise("GX internal error: checkpoint store exploded"))


def robustness_evaluation_crash(mp: pytest.MonkeyPatch, _client: MlflowClient, stage: str, _version: str) -> None:
    if stage == "robustness":
        from airflow_robust.robustness import evaluate

        mp.setattr(evaluate, "evaluate", _raise("robustness evaluation crashed"))


def promotion_evaluation_crash(mp: pytest.MonkeyPatch, _client: MlflowClient, stage: str, _version: str) -> None:
    if stage == "promote":
        from airflow_robust.promotion import compare

        mp.setattr(compare, "predict", _raise("scoring crashed"))


def corrupted_candidate(_mp: pytest.MonkeyPatch, client: MlflowClient, stage: str, version: str) -> None:
    if stage == "robustness":  # right after training registered it
        corrupt(model_dir(client, version))


def corrupted_candidate_after_promotion(
    _mp: pytest.MonkeyPatch, client: MlflowClient, stage: str, version: str
) -> None:
    if stage == "deploy":  # every gate and the promotion passed; the files rot before deploy
        corrupt(model_dir(client, version))


def unreadable_champion(_mp: pytest.MonkeyPatch, client: MlflowClient, stage: str, _version: str) -> None:
    if stage == "promote":
        shutil.rmtree(model_dir(client, str(resolve(client, MODEL, "champion"))))


def corrupted_champion(_mp: pytest.MonkeyPatch, client: MlflowClient, stage: str, _version: str) -> None:
    if stage == "promote":
        corrupt(model_dir(client, str(resolve(client, MODEL, "champion"))))


FAULTS: dict[str, tuple[Fault, str, str, str]] = {
    # name: (fault, the stage that fails, what it says, what promote says)
    "gx_internal_error": (gx_internal_error, "validate", "GX internal error", "no validation gate result"),
    "robustness_evaluation_crash": (
        robustness_evaluation_crash,
        "robustness",
        "robustness evaluation crashed",
        "no robustness gate result",
    ),
    "promotion_evaluation_crash": (
        promotion_evaluation_crash,
        "promote",
        "candidate could not be scored: RuntimeError: scoring crashed",
        "candidate could not be scored",
    ),
    "corrupted_candidate_artifact": (
        corrupted_candidate,
        "robustness",
        "'model_uri' parameter of EvaluateRobustnessOperator must be the URI of a loadable MLflow model",
        "candidate could not be scored",
    ),
    "corrupted_artifact_after_promotion": (
        corrupted_candidate_after_promotion,
        "deploy",
        "the model changed after the gate ran",
        "",
    ),
    "unreadable_champion": (
        unreadable_champion,
        "promote",
        "champion could not be scored",
        "champion could not be scored",
    ),
    "corrupted_champion_artifact": (
        corrupted_champion,
        "promote",
        "champion could not be scored: BadZipFile",
        "champion could not be scored",
    ),
}


def registry_state(client: MlflowClient) -> dict[str, Any]:
    versions = client.search_model_versions(f"name = '{MODEL}'")
    return {
        "aliases": {k: str(v) for k, v in sorted(client.get_registered_model(MODEL).aliases.items())},
        "history": [(h["from"], h["to"], h["action"]) for h in read_history(client, MODEL, "champion")],
        "promoted": sorted(v.version for v in versions if v.tags.get("robust.promotion.status") == "passed"),
    }


def test_control_without_a_fault_the_chain_promotes(
    mlflow_store: dict[str, str], cancer: dict[str, str], champion: str
) -> None:
    client = MlflowClient(tracking_uri=mlflow_store["tracking_uri"])
    errors = chain(cancer, client, None)
    assert all(err is None for err in errors.values()), errors
    assert resolve(client, MODEL, "champion") != champion
    assert len(read_history(client, MODEL, "champion")) == 2


@pytest.mark.parametrize("name", FAULTS)
def test_a_broken_gate_promotes_nothing(
    name: str, mlflow_store: dict[str, str], cancer: dict[str, str], champion: str
) -> None:
    client = MlflowClient(tracking_uri=mlflow_store["tracking_uri"])
    before = registry_state(client)
    assert before["aliases"] == {"champion": champion}
    fault, failing, says, promote_says = FAULTS[name]
    errors = chain(cancer, client, fault)
    assert says in str(errors[failing]), (name, errors)
    assert promote_says in str(errors["promote"] or ""), (name, errors)
    # fail closed: whatever the gate could not decide, deploy never ran through
    assert isinstance(errors["deploy"], DeploymentRefused), errors
    after = registry_state(client)
    if failing == "deploy":  # promotion itself passed; only the deployment had to refuse
        assert after["promoted"] == [*before["promoted"], max(after["promoted"], key=int)]
        assert after["aliases"] == before["aliases"] and after["history"] == before["history"]
    else:
        assert after == before, (name, errors)


@pytest.mark.parametrize("stage", ["robustness", "promote"])
def test_an_outage_while_loading_a_model_is_retried_not_judged(
    stage: str, mlflow_store: dict[str, str], cancer: dict[str, str], champion: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tracking server goes away just as a gate loads a model: a retryable error, no verdict."""
    from mlflow.exceptions import MlflowException

    from airflow_robust.exceptions import TrackingUnavailable
    from airflow_robust.registry import models

    client = MlflowClient(tracking_uri=mlflow_store["tracking_uri"])
    trained, err = run(
        TrainModelOperator(
            task_id="train", estimator=STRONG, data=cancer["train"], target="target", registered_model_name=MODEL
        ),
        "r1",
    )
    assert err is None and trained is not None
    version = str(trained["version"])
    before = registry_state(client)

    def unreachable(uri: str, dst: str) -> Any:
        raise MlflowException(
            f"API request to http://127.0.0.1:1/api/2.0/mlflow/model-versions/get failed with exception "
            f"HTTPConnectionPool(host='127.0.0.1', port=1): Max retries exceeded ({uri})"
        )

    monkeypatch.setattr(models, "fetch_model", unreachable)  # every gate fetches the model files once
    op: Any = (
        EvaluateRobustnessOperator(
            task_id="robustness", model_uri=f"models:/{MODEL}/{version}", data=cancer["test"], target="target"
        )
        if stage == "robustness"
        else promote_op(cancer, version, required_gates=[])
    )
    _, err = run(op, "r1")
    assert isinstance(err, TrackingUnavailable) and err.retryable, err
    tags = client.get_model_version(MODEL, version).tags
    assert f"robust.{'robustness' if stage == 'robustness' else 'promotion'}.status" not in tags, tags
    assert registry_state(client) == before
