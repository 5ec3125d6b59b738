"""Bodies of DeployModelOperator and RollbackModelOperator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from typing import TYPE_CHECKING, Any

from airflow_robust.exceptions import DeploymentRefused
from airflow_robust.tracking.connectivity import is_unreachable_text

if TYPE_CHECKING:
    from airflow_robust.hooks.mlflow import MlflowHook
    from airflow_robust.operators.deploy import DeployModelOperator, RollbackModelOperator
    from airflow_robust.tracking.runs import StageRun


def _airflow(run: StageRun) -> dict[str, str]:
    identity = run.identity
    return {"dag_id": identity.dag_id, "run_id": identity.run_id, "task_id": identity.task_id}


def _who(run: StageRun) -> str:
    return f"airflow:{run.identity.dag_id}/{run.identity.run_id}/{run.identity.task_id}"


def deploy_stage(op: DeployModelOperator, context: Any, run: StageRun, hook: MlflowHook) -> dict[str, Any]:
    import mlflow

    from airflow_robust.operators._promote_stage import APPROVAL_TAG, get_version
    from airflow_robust.registry.aliases import move_alias, resolve
    from airflow_robust.registry.lease import held, holder_for

    owner = type(op).__name__
    client = hook.get_client()
    config = hook.get_config()
    name, version = op.model_name, str(op.version)
    record = get_version(client, name, version, owner, parameter="version")
    _require_approval(op, record)
    serving = _serving_check(op, owner, name, version)
    mlflow.log_dict(serving, "serving_check.json")
    mlflow.log_metrics({k: float(v) for k, v in serving.items() if k.endswith("_seconds")})
    if not serving.get("passed"):
        problems = "; ".join(serving.get("problems", []))
        if is_unreachable_text(problems):  # the fresh process could not fetch the model: retry, don't refuse
            raise hook.unavailable(RuntimeError(problems))
        client.set_model_version_tag(name, version, "robust.deploy.status", "failed")
        raise DeploymentRefused(
            f"version {version} of {name!r} failed its serving check: {problems}",
            summary={"serving_check": serving},
        )
    holder = holder_for(run.identity.dag_id, run.identity.run_id)
    with held(client, name, holder, ttl=float(op.lease_ttl), wait=float(op.lease_wait)):
        record = client.get_model_version(name, version)  # re-read just before the write
        _require_approval(op, record)
        expected = (
            record.tags.get("robust.promotion.champion_before") or None
            if op.require_approval and op.alias == "champion"
            else resolve(client, name, op.alias)
        )
        entry = move_alias(
            client,
            name=name,
            alias=op.alias,
            to_version=version,
            expected_from=expected,
            action="deploy",
            who=record.tags.get(f"{APPROVAL_TAG}.by") or _who(run),
            why=op.reason or record.tags.get("robust.promotion.reason", "") or "deploy",
            airflow=_airflow(run),
            artifact_root=config.artifact_root,
            extra={"decision_run": record.tags.get("robust.promotion.run_id", ""), "deploy_run": run.run_id},
        )
        challenger = resolve(client, name, "challenger")
        if challenger == version and op.alias != "challenger":
            client.delete_registered_model_alias(name, "challenger")
        client.set_model_version_tag(name, version, "robust.deploy.status", "deployed")
        client.set_model_version_tag(
            name, version, f"robust.deploy.{op.alias}", config.run_url(run.experiment_id, run.run_id)
        )
    metrics = _training_metrics(client, record)
    summary = {
        "model_name": name,
        "version": version,
        "alias": op.alias,
        "previous_version": entry.get("from") or None,
        "history_entry": {k: v for k, v in entry.items() if isinstance(v, (str, int, float))},
        "serving_check": serving,
        "metrics": metrics,
    }
    _emit(op, context, {"model_name": name, "version": version, "alias": op.alias, "metrics": metrics})
    mlflow.set_tags({"robust.deploy.status": "deployed", "robust.model_name": name, "robust.model_version": version})
    mlflow.log_dict(summary, "decision.json")
    op.log.info("%s@%s -> version %s (was %s)", name, op.alias, version, summary["previous_version"] or "unset")
    return summary


def _require_approval(op: DeployModelOperator, record: Any) -> None:
    if not op.require_approval:
        return
    from airflow_robust.operators._promote_stage import APPROVAL_TAG

    status = record.tags.get("robust.promotion.status", "")
    approval = record.tags.get(APPROVAL_TAG, "")
    if status != "passed" or approval != "approved":
        raise DeploymentRefused(
            f"version {record.version} of {record.name!r} is not cleared for deployment: "
            f"robust.promotion.status={status or '(none)'}, {APPROVAL_TAG}={approval or '(none)'} "
            "(needs passed and approved; set require_approval=False to deploy without the promotion gate)",
            summary={"promotion_status": status, "approval": approval},
        )


def _serving_check(op: DeployModelOperator, owner: str, name: str, version: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        args = [sys.executable, "-m", "airflow_robust.registry.serving", f"models:/{name}/{version}"]
        if op.sample_data:
            from airflow_robust.operators._data import load

            _, frame = load(owner, op.sample_data, parameter="sample_data")
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


def _training_metrics(client: Any, record: Any) -> dict[str, float]:
    try:
        return dict(client.get_run(record.run_id).data.metrics) if record.run_id else {}
    except Exception:  # noqa: BLE001 - metrics are informative only
        return {}


def _emit(op: Any, context: Any, extra: dict[str, Any]) -> None:
    events = context.get("outlet_events") if hasattr(context, "get") else None
    if events is None:
        return
    for outlet in op.outlets or []:
        if getattr(outlet, "uri", "").startswith("x-airflow-robust://deploy/"):
            events[outlet].extra = extra


def rollback_stage(op: RollbackModelOperator, context: Any, run: StageRun, hook: MlflowHook) -> dict[str, Any]:
    import mlflow

    from airflow_robust.operators._promote_stage import get_version, require_model
    from airflow_robust.registry.lease import held, holder_for
    from airflow_robust.registry.rollback import roll_back

    client = hook.get_client()
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
            who=_who(run),
            why=op.reason,
            airflow=_airflow(run),
            artifact_root=hook.get_config().artifact_root,
        )
    if outcome["action"] == "noop":
        op.log.info("%s@%s already points at version %s; nothing to do.", name, op.alias, outcome["version"])
        noop: dict[str, Any] = {"model_name": name, "alias": op.alias, "version": outcome["version"], "action": "noop"}
        mlflow.log_dict(noop, "decision.json")
        return noop
    target, current = outcome["version"], outcome["previous_version"]
    summary: dict[str, Any] = {
        "model_name": name,
        "alias": op.alias,
        "version": target,
        "previous_version": current,
        "action": "rollback",
        "history_entry": {k: v for k, v in outcome["entry"].items() if isinstance(v, (str, int, float))},
    }
    _emit(op, context, {"model_name": name, "version": target, "alias": op.alias, "rolled_back_from": current})
    mlflow.log_dict(summary, "decision.json")
    mlflow.set_tags({"robust.rollback.status": "done", "robust.model_name": name})
    return summary
