"""Attestations: a gate's signed verdict, stored in the gate's own MLflow run.

An attestation says: gate ``G`` decided ``status`` in MLflow run ``R`` (Airflow task ``T`` of DAG
run ``D``), about model ``name`` version ``v`` whose files had digest ``d``, and the verdict's
full text is the ``decision.json`` of ``R`` with SHA-256 ``h``. It is signed
(:mod:`airflow_robust.trust.signing`) and stored as ``attestation.json`` in ``R``. Reading one
back checks the signature, that it was not copied into another run, and that ``decision.json``
is unchanged; binding checks then say whether it is about *this* version and *these* files.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_robust.exceptions import EvidenceError
from airflow_robust.registry.tags import ATTESTATION_TAG
from airflow_robust.trust.digest import short
from airflow_robust.trust.signing import SigningKey, sha256_of, sign, verify

if TYPE_CHECKING:
    from airflow_robust.registry.store import ModelStore

SCHEMA = "airflow-robust/attestation/v1"
ARTIFACT = "attestation.json"
DECISION = "decision.json"
#: run tag naming the gate whose attestation the run holds (for search; never trusted)


@dataclass(frozen=True)
class ModelBinding:
    """The model version a verdict is about, and the digest of the files that were judged."""

    name: str
    version: str
    digest: str


@dataclass(frozen=True)
class Attestation:
    gate: str
    status: str
    run_id: str
    decision_sha256: str
    model: ModelBinding | None = None
    airflow: dict[str, str] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    issued_at: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def dag_run(self) -> tuple[str, str]:
        return self.airflow.get("dag_id", ""), self.airflow.get("run_id", "")

    def to_payload(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "gate": self.gate,
            "status": self.status,
            "run_id": self.run_id,
            "decision_sha256": self.decision_sha256,
            "model": None
            if self.model is None
            else {"name": self.model.name, "version": self.model.version, "digest": self.model.digest},
            "airflow": dict(self.airflow),
            "facts": dict(self.facts),
            "issued_at": self.issued_at,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any], where: str) -> Attestation:
        if payload.get("schema") != SCHEMA:
            raise EvidenceError(f"{where} has schema {payload.get('schema')!r}, expected {SCHEMA!r}")
        model = payload.get("model")
        try:
            binding = (
                None if model is None else ModelBinding(str(model["name"]), str(model["version"]), model["digest"])
            )
            return cls(
                gate=str(payload["gate"]),
                status=str(payload["status"]),
                run_id=str(payload["run_id"]),
                decision_sha256=str(payload["decision_sha256"]),
                model=binding,
                airflow={str(k): str(v) for k, v in dict(payload.get("airflow") or {}).items()},
                facts=dict(payload.get("facts") or {}),
                issued_at=str(payload.get("issued_at", "")),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise EvidenceError(f"{where} is malformed: {type(err).__name__}: {err}") from err


def attest(
    client: ModelStore,
    run_id: str,
    *,
    gate: str,
    status: str,
    decision: Mapping[str, Any],
    key: SigningKey,
    model: ModelBinding | None = None,
    airflow: Mapping[str, str] | None = None,
    facts: Mapping[str, Any] | None = None,
) -> Attestation:
    """Write ``decision.json`` and its signed attestation into run ``run_id``; return the attestation."""
    record = Attestation(
        gate=gate,
        status=status,
        run_id=run_id,
        decision_sha256=sha256_of(dict(decision)),
        model=model,
        airflow={k: str(v) for k, v in (airflow or {}).items()},
        facts=dict(facts or {}),
        issued_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
    client.log_dict(run_id, dict(decision), DECISION)
    client.log_dict(run_id, sign(record.to_payload(), key), ARTIFACT)
    client.set_tag(run_id, ATTESTATION_TAG, gate)
    return record


def read_attestation(client: ModelStore, run_id: str, key: SigningKey, *, gate: str | None = None) -> Attestation:
    """The verified attestation in run ``run_id``; :class:`EvidenceError` naming what failed to verify.

    An MLflow outage or an authentication error is raised as such (never turned into "no evidence").
    """
    return read_verified(client, run_id, key, gate=gate)[0]


def read_verified(
    client: ModelStore, run_id: str, key: SigningKey, *, gate: str | None = None
) -> tuple[Attestation, dict[str, Any]]:
    """The verified attestation in run ``run_id`` and the ``decision.json`` it vouches for."""
    where = f"the {gate or 'gate'} attestation in MLflow run {run_id!r}"
    if not run_id or not run_id.replace("-", "").isalnum():
        raise EvidenceError(f"{where}: {run_id!r} is not a run id")
    run = _get_run(client, run_id, where)
    if run.info.lifecycle_stage != "active":
        raise EvidenceError(f"{where}: the run was deleted")
    payload = verify(_download_json(client, run_id, ARTIFACT, where), key, where=where)
    record = Attestation.from_payload(payload, where)
    if record.run_id != run_id:
        raise EvidenceError(f"{where} was signed for run {record.run_id!r} and copied here")
    if gate is not None and record.gate != gate:
        raise EvidenceError(f"{where} is a {record.gate!r} verdict, not a {gate!r} verdict")
    decision = _download_json(client, run_id, DECISION, where)
    if sha256_of(decision) != record.decision_sha256:
        raise EvidenceError(f"{where}: decision.json was changed after it was signed")
    return record, dict(decision)


def require_model(record: Attestation, name: str, version: str, digest: str) -> None:
    """Raise unless ``record`` is about ``name`` version ``version`` with files of ``digest``."""
    where = f"the {record.gate} verdict in run {record.run_id!r}"
    if record.model is None:
        raise EvidenceError(f"{where} names no model version")
    if (record.model.name, record.model.version) != (name, str(version)):
        raise EvidenceError(
            f"{where} is about {record.model.name!r} version {record.model.version}, not {name!r} version {version}"
        )
    if record.model.digest != digest:
        raise EvidenceError(
            f"{where} judged model files {short(record.model.digest)}, but version {version} of {name!r} "
            f"now has files {short(digest)}: the model changed after the gate ran"
        )


def require_passed(record: Attestation) -> None:
    if not record.passed:
        reason = record.facts.get("reason") or ""
        raise EvidenceError(
            f"the {record.gate} gate said {record.status!r} in run {record.run_id!r}"
            + (f": {str(reason)[:300]}" if reason else "")
        )


def _get_run(client: ModelStore, run_id: str, where: str) -> Any:
    from mlflow.exceptions import MlflowException

    from airflow_robust.registry.errors import never_judged

    try:
        return client.get_run(run_id)
    except MlflowException as err:
        if never_judged(err):
            raise
        raise EvidenceError(f"{where}: no such run ({str(err).splitlines()[0][:200]})") from err


def _download_json(client: ModelStore, run_id: str, path: str, where: str) -> Any:
    from airflow_robust.registry.errors import never_judged

    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = client.download_artifacts(run_id, path, tmp)
            with open(local if os.path.isfile(local) else os.path.join(local, path)) as handle:
                return json.load(handle)
        except Exception as err:
            if never_judged(err):
                raise
            raise EvidenceError(f"{where}: cannot read {path} ({type(err).__name__}: {str(err)[:200]})") from err
