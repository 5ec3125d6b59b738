"""Gate semantics shared by every gate operator (see DESIGN: "Gate semantics").

``conclude()`` writes the decision where a reviewer looks (``decision.json`` in the stage run,
``robust.<gate>.status`` tags, the XCom summary), then: passed -> return the summary;
``on_failure="warn"`` -> log, tag, return; ``"skip"`` -> skip downstream; ``"fail"`` -> raise
the gate's non-retryable error carrying the summary.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from airflow_robust.exceptions import GateFailure

GATE_MODES = ("fail", "skip", "warn")


def conclude(
    *,
    gate: str,
    passed: bool,
    summary: dict[str, Any],
    reason: str,
    on_failure: str,
    error: type[GateFailure],
    context: Any,
    log: logging.Logger | Any,
) -> dict[str, Any]:
    import mlflow

    status = "passed" if passed else ("warned" if on_failure == "warn" else "failed")
    summary = {**summary, "gate": gate, "status": status, "reason": reason}
    mlflow.log_dict(summary, "decision.json")
    mlflow.set_tags({f"robust.{gate}.status": status, f"robust.{gate}.reason": reason[:5000]})
    if passed:
        log.info("%s gate passed: %s", gate, reason)
        return summary
    context["ti"].xcom_push(key="return_value", value=summary)
    if on_failure == "warn":
        log.warning("%s gate failed (on_failure='warn', continuing): %s", gate, reason)
        return summary
    if on_failure == "skip":
        from airflow.sdk.exceptions import AirflowSkipException

        log.warning("%s gate failed (on_failure='skip', skipping downstream): %s", gate, reason)
        raise AirflowSkipException(f"{gate} gate failed: {reason}")
    raise error(f"{gate} gate failed: {reason}", summary=summary)


def jsonable(value: Any) -> Any:
    """``value`` with NaN/inf floats as ``None`` (strict JSON for XCom and ``decision.json``)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value
