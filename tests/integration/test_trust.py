"""Forgeries against a real MLflow server with basic auth: each one ends with @champion unchanged.

The pipeline's operators reach the server as the service account ``admin`` through the Airflow
connection ``mlflow_default``; the attacker ``mallory`` is a second MLflow user with EDIT rights on
everything (she can write tags, runs, artifacts and versions, as a teammate could), but she does
not hold the Airflow signing key. A control run without tampering deploys, so every refusal here
is caused by the forgery it names.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException
from mlflow import MlflowClient

from airflow_robust.exceptions import (
    DeploymentRefused,
    PromotionRejected,
    RobustnessCheckFailed,
    TrackingAuthError,
)
from airflow_robust.operators.deploy import DeployModelOperator
from airflow_robust.operators.promote import PromoteModelOperator
from airflow_robust.operators.robustness import EvaluateRobustnessOperator
from airflow_robust.operators.train import TrainModelOperator
from airflow_robust.operators.validate import ValidateDataOperator
from airflow_robust.registry.aliases import resolve
from airflow_robust.registry.history import read_history
from airflow_robust.sensors.approval import ModelApprovalSensor
from airflow_robust.trust.signing import SigningKey, sign
from tests.helpers import cancer_split, execute
from tests.integration.auth_server import AuthServer
from tests.integration.conftest import require_services

pytestmark = pytest.mark.integration

SIGNING_KEY = "it-signing-key-" + "x" * 24
RULES = [{"metric": "f1_macro", "direction": "higher", "min": 0.6, "max_regression": 0.0}]
EXPECTATIONS = [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "mean radius"}}]
ROBUST = "tests.operators.test_robustness_operator:regularised"


@pytest.fixture(scope="module")
def server() -> Iterator[AuthServer]:
    require_services()
    running = AuthServer(Path(tempfile.mkdtemp(prefix="airflow-robust-auth-"))).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def mallory(server: AuthServer) -> str:
    return server.create_user("mallory")


@pytest.fixture
def pipeline(server: AuthServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """The Airflow side: the MLflow connection (service account) and the signing key; real data."""
    connection = {"conn_type": "mlflow", "host": server.url, "login": server.admin, "password": server.admin_password}
    monkeypatch.setenv("AIRFLOW_CONN_MLFLOW_DEFAULT", json.dumps(connection))
    monkeypatch.setenv(
        "AIRFLOW_CONN_AIRFLOW_ROBUST_SIGNING", json.dumps({"conn_type": "generic", "password": SIGNING_KEY})
    )
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return cancer_split(tmp_path)


def admin(server: AuthServer) -> Any:
    return server.as_user(server.admin, server.admin_password)


def client_of(server: AuthServer) -> MlflowClient:
    return MlflowClient(tracking_uri=server.url)


def ok(result: tuple[dict[str, Any] | None, Exception | None]) -> dict[str, Any]:
    value, err = result
    assert err is None, err
    assert value is not None
    return value


def gated_version(name: str, data: dict[str, str], run_id: str, estimator: str = ROBUST, **params: Any) -> str:
    """validate -> train -> robustness in one DAG run (the robustness gate may fail: returned anyway)."""
    ok(execute(ValidateDataOperator(task_id="validate", data=data["train"], expectations=EXPECTATIONS), run_id))
    trained = ok(
        execute(
            TrainModelOperator(
                task_id="train",
                estimator=estimator,
                params=params,
                data=data["train"],
                target="target",
                registered_model_name=name,
            ),
            run_id,
        )
    )
    execute(
        EvaluateRobustnessOperator(
            task_id="robustness", model_uri=trained["model_uri"], data=data["test"], target="target"
        ),
        run_id,
    )
    return str(trained["version"])


def promote(name: str, version: str, data: dict[str, str], run_id: str, **kw: Any) -> Any:
    op = PromoteModelOperator(
        task_id="promote",
        model_name=name,
        candidate_version=version,
        rules=RULES,
        evaluation_data=data["test"],
        target="target",
        **{"approval": "manual", **kw},
    )
    return execute(op, run_id)


def approve(server: AuthServer, name: str, version: str, run_id: str, by: str = "alice") -> dict[str, Any]:
    with admin(server):
        client_of(server).set_model_version_tag(name, version, "robust.approval", "approved")
        client_of(server).set_model_version_tag(name, version, "robust.approval.by", by)
    return ok(execute(ModelApprovalSensor(task_id="approval", model_name=name, version=version), run_id))


def deploy(name: str, version: str, run_id: str, **kw: Any) -> Any:
    return execute(DeployModelOperator(task_id="deploy", model_name=name, version=version, **kw), run_id)


def champion(server: AuthServer, name: str, alias: str = "champion") -> str | None:
    with admin(server):
        return resolve(client_of(server), name, alias)


def refused(result: tuple[Any, Exception | None], *needles: str) -> str:
    _, err = result
    assert isinstance(err, DeploymentRefused) and isinstance(err, AirflowFailException), err
    for needle in needles:
        assert needle in str(err), str(err)
    return str(err)


def test_control_without_tampering_deploys_and_names_the_approver(server: AuthServer, pipeline: dict[str, str]) -> None:
    version = gated_version("trust_control", pipeline, "c1")
    assert ok(promote("trust_control", version, pipeline, "c1"))["decision"] == "pending_approval"
    approve(server, "trust_control", version, "c1")
    deployed = ok(deploy("trust_control", version, "c1"))
    assert deployed["approved_by"][0]["by"] == "alice" and deployed["approved_by"][0]["verified"] is False
    assert champion(server, "trust_control") == version
    with admin(server):
        history = read_history(client_of(server), "trust_control", "champion")
    assert history[-1]["who"] == "alice (unverified)" and history[-1]["to"] == version


def test_hand_set_tags_on_a_version_that_failed_its_gate(
    server: AuthServer, pipeline: dict[str, str], mallory: str
) -> None:
    name = "trust_tags"
    good = gated_version(name, pipeline, "t1")
    ok(promote(name, good, pipeline, "t1", approval="auto"))
    ok(deploy(name, good, "t1"))
    fragile = gated_version(name, pipeline, "t2", "sklearn.neighbors:KNeighborsClassifier", n_neighbors=1)
    with admin(server):
        assert client_of(server).get_model_version(name, fragile).tags["robust.robustness.status"] == "failed"
    with server.as_user("mallory", mallory):
        tags = {
            "robust.robustness.status": "passed",
            "robust.validation.status": "passed",
            "robust.promotion.status": "passed",
            "robust.promotion.decision": "promoted",
            "robust.approval": "approved",
            "robust.approval.by": "the CTO",
            "robust.promotion.champion_before": good,
        }
        for key, value in tags.items():
            client_of(server).set_model_version_tag(name, fragile, key, value)
    refused(deploy(name, fragile, "t2"), "no promotion decision")
    # pointing the version at the champion's genuine, passing promotion run does not help either
    with admin(server):
        genuine = client_of(server).get_model_version(name, good).tags["robust.promotion.run_id"]
    with server.as_user("mallory", mallory):
        client_of(server).set_model_version_tag(name, fragile, "robust.promotion.run_id", genuine)
    refused(deploy(name, fragile, "t2"), f"is about '{name}' version {good}, not '{name}' version {fragile}")
    # and promoting it: the robustness verdict it carries says failed
    _, err = promote(name, fragile, pipeline, "t2", approval="auto")
    assert isinstance(err, PromotionRejected) and "gate:robustness" in str(err) and "said 'failed'" in str(err)
    assert champion(server, name) == good


def test_a_hand_registered_version_with_forged_tags(server: AuthServer, pipeline: dict[str, str], mallory: str) -> None:
    import mlflow
    import pandas as pd
    from sklearn.dummy import DummyClassifier

    name = "trust_dummy"
    good = gated_version(name, pipeline, "d1")
    ok(promote(name, good, pipeline, "d1", approval="auto"))
    ok(deploy(name, good, "d1"))
    frame = pd.read_csv(pipeline["train"])
    with server.as_user("mallory", mallory):
        mlflow.set_experiment("mallory")
        with mlflow.start_run():
            dummy = DummyClassifier(strategy="most_frequent").fit(frame.drop(columns="target"), frame["target"])
            info = mlflow.sklearn.log_model(dummy, name="model", registered_model_name=name)
        dummy_version = str(info.registered_model_version)
        for key, value in {
            "robust.registration.run_id": "0" * 32,
            "robust.robustness.status": "passed",
            "robust.promotion.status": "passed",
            "robust.approval": "approved",
            "robust.promotion.champion_before": good,
        }.items():
            client_of(server).set_model_version_tag(name, dummy_version, key, value)
    refused(deploy(name, dummy_version, "d2"), "no promotion decision")
    result, err = promote(name, dummy_version, pipeline, "d2", approval="auto")
    assert isinstance(err, PromotionRejected) and result is not None
    assert result["checks"]["gate:registration"]["outcome"] == "FAIL"
    assert "no such run" in result["checks"]["gate:registration"]["reason"]
    assert champion(server, name) == good


def test_a_dag_without_the_robustness_gate_is_refused_at_promotion(
    server: AuthServer, pipeline: dict[str, str]
) -> None:
    name = "trust_nogate"
    ok(execute(ValidateDataOperator(task_id="validate", data=pipeline["train"], expectations=EXPECTATIONS), "n1"))
    trained = ok(
        execute(
            TrainModelOperator(
                task_id="train", estimator=ROBUST, data=pipeline["train"], target="target", registered_model_name=name
            ),
            "n1",
        )
    )
    with admin(server):
        client_of(server).set_model_version_tag(name, trained["version"], "robust.robustness.status", "passed")
    result, err = promote(name, trained["version"], pipeline, "n1", approval="auto")
    assert isinstance(err, PromotionRejected) and result is not None
    reason = result["checks"]["gate:robustness"]["reason"]
    assert "no robustness gate result" in reason and "add EvaluateRobustnessOperator" in reason
    assert result["checks"]["gate:validation"]["outcome"] == "PASS"  # linked through the signed registration
    refused(deploy(name, trained["version"], "n1"), "the promotion gate said 'failed'")
    assert champion(server, name) is None


def test_model_files_swapped_after_approval(server: AuthServer, pipeline: dict[str, str]) -> None:
    name = "trust_swap"
    version = gated_version(name, pipeline, "s1")
    ok(promote(name, version, pipeline, "s1"))
    approve(server, name, version, "s1")
    with admin(server):
        source = client_of(server).get_model_version(name, version).source
    model_id = source.rsplit("/", 1)[-1]
    weights = [p for p in server.artifacts.rglob("model.skops") if model_id in p.as_posix()]
    assert len(weights) == 1, weights
    weights[0].write_bytes(weights[0].read_bytes()[:-16] + b"\x00" * 16)  # what someone with storage access does
    refused(deploy(name, version, "s1"), "the model changed after the gate ran")
    assert champion(server, name) is None


def test_a_forged_decision_run(server: AuthServer, pipeline: dict[str, str], mallory: str) -> None:
    name = "trust_forged_run"
    version = gated_version(name, pipeline, "f1", "sklearn.neighbors:KNeighborsClassifier", n_neighbors=1)
    with admin(server):
        digest = client_of(server).get_model_version(name, version).tags["robust.model.digest"]
    with server.as_user("mallory", mallory):
        client = client_of(server)
        experiment = client.create_experiment("mallory-decisions")
        run_id = client.create_run(experiment).info.run_id
        decision = {"decision": "promoted", "status": "passed"}
        payload = {
            "schema": "airflow-robust/attestation/v1",
            "gate": "promotion",
            "status": "passed",
            "run_id": run_id,
            "decision_sha256": __import__("hashlib")
            .sha256(json.dumps(decision, sort_keys=True, separators=(",", ":")).encode())
            .hexdigest(),
            "model": {"name": name, "version": version, "digest": digest},
            "airflow": {},
            "facts": {"decision": "promoted", "champion_alias": "champion", "required_gates": []},
            "issued_at": "2026-12-01T00:00:00Z",
        }
        client.log_dict(run_id, decision, "decision.json")
        client.log_dict(run_id, sign(payload, SigningKey(b"mallory's own key, not Airflow's")), "attestation.json")
        client.set_model_version_tag(name, version, "robust.promotion.run_id", run_id)
        client.set_model_version_tag(name, version, "robust.promotion.status", "passed")
    refused(deploy(name, version, "f1"), "signature does not verify", "written by hand, or by another installation")
    assert champion(server, name) is None


def test_an_older_approved_decision_is_stale_with_a_custom_alias(server: AuthServer, pipeline: dict[str, str]) -> None:
    name = "trust_stale"
    first = gated_version(name, pipeline, "a1")
    ok(promote(name, first, pipeline, "a1", approval="auto", champion_alias="production", challenger_alias="next"))
    ok(deploy(name, first, "a1", alias="production"))
    older = gated_version(name, pipeline, "a2")
    newer = gated_version(name, pipeline, "a3")
    for version, run_id in ((older, "a2"), (newer, "a3")):
        decided = ok(promote(name, version, pipeline, run_id, champion_alias="production", challenger_alias="next"))
        assert decided["decision"] == "pending_approval" and decided["champion_version"] == first
    approve(server, name, newer, "a3")
    ok(deploy(name, newer, "a3", alias="production"))
    assert champion(server, name, "production") == newer
    approve(server, name, older, "a2")
    refused(deploy(name, older, "a2", alias="production"), "production is version", "the decision is stale")
    assert champion(server, name, "production") == newer
    # a decision about @production does not clear a deployment to another alias
    refused(deploy(name, older, "a2", alias="champion"), "judged @production, not @champion")


def test_a_bypass_is_recorded_as_such(server: AuthServer, pipeline: dict[str, str]) -> None:
    name = "trust_bypass"
    version = gated_version(name, pipeline, "b1", "sklearn.neighbors:KNeighborsClassifier", n_neighbors=1)
    deployed = ok(deploy(name, version, "b1", require_approval=False, reason="hotfix"))
    assert deployed["bypass"] is True and champion(server, name) == version
    with admin(server):
        client = client_of(server)
        entry = read_history(client, name, "champion")[-1]
        record = client.get_model_version(name, version)
    assert entry["action"] == "deploy-bypass" and "require_approval=False" in entry["bypass"]
    assert "require_approval=False" in record.tags["robust.deploy.bypass"]
    assert "WITHOUT the promotion gate" in record.description


def test_wrong_credentials_fail_once_with_an_auth_message(
    server: AuthServer, pipeline: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = {"conn_type": "mlflow", "host": server.url, "login": server.admin, "password": "rotated-away"}
    monkeypatch.setenv("AIRFLOW_CONN_MLFLOW_WRONG", json.dumps(connection))
    _, err = execute(
        EvaluateRobustnessOperator(
            task_id="robustness",
            model_uri="models:/trust_control/1",
            data=pipeline["test"],
            target="target",
            mlflow_conn_id="mlflow_wrong",
        ),
        "w1",
    )
    assert isinstance(err, TrackingAuthError) and isinstance(err, AirflowFailException), err
    assert "mlflow_wrong" in str(err) and "authentication" in str(err) and "401" in str(err)
    assert not isinstance(err, RobustnessCheckFailed)
    _, err = execute(
        ModelApprovalSensor(task_id="approval", model_name="trust_control", version="1", mlflow_conn_id="mlflow_wrong"),
        "w1",
    )
    assert isinstance(err, TrackingAuthError) and isinstance(err, AirflowFailException), err
    assert "authentication" in str(err)


def test_a_deferred_review_whose_credentials_were_rotated_fails_at_once(
    server: AuthServer, pipeline: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sensor deferred with good credentials; they are rotated while it waits: one event, one failure."""
    import asyncio
    import time

    from airflow_robust.triggers.approval import ApprovalTrigger

    connection = {"conn_type": "mlflow", "host": server.url, "login": server.admin, "password": "rotated-away"}
    monkeypatch.setenv("AIRFLOW_CONN_MLFLOW_DEFAULT", json.dumps(connection))
    trigger = ApprovalTrigger("mlflow_default", "trust_control", "1", "robust.approval", 0.5, time.time() + 600)

    async def first_event() -> Any:
        async for event in trigger.run():
            return event.payload
        return None

    started = time.monotonic()
    payload = asyncio.run(asyncio.wait_for(first_event(), timeout=120))
    assert payload["status"] == "error" and "authentication" in payload["error"] and "401" in payload["error"]
    assert time.monotonic() - started < 60  # not retried until the review timeout
    _, err = execute(ModelApprovalSensor(task_id="approval", model_name="trust_control", version="1"), "w2")
    assert isinstance(err, TrackingAuthError)
    sensor = ModelApprovalSensor(task_id="approval", model_name="trust_control", version="1")
    with pytest.raises(TrackingAuthError, match="authentication") as raised:
        sensor.execute_complete({}, payload)
    assert isinstance(raised.value, AirflowFailException)
