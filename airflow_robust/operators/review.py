"""``ModelReviewOperator``: a person approves or rejects a pending promotion in Airflow, and Airflow says who.

Built on Airflow's human-in-the-loop ``ApprovalOperator`` (Airflow 3.1+,
``apache-airflow-providers-standard``): the request appears under *Required Actions* in the
Airflow UI with the verified evidence as its Markdown body; the response is recorded by Airflow's
auth manager (``responded_by_user``), so the approver is an authenticated person, not free text.
While waiting the task holds no worker slot. The decision is signed and mirrored to the MLflow
version (tags, description) and, at deploy time, into the alias history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, ClassVar

from airflow.providers.standard.operators.hitl import ApprovalOperator

from airflow_robust.exceptions import AirflowRobustError, ApprovalRejected
from airflow_robust.links import XCOM_RUN_URL, XCOM_VERSION_URL, MlflowModelVersionLink, MlflowRunLink
from airflow_robust.operators._edge import for_airflow, triggered_by
from airflow_robust.params import VERSION, Constraint, boolean, model_name, non_empty_str, validate

#: the placeholder subject; replaced at run time by "Approve <model> version <v> for @<alias>?"
DEFAULT_SUBJECT = "Review a model promotion"
_USERS = Constraint(
    "a list of {'id': ..., 'name': ...} dicts (Airflow users who may respond)",
    lambda v: isinstance(v, (list, tuple)) and all(isinstance(u, Mapping) and u.get("id") for u in v),
    optional=True,
    example_bad=("alice", [{"name": "alice"}]),
)


class ModelReviewOperator(ApprovalOperator):
    """Ask a person to approve or reject ``model_name`` version ``version`` (a pending promotion).

    :param model_name: registered model name.
    :param version: the version under review (templated).
    :param separation_of_duties: the person who triggered the DAG run may not approve it; default ``True``.
    :param assigned_users: Airflow users who may respond (``[{"id": "bob", "name": "bob"}]``); default: anyone
        with access to the DAG. For an N-of-M quorum give N review tasks the same M users and
        ``DeployModelOperator(min_approvals=N)``: one person answering twice counts once.
    :param response_timeout: no answer within this time means rejection; default 7 days.
    :param subject: the title of the Required Action (templated); default
        "Approve <model> version <v> for @<alias>?", filled in at run time.
    :param notifiers: Airflow notifiers told when the review is requested (e.g. Slack, SMTP); their templates
        see ``airflow_robust`` (``model``, ``version``, ``reason``, ``mlflow_url``, ``airflow_url``: the
        Required Actions page where the reviewer answers).
    :param mlflow_conn_id: default ``mlflow_default``.
    :param signing_conn_id: default ``airflow_robust_signing``.

    The body shows the promotion's decision as signed by the promotion gate (not the editable MLflow
    description). Approve: the decision is signed with the responding user (``verified=true``).
    Reject or timeout: signed as a rejection, ``@challenger`` is removed (recorded in the alias
    history) and downstream tasks are skipped: a human "no" is a normal outcome, the DAG run stays
    green. Returns (XCom) ``status``, ``by``, ``by_id``, ``verified``, ``reason``, ``decided_at``,
    ``run_id``, ``responded_by_user``, ``chosen_options``.
    """

    template_fields: Sequence[str] = ("model_name", "version", "subject", "body")
    operator_extra_links = (MlflowRunLink(), MlflowModelVersionLink())
    PARAMETERS: ClassVar[Mapping[str, Constraint]] = {
        "model_name": model_name(),
        "version": VERSION,
        "mlflow_conn_id": non_empty_str(),
        "signing_conn_id": non_empty_str(),
        "separation_of_duties": boolean(),
        "assigned_users": _USERS,
    }

    def __init__(
        self,
        *,
        model_name: str,
        version: str | int,
        separation_of_duties: bool = True,
        assigned_users: list[dict[str, str]] | None = None,
        response_timeout: timedelta = timedelta(days=7),
        mlflow_conn_id: str = "mlflow_default",
        signing_conn_id: str = "airflow_robust_signing",
        subject: str = DEFAULT_SUBJECT,
        notifiers: Any = None,
        **kwargs: Any,
    ) -> None:
        if notifiers is not None:
            kwargs["notifiers"] = notifiers  # Airflow's HITL operator tells them when the review is requested
        super().__init__(
            subject=subject,
            defaults=[self.REJECT],  # a timeout resolves to "Reject": silence never deploys
            response_timeout=response_timeout,
            assigned_users=assigned_users,  # type: ignore[arg-type,unused-ignore]
            **kwargs,
        )
        self.model_name = model_name
        self.version = version
        self.separation_of_duties = separation_of_duties
        self.mlflow_conn_id = mlflow_conn_id
        self.signing_conn_id = signing_conn_id

    def parameter_values(self) -> dict[str, Any]:
        return {name: getattr(self, name, None) for name in self.PARAMETERS}

    def execute(self, context: Any) -> Any:
        try:
            validate(type(self).__name__, self.PARAMETERS, self.parameter_values())
            subject, self.body, review = self._request(context)
            if self.subject == DEFAULT_SUBJECT:  # a subject the DAG author chose is kept
                self.subject = subject
        except AirflowRobustError as err:
            raise for_airflow(err) from err
        from airflow_robust.operators._notify import CONTEXT_KEY

        try:  # the Required Actions page: the deep link a notifier sends
            review["airflow_url"] = self.generate_link_to_ui_from_context(context=context)
        except Exception as err:  # noqa: BLE001 - no [api] base_url: the MLflow link still goes out
            self.log.warning("No link to the Airflow UI for notifiers (%s); set [api] base_url", err)
            review["airflow_url"] = None
        context[CONTEXT_KEY] = review  # what `notifiers` see as {{ airflow_robust.* }}
        # the task's Extra Links while it waits: the version under review and the signed decision's run
        context["ti"].xcom_push(key=XCOM_VERSION_URL, value=review["mlflow_url"])
        if review.get("run_url"):
            context["ti"].xcom_push(key=XCOM_RUN_URL, value=review["run_url"])
        return super().execute(context)

    def _request(self, context: Any) -> tuple[str, str, dict[str, Any]]:
        """Subject and Markdown body from the *verified* promotion decision (fails closed if it does not verify)."""
        from airflow_robust.exceptions import EvidenceError
        from airflow_robust.hooks.mlflow import MlflowHook
        from airflow_robust.hooks.signing import signing_key
        from airflow_robust.operators._approval import pending_promotion
        from airflow_robust.promotion.gate import review_markdown
        from airflow_robust.registry.versions import get_version

        name, version = self.model_name, str(self.version)
        hook = MlflowHook(self.mlflow_conn_id)
        with hook.applied() as config:
            client = hook.get_client()
            try:
                get_version(client, name, version, type(self).__name__, parameter="version")
                key = signing_key(config, self.signing_conn_id)
                promotion, decision = pending_promotion(client, key, name, version)
            except EvidenceError as err:
                raise ApprovalRejected(f"nothing to review on {name!r} version {version}: {err}") from err
            except AirflowRobustError:
                raise
            except Exception as err:
                raise hook.translate(err) from err
        alias = promotion.facts.get("champion_alias") or "champion"
        triggered = triggered_by(context)
        lines = [
            f"**Decide: may {name} version {version} replace @{alias}?** "
            f"[Open the version in MLflow]({config.model_version_url(name, version)})",
            "",
            review_markdown(decision, str(decision.get("reason", "")), config),
            "",
            f"The evidence above is the promotion gate's signed decision (run `{promotion.run_id}`); "
            "deploy re-verifies it and the model files before moving the alias.",
        ]
        if self.separation_of_duties and triggered:
            lines += ["", f"Separation of duties: **{triggered}** triggered this DAG run and may not approve it."]
        subject = f"Approve {name} version {version} for @{alias}?"
        review = {
            "model": name,
            "version": version,
            "decision": "pending_approval",
            "reason": str(decision.get("reason", "")),
            "champion_version": decision.get("champion_version"),
            "alias": alias,
            "mlflow_url": config.model_version_url(name, version),
            "run_url": decision.get("run_url"),
        }
        return subject, "\n".join(lines), review

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        from airflow_robust.operators._approval import Review, record_review

        if "error" in event:
            return super().execute_complete(context, event)  # the provider raises its own timeout/error
        user: dict[str, Any] = dict(event.get("responded_by_user") or {})
        chosen = list(event.get("chosen_options") or [])
        timed_out = bool(event.get("timedout")) or not user
        approved = chosen == [self.APPROVE] and not timed_out
        reason = str((event.get("params_input") or {}).get("reason") or "")
        if timed_out:
            why = reason or "no answer in time: timeout means rejection"
            review = Review(False, "timeout", "timeout", True, "timeout", why)
        else:
            by, by_id = str(user.get("name") or user.get("id")), str(user.get("id") or user.get("name"))
            triggered = triggered_by(context)
            if approved and self.separation_of_duties and triggered and triggered in (by, by_id):
                raise for_airflow(
                    ApprovalRejected(
                        f"separation of duties: {by} triggered this DAG run and may not approve "
                        f"{self.model_name} version {self.version}; nothing was approved. Another person must "
                        "approve (clear this task to ask again), or set separation_of_duties=False."
                    )
                )
            review = Review(approved, by, by_id, True, "airflow-hitl", reason)
        summary = record_review(
            mlflow_conn_id=self.mlflow_conn_id,
            context=context,
            signing_conn_id=self.signing_conn_id,
            name=self.model_name,
            version=str(self.version),
            review=review,
        )
        self.log.info(
            "%s %s version %s: %s by %s (authenticated by Airflow: %s)",
            "Approved" if approved else "Rejected",
            self.model_name,
            self.version,
            summary["status"],
            review.by,
            review.verified and not timed_out,
        )
        stamp = getattr(event.get("responded_at"), "isoformat", None)
        result = {
            **summary,
            "responded_by_user": user or None,
            "responded_at": stamp() if callable(stamp) else event.get("responded_at"),
            "chosen_options": chosen,
        }
        if not approved:  # the provider skips downstream by raising: push the result first
            context["ti"].xcom_push(key="return_value", value=result)
        super().execute_complete(context, {**event, "chosen_options": [self.APPROVE if approved else self.REJECT]})
        return result
