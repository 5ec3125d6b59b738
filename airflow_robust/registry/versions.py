"""Register model versions idempotently: one version per (DAG run, task, map index)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_robust.exceptions import ConfigurationError, InvalidParameterError
from airflow_robust.registry.errors import Failure, classify
from airflow_robust.registry.tags import gate_tag
from airflow_robust.tracking.identity import TAG_TASK_KEY, StageIdentity

if TYPE_CHECKING:
    from airflow_robust.registry.store import ModelStore

log = logging.getLogger(__name__)


def find_task_version(client: ModelStore, name: str, identity: StageIdentity) -> Any | None:
    """The version an earlier try of this task (same DAG run, task, map index) registered, if any."""
    _check_name(name)
    from mlflow.exceptions import MlflowException

    try:
        versions = client.search_model_versions(
            filter_string=f"name = '{name}' and tags.`{TAG_TASK_KEY}` = '{identity.task_key}'",
            max_results=10,
        )
    except MlflowException as err:
        if classify(err) is Failure.MISSING:
            return None
        raise
    ready = [v for v in versions if getattr(v, "status", "READY") == "READY"]
    return min(ready, key=lambda v: int(v.version)) if ready else None


def register_version(
    client: ModelStore,
    name: str,
    model_uri: str,
    *,
    run_id: str,
    tags: Mapping[str, str],
    description: str | None = None,
    model_id: str | None = None,
) -> Any:
    """Create ``name`` if needed (race-safe) and register ``model_uri`` as a new version with ``tags``.

    ``model_id`` (MLflow 3's logged-model id) is required by a tracking *server* for a
    ``models:/m-...`` source; the SQLite store accepts the source without it.
    """
    _check_name(name)
    from mlflow.exceptions import MlflowException

    try:
        client.create_registered_model(name, description="Registered by airflow-robust.")
    except MlflowException as err:
        if classify(err) is not Failure.EXISTS:
            raise
    version = client.create_model_version(
        name=name, source=model_uri, run_id=run_id, tags=dict(tags), description=description, model_id=model_id
    )
    log.info("Registered %s version %s from %s", name, version.version, model_uri)
    return version


def _check_name(name: str) -> None:
    if not name or any(ch in name for ch in "'\"\\`\n"):
        raise ConfigurationError(f"Registered model name {name!r} must be non-empty and contain no quotes.")


def upstream_gate_tags(
    client: ModelStore, experiment_id: str, run_key: str, gates: tuple[str, ...] = ("validation",)
) -> dict[str, str]:
    """Gate outcomes recorded earlier in the same DAG run, as model-version tags.

    For each gate, the latest try of every task that ran it counts; the gate is ``passed`` only
    when all of them passed (else the first other status). Gates that did not run give no tag.
    """
    tags: dict[str, str] = {}
    for gate in gates:
        key = gate_tag(gate, "status")
        runs = client.search_runs(
            [experiment_id], f"tags.`airflow_robust.run_key` = '{run_key}' and tags.`{key}` LIKE '%'", max_results=1000
        )
        latest: dict[str, Any] = {}
        for run in runs:
            task = run.data.tags.get(TAG_TASK_KEY, run.info.run_id)
            tries = int(run.data.tags.get("airflow.try_number", "0"))
            if task not in latest or tries > int(latest[task].data.tags.get("airflow.try_number", "0")):
                latest[task] = run
        if not latest:
            continue
        statuses = [r.data.tags[key] for r in latest.values()]
        failing = [s for s in statuses if s != "passed"]
        tags[key] = failing[0] if failing else "passed"
        tags[gate_tag(gate, "runs")] = ",".join(sorted(r.info.run_id for r in latest.values()))[:5000]
    return tags


def get_version(client: ModelStore, name: str, version: str, owner: str, parameter: str = "candidate_version") -> Any:
    """The version record; an unknown model names ``model_name``, an unknown version names ``parameter``."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version(name, version)
    except MlflowException as err:
        if classify(err) is Failure.OUTAGE:
            raise
        require_model(client, name, owner)  # only on the error path: say which of the two is unknown
        raise InvalidParameterError(
            parameter,
            owner,
            f"an existing version of registered model {name!r}",
            version,
            detail=str(err).splitlines()[0],
        ) from err


def require_model(client: ModelStore, name: str, owner: str, parameter: str = "model_name") -> None:
    """Raise ``InvalidParameterError`` naming ``parameter`` unless ``name`` is a registered model."""
    from mlflow.exceptions import MlflowException

    try:
        client.get_registered_model(name)
    except MlflowException as err:
        if classify(err) is not Failure.MISSING:
            raise
        raise InvalidParameterError(
            parameter, owner, "the name of a registered model", name, detail=str(err).splitlines()[0]
        ) from err
