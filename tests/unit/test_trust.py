"""Signed evidence: envelopes, content digests, attestations in real MLflow runs, error classification."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import RESOURCE_DOES_NOT_EXIST

from airflow_robust.exceptions import EvidenceError
from airflow_robust.operators._approval import normalise
from airflow_robust.registry.errors import Failure, classify, never_judged
from airflow_robust.tracking.connectivity import auth_status, is_auth_failure, is_unreachable
from airflow_robust.trust.digest import directory_digest
from airflow_robust.trust.evidence import ModelBinding, attest, read_attestation, read_verified, require_model
from airflow_robust.trust.signing import SigningKey, sign, verify

KEY = SigningKey(b"k" * 32, source="test")
OTHER = SigningKey(b"o" * 32, source="test")


def test_envelope_round_trip_and_every_way_it_fails() -> None:
    envelope = sign({"gate": "robustness", "status": "passed", "n": 1.5}, KEY)
    assert verify(envelope, KEY) == {"gate": "robustness", "status": "passed", "n": 1.5}
    changed = json.loads(json.dumps(envelope))
    changed["payload"]["status"] = "failed"
    with pytest.raises(EvidenceError, match="changed after it was signed"):
        verify(changed, KEY)
    with pytest.raises(EvidenceError, match=r"signed with key .* this deployment.s key is"):
        verify(sign({"status": "passed"}, OTHER), KEY)
    forged = {"payload": {"status": "passed"}, "alg": "HMAC-SHA256", "key_id": KEY.key_id, "signature": "00" * 32}
    with pytest.raises(EvidenceError, match="content was changed"):
        verify(forged, KEY)
    with pytest.raises(EvidenceError, match="no signature"):
        verify({"payload": {}, "alg": "HMAC-SHA256"}, KEY)
    with pytest.raises(EvidenceError, match="not a signed"):
        verify({"status": "passed"}, KEY)
    with pytest.raises(EvidenceError, match="algorithm"):
        verify({**envelope, "alg": "none"}, KEY)
    with pytest.raises(EvidenceError, match="not canonical"):
        verify({**envelope, "payload": {"x": math.nan}}, KEY)


def test_keys_are_long_and_never_shown() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        SigningKey(b"short")
    assert "kkkk" not in repr(KEY) and len(KEY.key_id) == 12 and KEY.key_id != OTHER.key_id


def test_directory_digest_sees_every_change_but_not_the_location(tmp_path: Path) -> None:
    first = tmp_path / "a" / "model"
    (first / "sub").mkdir(parents=True)
    (first / "MLmodel").write_text("flavors: {}")
    (first / "sub" / "model.skops").write_bytes(b"\x00\x01weights")
    base = directory_digest(first)
    second = tmp_path / "b" / "elsewhere"
    second.parent.mkdir()
    first.rename(second)
    assert directory_digest(second) == base and base.startswith("sha256:")
    (second / "sub" / "model.skops").write_bytes(b"\x00\x02weights")
    assert directory_digest(second) != base
    (second / "sub" / "model.skops").write_bytes(b"\x00\x01weights")
    assert directory_digest(second) == base
    (second / "sub" / "model.skops").rename(second / "sub" / "other.skops")
    assert directory_digest(second) != base
    (second / "sub" / "other.skops").rename(second / "sub" / "model.skops")
    (second / "extra.txt").write_text("")
    assert directory_digest(second) != base
    with pytest.raises(FileNotFoundError):
        directory_digest(tmp_path / "empty")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("approved", "approved"),
        ("Approved", "approved"),
        ("approved ", "approved"),
        (" APPROVE", "approved"),
        ("rejected", "rejected"),
        ("Reject ", "rejected"),
        ("", "pending"),
        ("pending", "pending"),
        ("yes", "unknown"),
        ("ok", "unknown"),
        ("approved!", "unknown"),
    ],
)
def test_review_values_are_normalised_or_flagged(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_auth_errors_are_not_outages() -> None:
    unauth = MlflowException(
        "API request to endpoint /api/2.0/mlflow/experiments/search failed with error code 401 != 200. "
        "Response body: 'You are not authenticated.'",
        error_code="UNAUTHENTICATED",
    )
    denied = MlflowException(
        "API request to endpoint /api/2.0/mlflow/registered-models/set-tag failed with error code 403 != 200. "
        "Response body: 'Permission denied'",
        error_code="PERMISSION_DENIED",
    )
    down = MlflowException(
        "API request to http://127.0.0.1:1/api/2.0/mlflow/runs/get failed with exception "
        "HTTPConnectionPool(host='127.0.0.1', port=1): Max retries exceeded"
    )
    server_error = MlflowException("API request to endpoint /x failed with error code 503 != 200. Response body: ''")
    not_found = MlflowException(
        "API request to endpoint /x failed with error code 404 != 200. Response body: 'nope'",
        error_code=RESOURCE_DOES_NOT_EXIST,  # the proto's number, as MLflow's REST client passes it
    )
    assert auth_status(unauth) == 401 and auth_status(denied) == 403
    assert is_auth_failure(unauth) and not is_unreachable(unauth) and not is_unreachable(denied)
    assert is_unreachable(down) and not is_auth_failure(down)
    assert is_unreachable(server_error)
    assert not is_unreachable(not_found) and not is_auth_failure(not_found)
    assert classify(not_found) is Failure.MISSING
    assert [classify(e) for e in (unauth, denied, down, server_error, ValueError("not found"))] == [
        Failure.AUTH,
        Failure.AUTH,
        Failure.OUTAGE,
        Failure.OUTAGE,
        Failure.OTHER,
    ]
    assert [never_judged(e) for e in (unauth, denied, down, server_error, not_found)] == [True] * 4 + [False]


def test_a_missing_model_or_alias_in_a_real_store_is_told_apart(mlflow_store: dict[str, str]) -> None:
    client = MlflowClient()
    for lookup in (
        lambda: client.get_registered_model("no_such_model"),
        lambda: client.get_model_version_by_alias("no_such_model", "champion"),
        lambda: client.get_run("0" * 32),
    ):
        with pytest.raises(MlflowException) as caught:
            lookup()
        assert classify(caught.value) is Failure.MISSING, caught.value.error_code
    client.create_registered_model("exists")
    with pytest.raises(MlflowException) as caught:
        client.get_model_version_by_alias("exists", "champion")  # an alias that is not set
    assert classify(caught.value) is Failure.MISSING, caught.value
    with pytest.raises(MlflowException) as caught:
        client.create_registered_model("exists")
    assert classify(caught.value) is Failure.EXISTS, caught.value
    with pytest.raises(MlflowException) as caught:
        client.get_model_version("exists", "not-a-number")
    assert classify(caught.value) is Failure.INVALID, caught.value


def _run(client: MlflowClient) -> str:
    experiment = client.create_experiment("trust")
    return str(client.create_run(experiment).info.run_id)


def test_attestations_verify_in_their_own_run_only(mlflow_store: dict[str, str]) -> None:
    client = MlflowClient(tracking_uri=mlflow_store["tracking_uri"])
    run_id = _run(client)
    binding = ModelBinding("cancer", "3", "sha256:" + "a" * 64)
    decision = {"gate": "robustness", "status": "passed", "audc": 0.97}
    attest(client, run_id, gate="robustness", status="passed", decision=decision, key=KEY, model=binding)
    record, stored = read_verified(client, run_id, KEY, gate="robustness")
    assert record.passed and record.model == binding and stored == decision
    require_model(record, "cancer", "3", binding.digest)
    with pytest.raises(EvidenceError, match="not 'cancer' version 4"):
        require_model(record, "cancer", "4", binding.digest)
    with pytest.raises(EvidenceError, match="the model changed after the gate ran"):
        require_model(record, "cancer", "3", "sha256:" + "b" * 64)
    with pytest.raises(EvidenceError, match="not a 'validation' verdict"):
        read_attestation(client, run_id, KEY, gate="validation")
    with pytest.raises(EvidenceError, match="signed with key"):
        read_attestation(client, run_id, OTHER)

    # the reviewer-facing decision.json edited afterwards
    client.log_dict(run_id, {**decision, "audc": 0.99}, "decision.json")
    with pytest.raises(EvidenceError, match=r"decision.json was changed after it was signed"):
        read_attestation(client, run_id, KEY)

    # a genuine envelope copied into another run
    other = _run_in(client, "trust")
    envelope = json.loads(Path(client.download_artifacts(run_id, "attestation.json", str(_tmp(client)))).read_text())
    client.log_dict(other, envelope, "attestation.json")
    client.log_dict(other, decision, "decision.json")
    with pytest.raises(EvidenceError, match="copied here"):
        read_attestation(client, other, KEY)

    # no evidence at all, a run that does not exist, a deleted run
    empty = _run_in(client, "trust")
    with pytest.raises(EvidenceError, match=r"cannot read attestation\.json"):
        read_attestation(client, empty, KEY)
    with pytest.raises(EvidenceError, match="no such run"):
        read_attestation(client, "0123456789abcdef0123456789abcdef", KEY)
    with pytest.raises(EvidenceError, match="not a run id"):
        read_attestation(client, "../../etc", KEY)
    client.delete_run(run_id)
    with pytest.raises(EvidenceError, match="deleted"):
        read_attestation(client, run_id, KEY)


def _run_in(client: MlflowClient, name: str) -> str:
    experiment = client.get_experiment_by_name(name)
    assert experiment is not None
    return str(client.create_run(experiment.experiment_id).info.run_id)


def _tmp(client: MlflowClient) -> Path:
    import tempfile

    return Path(tempfile.mkdtemp())
