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
from airflow_robust.params import VERSION, Constraint, boolean, model_name, non_empty_str, number_in, validate
from airflow_robust.registry.tags import APPROVAL_TAG


class ModelApprovalSensor(BaseSensorOperator):
    """Wait for the ``robust.approval`` tag a reviewer sets in the MLflow UI; sign the decision.

    The reviewer sets the tag on the model version page of the MLflow UI (``PromoteModelOperator``
    with ``approval="manual"`` leaves it ``pending``). Values are normalised (``Approved``,
    ``approved `` and ``approve`` are "approved"); any other value is logged as a warning while
    waiting. MLflow does not record who set a tag, and anyone with EDIT rights can set it: the
    decision is signed and recorded with ``verified=false`` and ``by`` taken from the optional
    ``robust.approval.by`` tag. Where the approver must be a known person, use
    :class:`~airflow_robust.operators.review.ModelReviewOperator` (Airflow's human-in-the-loop)
    and ``DeployModelOperator(require_verified_approver=True)``.

    Deferrable by default: the wait runs in the triggerer and holds no worker slot. ``timeout``
    (default 7 days) means rejection. 401/403 from MLflow fail the task at once (no retries).

    :param model_name: registered model name.
    :param version: the version under review (templated).
    :param mlflow_conn_id: default ``mlflow_default``.
    :param signing_conn_id: default
        ``airflow_robust_signing`` (the key that signs the decision).
    :param tag: the tag to watch; default ``robust.approval``.
    :param deferrable: default ``True``.
    :param poke_interval: seconds between reads; default 30.
    :param timeout: seconds until "no review" means rejection; default 7 days.

    Returns (XCom) ``status``, ``by``, ``verified``, ``reason``, ``decided_at``, ``model_name``,
    ``version``, ``run_id``.
    """

    template_fields: Sequence[str] = ("model_name", "version")
    operator_extra_links = (MlflowRunLink(),)
    PARAMETERS: ClassVar[Mapping[str, Constraint]] = {
        "model_name": model_name(),
        "version": VERSION,
        "mlflow_conn_id": non_empty_str(),
        "signing_conn_id": non_empty_str(),
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
        signing_conn_id: str = "airflow_robust_signing",
        tag: str = APPROVAL_TAG,
        deferrable: bool = True,
        poke_interval: float = 30.0,
        timeout: float = 7 * 24 * 3600,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, timeout=timeout, **kwargs)
        self.model_name = model_name
        self.version = version
        self.mlflow_conn_id = mlflow_conn_id
        self.signing_conn_id = signing_conn_id
        self.tag = tag
        self.deferrable = deferrable
        self._warned = ""

    def parameter_values(self) -> dict[str, Any]:
        return {name: getattr(self, name, None) for name in self.PARAMETERS}

    def execute(self, context: Any) -> Any:
        try:
            validate(type(self).__name__, self.PARAMETERS, self.parameter_values())
            self._require_version()
            state = self._read()
        except AirflowRobustError as err:
            raise for_airflow(err) from err
        if state["status"] in ("approved", "rejected"):
            return self._finish(context, state)
        self.log.info(
            "Waiting for a reviewer: %s version %s has %s=%r", self.model_name, self.version, self.tag, state["raw"]
        )
        if not self.deferrable:
            super().execute(context)
            return self._finish(context, self._read())
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
        from airflow_robust.registry.versions import get_version

        hook = MlflowHook(self.mlflow_conn_id)
        with hook.applied():
            client = hook.get_client()
            try:
                get_version(client, self.model_name, str(self.version), type(self).__name__, parameter="version")
            except AirflowRobustError:
                raise
            except Exception as err:
                raise hook.translate(err) from err

    def poke(self, context: Any) -> bool:
        state = self._read()
        if state["status"] == "unknown" and state["raw"] != self._warned:
            from airflow_robust.triggers.approval import unknown_value_message

            self._warned = state["raw"]
            self.log.warning(unknown_value_message(self.tag, state["raw"], self.model_name, str(self.version)))
        return state["status"] in ("approved", "rejected")

    def execute_complete(self, context: Any, event: dict[str, Any]) -> dict[str, Any]:
        if event.get("status") == "error":
            from airflow_robust.exceptions import TrackingAuthError

            raise for_airflow(TrackingAuthError(str(event.get("error"))))
        return self._finish(context, event)

    def _read(self) -> dict[str, Any]:
        from airflow_robust.triggers.approval import read_approval

        return read_approval(self.mlflow_conn_id, self.model_name, str(self.version), self.tag)

    def _finish(self, context: Any, state: Mapping[str, Any]) -> dict[str, Any]:
        from airflow_robust.operators._approval import Review, record_review

        status = state.get("status", "")
        if status == "timeout":
            review = Review(
                False,
                "timeout",
                "timeout",
                True,
                "timeout",
                f"no review within {float(self.timeout):.0f} s: timeout means rejection",
            )
        else:
            by = str(state.get("by") or "unknown (MLflow does not record who set a tag)")
            review = Review(status == "approved", by, by, False, "mlflow-tag", str(state.get("reason") or ""))
        summary = record_review(
            mlflow_conn_id=self.mlflow_conn_id,
            context=context,
            signing_conn_id=self.signing_conn_id,
            name=self.model_name,
            version=str(self.version),
            review=review,
        )
        if summary["status"] != "approved":
            raise for_airflow(
                ApprovalRejected(
                    f"{self.model_name} version {self.version} was not approved: rejected by {review.by}"
                    + (f" ({review.reason})" if review.reason else ""),
                    summary=summary,
                )
            )
        self.log.info(
            "Approved %s version %s by %s (identity not verified: the MLflow tag path) at %s",
            self.model_name,
            self.version,
            summary["by"],
            summary["decided_at"],
        )
        return summary
