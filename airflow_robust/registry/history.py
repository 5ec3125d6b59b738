"""Alias history: MLflow keeps none, so every alias move is recorded here.

Each move is one finished MLflow run in the experiment ``airflow-robust/alias-history``, tagged
``robust.history.*`` (model, alias, from, to, action, who, why, DAG id and run, sequence number)
with the full entry as ``entry.json``. Runs are append-only and visible in the MLflow UI;
``read_history`` returns the entries of one model and alias in order. Writers hold the model's
promotion lease (:mod:`airflow_robust.registry.lease`), so sequence numbers are gap-free.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_robust.registry.tags import HISTORY_PREFIX, HISTORY_WHEN_TAG
from airflow_robust.tracking.runs import ensure_experiment

if TYPE_CHECKING:
    from airflow_robust.registry.store import ModelStore

EXPERIMENT = "airflow-robust/alias-history"


def read_history(client: ModelStore, model: str, alias: str | None = None) -> list[dict[str, Any]]:
    """Entries for ``model`` (and ``alias``), oldest first."""
    experiment = client.get_experiment_by_name(EXPERIMENT)
    if experiment is None:
        return []
    query = f"tags.`{HISTORY_PREFIX}model` = '{_quote(model)}'"
    if alias:
        query += f" and tags.`{HISTORY_PREFIX}alias` = '{_quote(alias)}'"
    runs = client.search_runs([experiment.experiment_id], query, max_results=5000)
    entries = [_entry(run) for run in runs]
    return sorted(entries, key=lambda e: (int(e.get("seq", 0)), e.get("at", 0.0)))


def record_move(
    client: ModelStore,
    *,
    model: str,
    alias: str,
    from_version: str | None,
    to_version: str | None,
    action: str,
    who: str,
    why: str,
    airflow: Mapping[str, str],
    extra: Mapping[str, Any] | None = None,
    artifact_root: str | None = None,
) -> dict[str, Any]:
    """Append one entry (the caller holds the model's lease)."""
    previous = read_history(client, model, alias)
    entry: dict[str, Any] = {
        "seq": (int(previous[-1]["seq"]) + 1) if previous else 1,
        "model": model,
        "alias": alias,
        "from": from_version or "",
        "to": to_version or "",
        "action": action,
        "who": who,
        "why": why,
        "at": time.time(),
        **{f"airflow_{k}": v for k, v in airflow.items()},
        **(dict(extra) if extra else {}),
    }
    tags = {f"{HISTORY_PREFIX}{k}": str(v)[:5000] for k, v in entry.items() if not isinstance(v, (dict, list))}
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(entry["at"]))
    tags[HISTORY_WHEN_TAG] = when
    # what changed first: MLflow's run table cuts long names ("seattle_weather@cha...")
    tags["mlflow.runName"] = f"{from_version or '-'} -> {to_version or '-'} {action} @{alias} {model}"[:250]
    tags["mlflow.note.content"] = _note(entry, when)
    run = client.create_run(ensure_experiment(client, EXPERIMENT, artifact_root), tags=tags)
    client.log_dict(run.info.run_id, entry, "entry.json")
    client.set_terminated(run.info.run_id, "FINISHED")
    entry["run_id"] = run.info.run_id
    return entry


def _note(entry: Mapping[str, Any], when: str) -> str:
    """The run's description in the MLflow UI: the move in one readable paragraph."""
    dag = entry.get("airflow_dag_id")
    where = ""
    if dag:
        where = f" DAG `{dag}`, run `{entry.get('airflow_run_id', '')}`, task `{entry.get('airflow_task_id', '')}`."
    return (
        f"**{entry['model']} \\@{entry['alias']}: version {entry['from'] or '(unset)'} -> "
        f"{entry['to'] or '(unset)'}** ({entry['action']}, move {entry['seq']}) at {when} by {entry['who']}.\n\n"
        f"Why: {entry['why']}.{where}"
    )


def _entry(run: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        k.removeprefix(HISTORY_PREFIX): v for k, v in run.data.tags.items() if k.startswith(HISTORY_PREFIX)
    }
    entry["seq"] = int(entry.get("seq", 0))
    entry["at"] = float(entry.get("at", 0.0))
    entry["run_id"] = run.info.run_id
    return entry


def _quote(value: str) -> str:
    return value.replace("'", "\\'")
