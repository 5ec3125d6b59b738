"""Gate semantics shared by every stage (see DESIGN: "Gate semantics"), without Airflow.

A stage ends in a :class:`Verdict`. For a gate, :func:`judge` first writes the decision where a
reviewer looks (``decision.json`` and its signed ``attestation.json`` in the stage run, the
``robust.<gate>.status`` tags); the operator then *settles* the verdict as ``on_failure`` says
(passed -> the summary is the task's XCom value; ``"warn"`` -> log and continue; ``"skip"`` ->
skip downstream; ``"fail"`` -> raise the gate's non-retryable error carrying the summary).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_robust.exceptions import GateFailure
from airflow_robust.registry.tags import gate_tag

if TYPE_CHECKING:
    from airflow_robust.registry.store import ModelStore
    from airflow_robust.tracking.runs import StageRun
    from airflow_robust.trust.evidence import Attestation, ModelBinding
    from airflow_robust.trust.signing import SigningKey


@dataclass
class Verdict:
    """What a stage concluded; the operator settles it (XCom, skip, raise) and tells people and assets.

    ``summary`` is the task's XCom value. A gate (``gate`` set) that did not pass is settled by
    ``on_failure`` and raises ``error``. ``review`` is a decision people are notified of (the
    operator's ``notifiers``); ``events`` are asset events by kind (``"deploy"``, ``"retrain"``);
    ``outputs`` are XCom values under keys of their own (``train.output["model_uri"]``).
    """

    summary: dict[str, Any]
    gate: str | None = None
    passed: bool = True
    reason: str = ""
    on_failure: str = "fail"
    error: type[GateFailure] = GateFailure
    review: dict[str, Any] | None = None
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Signer:
    """Writes a stage's signed verdict (``decision.json`` + ``attestation.json``) into its MLflow run."""

    client: ModelStore
    run: StageRun
    key: SigningKey

    def attest(
        self,
        gate: str,
        status: str,
        decision: Mapping[str, Any],
        *,
        model: ModelBinding | None = None,
        facts: Mapping[str, Any] | None = None,
    ) -> Attestation:
        from airflow_robust.trust.evidence import attest

        identity = self.run.identity
        return attest(
            self.client,
            self.run.run_id,
            gate=gate,
            status=status,
            decision=jsonable(dict(decision)),
            key=self.key,
            model=model,
            airflow={
                "dag_id": identity.dag_id,
                "run_id": identity.run_id,
                "task_id": identity.task_id,
                "try_number": str(identity.try_number),
                "map_index": str(identity.map_index),
            },
            facts=jsonable(dict(facts or {})),
        )


def judge(
    *,
    gate: str,
    passed: bool,
    summary: dict[str, Any],
    reason: str,
    on_failure: str,
    error: type[GateFailure],
    log: logging.Logger | Any,
    signer: Signer,
    model: ModelBinding | None = None,
    facts: Mapping[str, Any] | None = None,
) -> Verdict:
    """Record a gate's verdict (signed, tagged) and return it for the operator to settle."""
    import mlflow

    status = "passed" if passed else ("warned" if on_failure == "warn" else "failed")
    summary = {**summary, "gate": gate, "status": status, "reason": reason}
    signer.attest(gate, status, summary, model=model, facts={"reason": reason[:2000], **dict(facts or {})})
    mlflow.set_tags({gate_tag(gate, "status"): status, gate_tag(gate, "reason"): reason[:5000]})
    if passed:
        log.info("%s gate passed: %s", gate, reason)
    return Verdict(summary, gate=gate, passed=passed, reason=reason, on_failure=on_failure, error=error)


def jsonable(value: Any) -> Any:
    """``value`` with NaN/inf floats as ``None`` (strict JSON for XCom and ``decision.json``)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def bind_version(name: str, version: str, dst: str) -> tuple[ModelBinding, str]:
    """Fetch ``models:/name/version`` into ``dst``: its binding (name, version, content digest) and local path."""
    from airflow_robust.registry.models import fetch_model
    from airflow_robust.trust.evidence import ModelBinding

    fetched = fetch_model(f"models:/{name}/{version}", dst)
    return ModelBinding(name=name, version=str(version), digest=fetched.digest), fetched.path


def point_version(
    client: ModelStore, binding: ModelBinding, gate: str, run_id: str, extra: Mapping[str, str] | None = None
) -> None:
    """Point the version at the run holding ``gate``'s signed verdict (plus informational tags)."""
    from airflow_robust.trust.chain import pointer_tag

    tags = {pointer_tag(gate): run_id, **dict(extra or {})}
    for key, value in tags.items():
        client.set_model_version_tag(binding.name, binding.version, key, value)
