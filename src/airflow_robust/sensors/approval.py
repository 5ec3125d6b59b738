"""``ModelApprovalSensor``: wait for a reviewer to approve or reject a model version in the MLflow UI."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, ClassVar

from airflow.sdk import BaseSensorOperator

from airflow_robust.exceptions import AirflowRobustError, ApprovalRejected
from airflow_robust.links import MlflowRunLink
from airflow_robust.operators._edge import for_airflow
from airflow_robust.operators.promote import _VERSION
from airflow_robust.params import Constraint, boolean, model_name, non_empty_str, number_in, validate


class ModelApprovalSensor(BaseSensorOperator):
    """Release when ``robust.approval`` on the version is ``approved``; fail (no retry) on ``rejected``.

    The reviewer sets the tag on the model version page of the MLflow UI (``PromoteModelOperator``
    with ``approval="manual"`` leaves it ``pending``). Deferrable by default: the wait runs in the
    triggerer and holds no worker slot. ``timeout`` (default 7 days) means rejection: the version
    is tagged ``robust.approval=rejected`` with the reason. The decision is recorded on the
    version: ``robust.approval.decided_at`` and, when the reviewer set it, ``robust.approval.by``.
    Returns (XCom) ``status``, ``by``, ``reason``, ``decided_at``, ``model_name``, ``version``.
    """

    template_fields: Sequence[str] = ("model_name", "version")
    operator_extra_links = (MlflowRunLink(),)
    PARAMETERS: ClassVar[Mapping[str, Constraint]] = {
        "model_name": model_name(),
        "version": _VERSION,
        "mlflow_conn_id": non_empty_str(),
        "tag": non_empty_str(),
        "deferrable": boolean(),
        "poke_interval": number_in(0.1, 86400),
    }

    def __init__(
        self,
        *,
        model_name: str,
        version: str | int,
        mlflow_conn_id: str = "mlflow_default",
        tag: str = "robust.approval",
        deferrable: bool = True,
        poke_interval: float = 30.0,
        timeout: float = 7 * 24 * 3600,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, timeout=timeout, **kwargs)
        self.model_name = model_name
        self.version = version
        self.mlflow_conn_id = mlflow_conn_id
        self.tag = tag
        self.deferrable = deferrable

    def parameter_values(self) -> dict[str, Any]:
        return {name: getattr(self, name, None) for name in self.PARAMETERS}

    def execute(self, context: Any) -> Any:
        try:
            validate(type(self).__name__, self.PARAMETERS, self.parameter_values())
            self._require_version()
        except AirflowRobustError as err:
            raise for_airflow(err) from err
        state = self._read()
        if state["status"] in ("approved", "rejected"):
            return self._finish(state)
        self.log.info(
            "Waiting for a reviewer: %s version %s has %s=%r", self.model_name, self.version, self.tag, state["status"]
        )
        if not self.deferrable:
            super().execute(context)
            return self._finish(self._read())
        from airflow_robust.triggers.approval import ApprovalTrigger

        self.defer(
            trigger=ApprovalTrigger(
                self.mlflow_conn_id,
                self.model_name,
                str(self.version),
                self.tag,
                float(self.poke_interval),
                time.time() + float(self.timeout),
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=float(self.timeout) + 60),
        )

    def _require_version(self) -> None:
        """Unknown model or version: a clear error now, not a wait until the timeout."""
        from airflow_robust.hooks.mlflow import MlflowHook
        from airflow_robust.operators._promote_stage import get_version

        hook = MlflowHook(self.mlflow_conn_id)
        with hook.applied():
            client = hook.get_client()
            get_version(client, self.model_name, str(self.version), type(self).__name__, parameter="version")

    def poke(self, context: Any) -> bool:
        return self._read()["status"] in ("approved", "rejected")

    def execute_complete(self, context: Any, event: dict[str, Any]) -> dict[str, Any]:
        return self._finish(event)

    def _read(self) -> dict[str, Any]:
        from airflow_robust.triggers.approval import read_approval

        return read_approval(self.mlflow_conn_id, self.model_name, str(self.version), self.tag)

    def _finish(self, state: Mapping[str, Any]) -> dict[str, Any]:
        from airflow_robust.hooks.mlflow import MlflowHook

        status = state.get("status", "")
        decided_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(float(state.get("noticed_at") or time.time())))
        reason = state.get("reason") or ""
        hook = MlflowHook(self.mlflow_conn_id)
        with hook.applied():
            client = hook.get_client()
            name, version = self.model_name, str(self.version)
            if status == "timeout":
                reason = f"no review within {float(self.timeout):.0f} s: timeout means rejection"
                client.set_model_version_tag(name, version, self.tag, "rejected")
                client.set_model_version_tag(name, version, f"{self.tag}.reason", reason)
                client.set_model_version_tag(name, version, f"{self.tag}.by", "timeout")
            client.set_model_version_tag(name, version, f"{self.tag}.decided_at", decided_at)
        summary = {
            "model_name": self.model_name,
            "version": str(self.version),
            "status": "approved" if status == "approved" else "rejected",
            "by": state.get("by")
            or ("timeout" if status == "timeout" else "unknown (MLflow does not record who set a tag)"),
            "reason": reason,
            "decided_at": decided_at,
        }
        if summary["status"] != "approved":
            raise for_airflow(
                ApprovalRejected(
                    f"{self.model_name} version {self.version} was not approved: {status} {reason}".rstrip(),
                    summary=summary,
                )
            )
        self.log.info("Approved %s version %s by %s at %s", self.model_name, self.version, summary["by"], decided_at)
        return summary
