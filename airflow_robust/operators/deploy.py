"""``DeployModelOperator`` and ``RollbackModelOperator``: alias moves with compare-and-set and history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_robust.operators._assets import DEPLOY_ASSET_PREFIX
from airflow_robust.operators.base import LeasedOperator, RobustBaseOperator
from airflow_robust.params import VERSION, Constraint, alias_name, boolean, model_name, non_empty_str, number_in

if TYPE_CHECKING:
    from airflow_robust.hooks.mlflow import MlflowHook
    from airflow_robust.tracking.runs import StageRun


def _with_deployment_outlet(kwargs: dict[str, Any], model_name: str) -> dict[str, Any]:
    """Default ``outlets`` to the model's deployment Asset (not when the name is templated)."""
    if "outlets" not in kwargs and "{{" not in model_name:
        kwargs["outlets"] = [deployment_asset(model_name)]
    return kwargs


def deployment_asset(model_name: str) -> Any:
    """The Asset a deployment of ``model_name`` updates (schedule other DAGs on it)."""
    from airflow.sdk import Asset

    return Asset(f"{DEPLOY_ASSET_PREFIX}{model_name}")


class DeployModelOperator(LeasedOperator):
    """Check a version for serving in a fresh process, then move ``alias`` to it with compare-and-set.

    :param model_name: registered model name.
    :param version: the version (templated).
    :param alias: default ``"champion"``.
    :param sample_data: optional data URI whose first ``sample_rows`` rows are scored in the check.
    :param sample_rows: default ``200``.
    :param latency_budget: seconds the sample prediction may take (``None`` = no budget).
    :param require_approval: default ``True``: the version is deployed only when its evidence verifies,
        re-derived from signed runs, never from tags: its registration and every gate the promotion
        required name this version and the digest its files have *now*; the promotion judged this
        ``alias`` and passed; a manual promotion has ``min_approvals`` signed approvals of that very
        decision and no rejection. ``False`` deploys without any of this and records the bypass in the
        alias history, on the version's tags and in its description.
    :param min_approvals: distinct approvers a manual promotion needs (N-of-M: give N review tasks the
        same ``assigned_users``); default ``1``.
    :param require_verified_approver: count only approvals whose person Airflow authenticated
        (``ModelReviewOperator``), not the MLflow-tag path; default ``False``.
    :param reason: recorded in the alias history; default names the DAG run.
    :param rollback_dag_id: the DAG that undoes this deployment (one with ``RollbackModelOperator``):
        named, with its Airflow link, in the version's description and on the registered model
        (tags ``robust.rollback.<alias>.dag`` and ``.url``), so a reader of MLflow knows where to go.
    :param lease_ttl: seconds the model's promotion lease lives while this task holds it.
    :param lease_wait: seconds to wait in the task for the lease before rescheduling (no worker slot is
        held while another DAG run has it).

    Emits an event on ``Asset("x-airflow-robust://deploy/<model_name>")`` with the name, version,
    alias and metrics. Returns (XCom) ``model_name``, ``version``, ``alias``, ``previous_version``,
    ``history_entry``, ``serving_check``.
    """

    stage = "deploy"
    template_fields: Sequence[str] = ("model_name", "version", "alias", "sample_data", "reason", "experiment_name")
    PARAMETERS: ClassVar[Mapping[str, Constraint]] = {
        **RobustBaseOperator.PARAMETERS,
        "model_name": model_name(),
        "version": VERSION,
        "alias": alias_name(),
        "sample_data": non_empty_str().or_none(),
        "sample_rows": number_in(1, 10**7, integer=True),
        "latency_budget": number_in(0, 3600, low_open=True).or_none(),
        "require_approval": boolean(),
        "min_approvals": number_in(1, 100, integer=True),
        "require_verified_approver": boolean(),
        "reason": non_empty_str().or_none(),
        "rollback_dag_id": non_empty_str().or_none(),
        "lease_ttl": number_in(10, 7 * 24 * 3600),
        "lease_wait": number_in(0, 24 * 3600),
    }

    def __init__(
        self,
        *,
        model_name: str,
        version: str | int,
        alias: str = "champion",
        sample_data: str | None = None,
        sample_rows: int = 200,
        latency_budget: float | None = None,
        require_approval: bool = True,
        min_approvals: int = 1,
        require_verified_approver: bool = False,
        reason: str | None = None,
        rollback_dag_id: str | None = None,
        lease_ttl: float = 1800,
        lease_wait: float = 60,
        **kwargs: Any,
    ) -> None:
        super().__init__(**_with_deployment_outlet(kwargs, model_name))
        self.model_name = model_name
        self.version = version
        self.rollback_dag_id = rollback_dag_id
        self.alias = alias
        self.sample_data = sample_data
        self.sample_rows = sample_rows
        self.latency_budget = latency_budget
        self.require_approval = require_approval
        self.min_approvals = min_approvals
        self.require_verified_approver = require_verified_approver
        self.reason = reason
        self.lease_ttl = lease_ttl
        self.lease_wait = lease_wait

    def leased_stage(self, context: Any, run: StageRun, hook: MlflowHook) -> dict[str, Any]:
        from airflow_robust.deployment.stage import deploy

        return self.settle(deploy(self, run, hook), context)


class RollbackModelOperator(LeasedOperator):
    """Move ``alias`` back to ``previous_<alias>`` (or ``to_version``); running it twice is harmless.

    :param model_name: registered model name.
    :param alias: default ``"champion"``.
    :param to_version: roll back to this version instead of ``previous_<alias>``.
    :param reason: recorded in the alias history (required in spirit: say why).
    :param lease_ttl: seconds the model's promotion lease lives while this task holds it.
    :param lease_wait: seconds to wait in the task for the lease before rescheduling (no worker slot is
        held while another DAG run has it).
    """

    stage = "rollback"
    template_fields: Sequence[str] = ("model_name", "alias", "to_version", "reason", "experiment_name")
    PARAMETERS: ClassVar[Mapping[str, Constraint]] = {
        **RobustBaseOperator.PARAMETERS,
        "model_name": model_name(),
        "alias": alias_name(),
        "to_version": VERSION.or_none(),
        "reason": non_empty_str(),
        "lease_ttl": number_in(10, 7 * 24 * 3600),
        "lease_wait": number_in(0, 24 * 3600),
    }

    def __init__(
        self,
        *,
        model_name: str,
        alias: str = "champion",
        to_version: str | int | None = None,
        reason: str = "rollback requested",
        lease_ttl: float = 600,
        lease_wait: float = 60,
        **kwargs: Any,
    ) -> None:
        super().__init__(**_with_deployment_outlet(kwargs, model_name))
        self.model_name = model_name
        self.alias = alias
        self.to_version = to_version
        self.reason = reason
        self.lease_ttl = lease_ttl
        self.lease_wait = lease_wait

    def leased_stage(self, context: Any, run: StageRun, hook: MlflowHook) -> dict[str, Any]:
        from airflow_robust.deployment.stage import rollback

        return self.settle(rollback(self, run, hook), context)
