"""Deployment, Airflow-free: :func:`deploy` (serving check, re-verification, compare-and-set alias move) and
:func:`rollback` (DeployModelOperator, RollbackModelOperator)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from typing import TYPE_CHECKING, Any, Protocol

from airflow_robust.exceptions import DeploymentRefused
from airflow_robust.registry.errors import never_judged
from airflow_robust.registry.tags import (
    DEPLOY_BYPASS_TAG,
    DEPLOY_STATUS_TAG,
    MODEL_NAME_TAG,
    MODEL_VERSION_TAG,
    PROMOTION_REASON_TAG,
    ROLLBACK_STATUS_TAG,
    gate_tag,
    rollback_tag,
)
from airflow_robust.requests import LeaseRequest, SignedRequest, StageRequest
from airflow_robust.tracking.connectivity import is_unreachable_text
from airflow_robust.trust.evidence import ModelBinding
from airflow_robust.trust.gate import Verdict

if TYPE_CHECKING:
    from airflow_robust.registry.store import ModelStore
    from airflow_robust.requests import Tracking
    from airflow_robust.tracking.identity import StageIdentity
    from airflow_robust.tracking.runs import StageRun
    from airflow_robust.trust.chain import Clearance
    from airflow_robust.trust.signing import SigningKey


class DeployRequest(SignedRequest, LeaseRequest, Protocol):
    """What deployment reads of its operator; an operator (or any object) satisfies it."""

    @property
    def alias(self) -> str: ...

    @property
    def latency_budget(self) -> float | None: ...

    @property
    def min_approvals(self) -> int: ...

    @property
    def outlets(self) -> Any: ...

    @property
    def reason(self) -> str | None: ...

    @property
    def require_approval(self) -> bool: ...

    @property
    def require_verified_approver(self) -> bool: ...

    @property
    def rollback_dag_id(self) -> str | None: ...

    @property
    def sample_data(self) -> str | None: ...

    @property
    def sample_rows(self) -> int: ...

    @property
    def version(self) -> str | int: ...


class RollbackRequest(StageRequest, LeaseRequest, Protocol):
    """What a rollback reads of its operator; an operator (or any object) satisfies it."""

    @property
    def alias(self) -> str: ...

    @property
    def reason(self) -> str: ...

    @property
    def to_version(self) -> str | int | None: ...


def deploy(op: DeployRequest, run: StageRun, tracking: Tracking) -> Verdict:
    """Check the version serves, re-verify its promotion and approvals under the lease, move the alias
    (compare-and-set) and record the move; a deploy event names what moved where."""
    import mlflow

    from airflow_robust.registry.lease import held, holder_for
    from airflow_robust.registry.versions import get_version

    owner = type(op).__name__
    client = tracking.get_client()
    config = tracking.get_config()
    signer = op.signer(run, tracking)
    name, version = op.model_name, str(op.version)
    record = get_version(client, name, version, owner, parameter="version")
    digest = _digest(name, version)
    if op.require_approval:
        _clearance(op, client, signer.key, record, digest)  # fail fast, before the serving check
    serving = _serving_check(op, owner, name, version, digest)
    mlflow.log_dict(serving, "serving_check.json")
    mlflow.log_metrics({k: float(v) for k, v in serving.items() if k.endswith("_seconds")})
    if not serving.get("passed"):
        problems = "; ".join(serving.get("problems", []))
        if is_unreachable_text(problems):  # the fresh process could not fetch the model: retry, don't refuse
            raise tracking.unavailable(RuntimeError(problems))
        client.set_model_version_tag(name, version, DEPLOY_STATUS_TAG, "failed")
        raise DeploymentRefused(
            f"version {version} of {name!r} failed its serving check: {problems}",
            summary={"serving_check": serving},
        )
    holder = holder_for(run.identity.dag_id, run.identity.run_id)
    with held(client, name, holder, ttl=float(op.lease_ttl), wait=float(op.lease_wait)):
        entry, clearance = _move(op, client, signer.key, config, run, name, version, digest)
    metrics = _training_metrics(client, record)
    summary = {
        "model_name": name,
        "version": version,
        "alias": op.alias,
        "model_digest": digest,
        "previous_version": entry.get("from") or None,
        "approved_by": [a.__dict__ for a in clearance.approvers] if clearance else [],
        "bypass": clearance is None,
        "history_entry": {k: v for k, v in entry.items() if isinstance(v, (str, int, float))},
        "serving_check": serving,
        "metrics": metrics,
    }
    mlflow.set_tags({DEPLOY_STATUS_TAG: "deployed", MODEL_NAME_TAG: name, MODEL_VERSION_TAG: version})
    signer.attest(
        "deploy",
        "passed",
        summary,
        model=ModelBinding(name, version, digest),
        facts={"alias": op.alias, "from": summary["previous_version"], "bypass": clearance is None},
    )
    op.log.info("%s@%s -> version %s (was %s)", name, op.alias, version, summary["previous_version"] or "unset")
    event = {"model_name": name, "version": version, "alias": op.alias, "metrics": metrics}
    return Verdict(summary, events={"deploy": {"extra": event}})


def _digest(name: str, version: str) -> str:
    """The digest of the version's files as the registry serves them now."""
    import tempfile

    from airflow_robust.registry.models import fetch_model

    with tempfile.TemporaryDirectory(prefix="airflow-robust-model-") as tmp:
        try:
            return fetch_model(f"models:/{name}/{version}", tmp).digest
        except Exception as err:
            if never_judged(err):
                raise
            raise DeploymentRefused(
                f"the files of version {version} of {name!r} cannot be read, so they cannot be verified: "
                f"{type(err).__name__}: {str(err)[:300]}"
            ) from err


def _clearance(op: DeployRequest, client: ModelStore, key: SigningKey, record: Any, digest: str) -> Clearance:
    """The version's signed promotion (and approvals), re-verified; ``DeploymentRefused`` naming what failed."""
    from airflow_robust.exceptions import EvidenceError
    from airflow_robust.trust.chain import clearance

    try:
        return clearance(
            client,
            key,
            str(record.name),
            str(record.version),
            digest,
            op.alias,
            dict(record.tags),
            min_approvals=int(op.min_approvals),
            verified_approvers=bool(op.require_verified_approver),
        )
    except EvidenceError as err:
        raise DeploymentRefused(
            f"version {record.version} of {record.name!r} is not cleared for deployment to @{op.alias}: {err} "
            "(nothing was moved; set require_approval=False only to deploy deliberately without the gates, "
            "which is recorded as a bypass)",
            summary={"verification": str(err)},
        ) from err


def _move(
    op: DeployRequest,
    client: ModelStore,
    key: SigningKey,
    config: Any,
    run: StageRun,
    name: str,
    version: str,
    digest: str,
) -> tuple[dict[str, Any], Clearance | None]:
    """Under the lease: re-verify everything, compare-and-set the alias, record the move."""
    from airflow_robust.promotion.review import mark_version
    from airflow_robust.registry.aliases import move_alias, resolve

    record = client.get_model_version(name, version)  # re-read just before the write
    clearance = _clearance(op, client, key, record, digest) if op.require_approval else None
    if clearance is not None:
        expected = clearance.expected_from
        who = clearance.who
        why = op.reason or record.tags.get(PROMOTION_REASON_TAG, "") or "deploy"
        extra: dict[str, Any] = {
            "decision_run": clearance.promotion.run_id,
            "deploy_run": run.run_id,
            "approved_by": [a.by for a in clearance.approvers],
            "approver_ids": [a.by_id for a in clearance.approvers],
            "approvers_verified": all(a.verified for a in clearance.approvers) if clearance.approvers else None,
            "approval_runs": [a.run_id for a in clearance.approvers],
            "model_digest": digest,
        }
        action = "deploy"
    else:
        expected = resolve(client, name, op.alias)
        who = run.identity.who  # the Airflow user who triggered the DAG run, else the task
        why = op.reason or "deploy without the promotion gate (require_approval=False)"
        extra = {"deploy_run": run.run_id, "bypass": "require_approval=False: no gate evidence was checked"}
        extra["model_digest"] = digest
        action = "deploy-bypass"
    entry = move_alias(
        client,
        name=name,
        alias=op.alias,
        to_version=version,
        expected_from=expected,
        action=action,
        who=who,
        why=why,
        airflow=run.identity.airflow,
        artifact_root=config.artifact_root,
        extra=extra,
    )
    challenger = (clearance.promotion.facts.get("challenger_alias") if clearance else None) or "challenger"
    if challenger != op.alias and resolve(client, name, challenger) == version:
        client.delete_registered_model_alias(name, challenger)
    client.set_model_version_tag(name, version, DEPLOY_STATUS_TAG, "deployed")
    client.set_model_version_tag(
        name, version, gate_tag("deploy", op.alias), config.run_url(run.experiment_id, run.run_id)
    )
    if clearance is None:
        client.set_model_version_tag(name, version, DEPLOY_BYPASS_TAG, f"require_approval=False by {who}")
    mark_version(
        client,
        name,
        version,
        f"deployed to @{op.alias} (was {entry.get('from') or 'unset'})"
        + (" WITHOUT the promotion gate (require_approval=False)" if clearance is None else f"; approved by {who}")
        + _undo(op, client, name, run.identity),
    )
    return entry, clearance


def _undo(op: DeployRequest, client: ModelStore, name: str, identity: StageIdentity) -> str:
    """With ``rollback_dag_id``: point the registered model at the DAG that undoes this move (tags, and the text)."""
    if not op.rollback_dag_id:
        return ""
    url = identity.ui_url("dags", op.rollback_dag_id)
    client.set_registered_model_tag(name, rollback_tag(op.alias, "dag"), op.rollback_dag_id)
    if url:
        client.set_registered_model_tag(name, rollback_tag(op.alias, "url"), url)
    where = f" ([open it]({url}))" if url else ""
    return f"; to undo, trigger the Airflow DAG {op.rollback_dag_id}{where}"


def _serving_check(op: DeployRequest, owner: str, name: str, version: str, digest: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        args = [sys.executable, "-m", "airflow_robust.deployment.serving", f"models:/{name}/{version}"]
        args += ["--digest", digest]
        if op.sample_data:
            from airflow_robust.data.access import load

            _, frame = load(op.storage, owner, op.sample_data, parameter="sample_data")
            sample = os.path.join(tmp, "sample.parquet")
            frame.head(int(op.sample_rows)).to_parquet(sample, index=False)
            args += ["--sample", sample]
        if op.latency_budget is not None:
            args += ["--budget", str(op.latency_budget)]
        done = subprocess.run(  # noqa: S603 - our own module, argv list, no shell
            args, capture_output=True, text=True, timeout=900, check=False, env=dict(os.environ)
        )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"passed": False, "problems": [f"serving check crashed (exit {done.returncode}): {done.stderr[-800:]}"]}
    report: dict[str, Any] = json.loads(lines[-1])
    return report


def _training_metrics(client: ModelStore, record: Any) -> dict[str, float]:
    try:
        return dict(client.get_run(record.run_id).data.metrics) if record.run_id else {}
    except Exception:  # noqa: BLE001 - metrics are informative only
        return {}


def rollback(op: RollbackRequest, run: StageRun, tracking: Tracking) -> Verdict:
    """Point the alias back (at ``previous_<alias>`` or ``op.to_version``) under the lease and record it."""
    import mlflow

    from airflow_robust.deployment.rollback import roll_back
    from airflow_robust.registry.lease import held, holder_for
    from airflow_robust.registry.versions import get_version, require_model

    client = tracking.get_client()
    name = op.model_name
    require_model(client, name, type(op).__name__)
    holder = holder_for(run.identity.dag_id, run.identity.run_id)
    with held(client, name, holder, ttl=float(op.lease_ttl), wait=float(op.lease_wait)):
        if op.to_version is not None:
            get_version(client, name, str(op.to_version), type(op).__name__, parameter="to_version")
        outcome = roll_back(
            client,
            name=name,
            alias=op.alias,
            to_version=None if op.to_version is None else str(op.to_version),
            who=run.identity.who,
            why=op.reason,
            airflow=run.identity.airflow,
            artifact_root=tracking.get_config().artifact_root,
        )
    if outcome["action"] == "noop":
        op.log.info("%s@%s already points at version %s; nothing to do.", name, op.alias, outcome["version"])
        noop: dict[str, Any] = {"model_name": name, "alias": op.alias, "version": outcome["version"], "action": "noop"}
        mlflow.log_dict(noop, "decision.json")
        return Verdict(noop)
    target, current = outcome["version"], outcome["previous_version"]
    from airflow_robust.promotion.review import mark_version

    if current is not None:
        mark_version(client, name, current, f"rolled back: @{op.alias} moved to version {target} ({op.reason})")
    mark_version(client, name, target, f"serving again as @{op.alias} after a rollback from version {current}")
    summary: dict[str, Any] = {
        "model_name": name,
        "alias": op.alias,
        "version": target,
        "previous_version": current,
        "action": "rollback",
        "history_entry": {k: v for k, v in outcome["entry"].items() if isinstance(v, (str, int, float))},
    }
    mlflow.log_dict(summary, "decision.json")
    mlflow.set_tags({ROLLBACK_STATUS_TAG: "done", MODEL_NAME_TAG: name})
    event = {"model_name": name, "version": target, "alias": op.alias, "rolled_back_from": current}
    return Verdict(summary, events={"deploy": {"extra": event}})
