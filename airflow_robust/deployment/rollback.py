"""Move an alias back one step (or to a given version), recorded in the alias history; a repeat is a no-op."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_robust.exceptions import ConfigurationError
from airflow_robust.registry.aliases import move_alias, previous_alias, resolve
from airflow_robust.registry.history import read_history
from airflow_robust.registry.tags import DEPLOY_STATUS_TAG

if TYPE_CHECKING:
    from airflow_robust.registry.store import ModelStore


def roll_back(
    client: ModelStore,
    *,
    name: str,
    alias: str,
    to_version: str | None,
    who: str,
    why: str,
    airflow: Mapping[str, str],
    artifact_root: str | None = None,
) -> dict[str, Any]:
    """Point ``name@alias`` at ``to_version`` (default ``previous_<alias>``); the caller holds the model's lease.

    Returns ``{"action": "noop", "version": ...}`` when there is nothing to undo (already there, or the
    last move of the alias was this very rollback), else ``{"action": "rollback", "version", "previous_version",
    "entry"}``. The replaced version is tagged ``robust.deploy.status=rolled_back``.
    """
    current = resolve(client, name, alias)
    target = to_version if to_version is not None else resolve(client, name, previous_alias(alias))
    if target == current or (target is None and _rolled_back_to(client, name, alias, current)):
        return {"action": "noop", "version": current}
    if target is None:
        raise ConfigurationError(
            f"{name}@{alias} has no {previous_alias(alias)} to roll back to; give to_version explicitly"
        )
    entry = move_alias(
        client,
        name=name,
        alias=alias,
        to_version=target,
        expected_from=current,
        action="rollback",
        who=who,
        why=why,
        airflow=airflow,
        artifact_root=artifact_root,
        keep_previous=False,
    )
    if current is not None:
        client.set_model_version_tag(name, current, DEPLOY_STATUS_TAG, "rolled_back")
    return {"action": "rollback", "version": target, "previous_version": current, "entry": entry}


def _rolled_back_to(client: ModelStore, name: str, alias: str, current: str | None) -> bool:
    """Whether the last move of ``name@alias`` was a rollback to ``current`` (a second rollback is a no-op)."""
    history = read_history(client, name, alias)
    return bool(history) and history[-1].get("action") == "rollback" and history[-1].get("to") == (current or "")
