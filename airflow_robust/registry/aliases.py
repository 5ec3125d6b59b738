"""Alias moves with compare-and-set, previous-alias bookkeeping and an audit entry."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_robust.exceptions import DeploymentRefused
from airflow_robust.registry.errors import Failure, classify
from airflow_robust.registry.history import record_move

if TYPE_CHECKING:
    from airflow_robust.registry.store import ModelStore

log = logging.getLogger(__name__)


def resolve(client: ModelStore, name: str, alias: str) -> str | None:
    """The version ``name@alias`` points at, or ``None`` when the alias is not set."""
    from mlflow.exceptions import MlflowException

    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException as err:
        if classify(err) is Failure.MISSING:
            return None
        raise


def previous_alias(alias: str) -> str:
    return f"previous_{alias}"


def move_alias(
    client: ModelStore,
    *,
    name: str,
    alias: str,
    to_version: str,
    expected_from: str | None,
    action: str,
    who: str,
    why: str,
    airflow: Mapping[str, str],
    artifact_root: str | None = None,
    extra: Mapping[str, Any] | None = None,
    keep_previous: bool = True,
) -> dict[str, Any]:
    """Point ``name@alias`` at ``to_version`` if it still points at ``expected_from`` (caller holds the lease).

    Sets ``previous_<alias>`` to the version it moves away from (``keep_previous``; a rollback
    instead removes it, so a second rollback finds nothing to undo) and appends to the history.
    Raises ``DeploymentRefused`` when the alias moved since the decision.
    """
    current = resolve(client, name, alias)
    if current != expected_from:
        raise DeploymentRefused(
            f"{name}@{alias} is version {current or '(unset)'} now but was {expected_from or '(unset)'} when the "
            f"decision was made: it moved in between, so the decision is stale. Re-run the promotion.",
            summary={"alias": alias, "current": current, "expected": expected_from},
        )
    if current == to_version:
        log.info("%s@%s already points at version %s", name, alias, to_version)
        return {"model": name, "alias": alias, "from": current, "to": to_version, "action": "noop"}
    client.set_registered_model_alias(name, alias, to_version)
    if keep_previous and current is not None:
        client.set_registered_model_alias(name, previous_alias(alias), current)
    elif not keep_previous and resolve(client, name, previous_alias(alias)) is not None:
        client.delete_registered_model_alias(name, previous_alias(alias))
    entry = record_move(
        client,
        model=name,
        alias=alias,
        from_version=current,
        to_version=to_version,
        action=action,
        who=who,
        why=why,
        airflow=airflow,
        extra=extra,
        artifact_root=artifact_root,
    )
    log.info("Moved %s@%s: %s -> %s (%s)", name, alias, current or "(unset)", to_version, action)
    return entry
