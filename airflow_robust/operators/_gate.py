"""Settle a stage's :class:`~airflow_robust.trust.gate.Verdict` in Airflow: notify, emit asset events, XCom,
and pass, warn, skip or fail as the gate's ``on_failure`` says (see DESIGN: "Gate semantics")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_robust.trust.gate import Verdict


def settle(verdict: Verdict, context: Any, log: Any, *, notifiers: Any = None, outlets: Any = None) -> dict[str, Any]:
    """The task's XCom value for ``verdict``, after telling people (``notifiers``) and assets (``outlets``)."""
    summary = verdict.summary
    for key, value in verdict.outputs.items():
        context["ti"].xcom_push(key=key, value=value)
    if verdict.review is not None and notifiers:
        from airflow_robust.operators._notify import as_list, notify

        errors = notify(as_list(notifiers), context, verdict.review, log)
        summary["notified"] = not errors
        if errors:
            summary["notify_errors"] = errors
    if verdict.events:
        from airflow_robust.operators._assets import emit

        emit(verdict.events, context, outlets, log)
    if verdict.gate is None or verdict.passed:
        return summary
    gate, reason = verdict.gate, verdict.reason
    context["ti"].xcom_push(key="return_value", value=summary)
    if verdict.on_failure == "warn":
        log.warning("%s gate failed (on_failure='warn', continuing): %s", gate, reason)
        return summary
    if verdict.on_failure == "skip":
        from airflow.sdk.exceptions import AirflowSkipException

        log.warning("%s gate failed (on_failure='skip', skipping downstream): %s", gate, reason)
        raise AirflowSkipException(f"{gate} gate failed: {reason}")
    raise verdict.error(f"{gate} gate failed: {reason}", summary=summary)
