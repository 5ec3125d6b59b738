"""Record a reviewer's decision on a pending promotion: signed, mirrored to MLflow, in the alias history.

Shared by :class:`~airflow_robust.operators.review.ModelReviewOperator` (Airflow's human-in-the-loop:
the person is authenticated by Airflow) and :class:`~airflow_robust.sensors.approval.ModelApprovalSensor`
(the ``robust.approval`` tag set in the MLflow UI: anyone with EDIT rights, identity unverified).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_robust.exceptions import ApprovalRejected, EvidenceError
from airflow_robust.registry.tags import APPROVAL_STATUS_TAG, APPROVAL_TAG

if TYPE_CHECKING:
    from airflow_robust.registry.store import ModelStore

#: what a reviewer may type into the tag, after trimming and lower-casing
APPROVED_WORDS = ("approved", "approve")
REJECTED_WORDS = ("rejected", "reject")
WAITING_WORDS = ("", "pending")


def normalise(value: str | None) -> str:
    """``approved`` | ``rejected`` | ``pending`` | ``unknown`` for a tag value (case and spaces ignored)."""
    word = (value or "").strip().lower()
    if word in APPROVED_WORDS:
        return "approved"
    if word in REJECTED_WORDS:
        return "rejected"
    if word in WAITING_WORDS:
        return "pending"
    return "unknown"


@dataclass(frozen=True)
class Review:
    """One reviewer's decision and how far their identity can be trusted."""

    approved: bool
    by: str
    by_id: str
    verified: bool
    source: str
    reason: str = ""


def pending_promotion(client: ModelStore, key: Any, name: str, version: str) -> tuple[Any, dict[str, Any]]:
    """The version's verified promotion attestation and decision, which must be ``pending_approval``."""
    from airflow_robust.trust.chain import PROMOTION, pointer_tag
    from airflow_robust.trust.evidence import read_verified

    record = client.get_model_version(name, version)
    run_id = str(record.tags.get(pointer_tag(PROMOTION), "")).split(",")[-1].strip()
    if not run_id:
        raise EvidenceError(f"version {version} of {name!r} has no promotion decision to review")
    promotion, decision = read_verified(client, run_id, key, gate=PROMOTION)
    if promotion.model is None or (promotion.model.name, promotion.model.version) != (name, str(version)):
        raise EvidenceError(f"the promotion decision in run {run_id!r} is not about {name!r} version {version}")
    if promotion.facts.get("decision") != "pending_approval":
        raise EvidenceError(
            f"the promotion decision in run {run_id!r} is {promotion.facts.get('decision')!r}, not pending approval"
        )
    return promotion, decision


def record_review(
    *,
    mlflow_conn_id: str,
    context: Any,
    signing_conn_id: str,
    name: str,
    version: str,
    review: Review,
) -> dict[str, Any]:
    """Sign ``review`` through the MLflow connection ``mlflow_conn_id``; this package's errors become Airflow's."""
    from airflow_robust.exceptions import AirflowRobustError
    from airflow_robust.hooks.mlflow import MlflowHook
    from airflow_robust.operators._edge import for_airflow

    hook = MlflowHook(mlflow_conn_id)
    try:
        with hook.applied():
            return _signed_review(
                hook=hook, context=context, signing_conn_id=signing_conn_id, name=name, version=version, review=review
            )
    except AirflowRobustError as err:
        raise for_airflow(err) from err


def _signed_review(
    *,
    hook: Any,
    context: Any,
    signing_conn_id: str,
    name: str,
    version: str,
    review: Review,
    experiment_name: str | None = None,
) -> dict[str, Any]:
    """Sign ``review`` of the pending promotion into an ``approval`` stage run; mirror it on the version."""
    from airflow_robust.hooks.signing import signing_key
    from airflow_robust.operators._edge import identity_from_context
    from airflow_robust.promotion.review import mark_version
    from airflow_robust.registry.aliases import resolve
    from airflow_robust.registry.history import record_move
    from airflow_robust.registry.lease import held, holder_for
    from airflow_robust.tracking.runs import stage_run
    from airflow_robust.trust.chain import approval_pointer
    from airflow_robust.trust.evidence import ModelBinding
    from airflow_robust.trust.gate import Signer

    client = hook.get_client()
    config = hook.get_config()
    key = signing_key(config, signing_conn_id)
    try:
        promotion, _ = pending_promotion(client, key, name, version)
    except EvidenceError as err:
        raise ApprovalRejected(f"nothing to review on {name!r} version {version}: {err}") from err
    assert promotion.model is not None  # checked by pending_promotion
    identity = identity_from_context(context, experiment_name)
    decided_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    status = "approved" if review.approved else "rejected"
    summary: dict[str, Any] = {
        "model_name": name,
        "version": version,
        "status": status,
        "by": review.by,
        "by_id": review.by_id,
        "verified": review.verified,
        "source": review.source,
        "reason": review.reason,
        "decided_at": decided_at,
        "promotion_run": promotion.run_id,
        "champion_alias": promotion.facts.get("champion_alias"),
    }
    with stage_run(client, identity, "approval", config.artifact_root, activate=False) as run:
        Signer(client, run, key).attest(
            "approval",
            "passed" if review.approved else "failed",
            summary,
            model=ModelBinding(name, version, promotion.model.digest),
            facts={k: summary[k] for k in ("by", "by_id", "verified", "source", "reason", "promotion_run")}
            | {"at": decided_at},
        )
        client.set_tag(run.run_id, APPROVAL_STATUS_TAG, status)
    summary["run_id"] = run.run_id
    summary["run_url"] = config.run_url(run.experiment_id, run.run_id)
    client.set_model_version_tag(name, version, approval_pointer(identity.task_key), run.run_id)
    mirrored = {
        APPROVAL_TAG: status,
        f"{APPROVAL_TAG}.by": review.by,
        f"{APPROVAL_TAG}.by_id": review.by_id,
        f"{APPROVAL_TAG}.verified": str(review.verified).lower(),
        f"{APPROVAL_TAG}.source": review.source,
        f"{APPROVAL_TAG}.decided_at": decided_at,
        f"{APPROVAL_TAG}.reason": review.reason[:4000],
    }
    for tag, value in mirrored.items():
        client.set_model_version_tag(name, version, tag, value)
    who = review.by + ("" if review.verified else " (identity not verified)")
    alias = promotion.facts.get("champion_alias") or "champion"
    if review.approved:
        mark_version(client, name, version, f"approved for @{alias} by {who}; deployment pending")
    else:
        challenger = str(promotion.facts.get("challenger_alias") or "challenger")
        with held(client, name, holder_for(identity.dag_id, identity.run_id), ttl=120, wait=120):
            if resolve(client, name, challenger) == version:  # a rejected version loses @challenger, recorded
                client.delete_registered_model_alias(name, challenger)
                record_move(
                    client,
                    model=name,
                    alias=challenger,
                    from_version=version,
                    to_version=None,
                    action="reject",
                    who=who,
                    why=review.reason or "rejected in review",
                    airflow=identity.airflow,
                    extra={"approval_run": run.run_id, "verified": review.verified},
                    artifact_root=config.artifact_root,
                )
        mark_version(
            client, name, version, f"rejected for @{alias} by {who}" + (f": {review.reason}" if review.reason else "")
        )
    return summary
