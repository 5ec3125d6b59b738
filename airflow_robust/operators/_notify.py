"""Tell people a review is waiting: Airflow notifiers (Slack, SMTP, ... or your own ``BaseNotifier``).

The notifier is called with the task's context plus ``airflow_robust`` (a dict: ``model``, ``version``,
``decision``, ``reason``, ``champion_version``, ``alias``, ``mlflow_url`` (the version page, the deep link),
``run_url`` (the decision run), ``airflow_url`` (where the DAG waits, when known)), so a templated
message can say ``{{ airflow_robust.mlflow_url }}``. A notifier that fails is logged and recorded in
the result; the decision it announces stands (it is already signed and recorded in MLflow).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow_robust.params import Constraint

CONTEXT_KEY = "airflow_robust"


def _is_notifier(value: Any) -> bool:
    return callable(value) and not isinstance(value, (str, bytes, type))


NOTIFIERS = Constraint(
    "an Airflow notifier (BaseNotifier, e.g. SlackNotifier) or a list of them",
    lambda v: _is_notifier(v) or (isinstance(v, (list, tuple)) and all(_is_notifier(n) for n in v)),
    optional=True,
    example_bad=("slack", ["smtp"]),
)


def as_list(notifiers: Any) -> list[Any]:
    if notifiers is None:
        return []
    return list(notifiers) if isinstance(notifiers, (list, tuple)) else [notifiers]


def notify(notifiers: Sequence[Any], context: Any, review: Mapping[str, Any], log: Any) -> list[str]:
    """Call each notifier with ``context`` + ``airflow_robust=review``; return the errors (empty: all sent)."""
    errors: list[str] = []
    if not notifiers:
        return errors
    context[CONTEXT_KEY] = dict(review)
    for notifier in notifiers:
        name = type(notifier).__name__
        try:
            notifier(context)
            log.info(
                "Notified %s: %s version %s is %s",
                name,
                review.get("model"),
                review.get("version"),
                str(review.get("decision", "")).replace("_", " "),
            )
        except Exception as err:  # noqa: BLE001 - a lost message must not undo a signed decision
            errors.append(f"{name}: {type(err).__name__}: {err}")
            log.error("Notifier %s failed (the decision stands and is recorded in MLflow): %s", name, err)
    return errors
