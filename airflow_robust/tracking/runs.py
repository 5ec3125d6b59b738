"""Find-or-create the parent run of a DAG run and open one child run per stage task.

Parent runs are found by tags. MLflow has no unique constraint on tags, so when several tasks
of one DAG run start at once each may create a parent; every task then re-reads the parents
after a short settle delay and all agree on the canonical one (earliest start time, then
smallest run id); the others delete the parent they created. When a stage finishes it checks
again and re-attaches itself if a concurrent creation was seen late, so all children converge
on one parent.

A new try of a task closes the runs its earlier tries left RUNNING (status KILLED, tagged
with the run that superseded them).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_robust.tracking.identity import (
    TAG_KIND,
    TAG_PARENT,
    TAG_RUN_KEY,
    TAG_SUPERSEDED_BY,
    TAG_TASK_ID,
    TAG_TASK_KEY,
    TAG_TRY_NUMBER,
    StageIdentity,
)

if TYPE_CHECKING:
    from airflow_robust.registry.store import ModelStore

log = logging.getLogger(__name__)

PARENT_SETTLE_SECONDS = 0.25


@dataclass(frozen=True)
class StageRun:
    """An open child run of a stage."""

    run_id: str
    parent_run_id: str
    experiment_id: str
    identity: StageIdentity
    stage: str


def ensure_experiment(client: ModelStore, name: str, artifact_root: str | None = None) -> str:
    """The id of experiment ``name``, created (race-safe) if missing; restored if deleted."""
    from mlflow.exceptions import MlflowException

    from airflow_robust.registry.errors import Failure, classify

    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        location = f"{artifact_root.rstrip('/')}/{_slug(name)}" if artifact_root else None
        try:
            return str(client.create_experiment(name, artifact_location=location))
        except MlflowException as err:
            if classify(err) is not Failure.EXISTS:
                raise
            experiment = client.get_experiment_by_name(name)
            if experiment is None:
                raise
    if experiment.lifecycle_stage == "deleted":
        client.restore_experiment(experiment.experiment_id)
    return str(experiment.experiment_id)


def resolve_parent_run(
    client: ModelStore, experiment_id: str, identity: StageIdentity, settle_seconds: float = PARENT_SETTLE_SECONDS
) -> str:
    """The run id of the DAG run's parent run, created if none exists (see module docstring)."""
    existing = _parents(client, experiment_id, identity)
    if existing:
        return str(_canonical(existing).info.run_id)
    mine = client.create_run(
        experiment_id, tags=identity.parent_tags(), run_name=f"{identity.dag_id} {identity.run_id}"
    )
    time.sleep(settle_seconds)
    chosen = _canonical(_parents(client, experiment_id, identity) or [mine])
    if chosen.info.run_id != mine.info.run_id:
        log.info("Another task created this DAG run's parent run first; using %s", chosen.info.run_id)
        client.delete_run(mine.info.run_id)
    return str(chosen.info.run_id)


def open_stage_run(
    client: ModelStore, identity: StageIdentity, stage: str, artifact_root: str | None = None
) -> StageRun:
    """Create the child run of this task try, closing runs that earlier tries left RUNNING."""
    experiment_id = ensure_experiment(client, identity.experiment, artifact_root)
    parent_id = resolve_parent_run(client, experiment_id, identity)
    run = client.create_run(experiment_id, tags=identity.stage_tags(parent_id, stage), run_name=identity.stage_run_name)
    run_id = str(run.info.run_id)
    close_stale_tries(client, experiment_id, identity, superseded_by=run_id)
    client.update_run(parent_id, status="RUNNING")
    return StageRun(run_id=run_id, parent_run_id=parent_id, experiment_id=experiment_id, identity=identity, stage=stage)


def close_stale_tries(client: ModelStore, experiment_id: str, identity: StageIdentity, superseded_by: str) -> list[str]:
    """Mark RUNNING runs of earlier tries of this task KILLED; return their ids."""
    stale = client.search_runs(
        [experiment_id],
        filter_string=f"tags.`{TAG_TASK_KEY}` = '{identity.task_key}' and attributes.status = 'RUNNING'",
        max_results=100,
    )
    closed = []
    for run in stale:
        if run.info.run_id == superseded_by:
            continue
        client.set_tag(run.info.run_id, TAG_SUPERSEDED_BY, superseded_by)
        client.set_terminated(run.info.run_id, status="KILLED")
        closed.append(str(run.info.run_id))
    if closed:
        log.info("Closed %d MLflow run(s) left RUNNING by earlier tries: %s", len(closed), closed)
    return closed


def close_stage_run(client: ModelStore, run: StageRun, status: str) -> None:
    """End the child run, re-attach it to the canonical parent if needed, update the parent's status."""
    client.set_terminated(run.run_id, status=status)
    parents = _parents(client, run.experiment_id, run.identity)
    parent_id = run.parent_run_id
    if parents:
        canonical = _canonical(parents).info.run_id
        if canonical != parent_id:
            log.info("Re-attaching stage run %s to parent run %s", run.run_id, canonical)
            client.set_tag(run.run_id, TAG_PARENT, canonical)
            _delete_if_childless(client, run.experiment_id, parent_id)
            parent_id = canonical
    client.update_run(parent_id, status=aggregate_status(_children(client, run.experiment_id, run.identity)))


def aggregate_status(children: list[Any]) -> str:
    """RUNNING while any latest try runs, FAILED if any latest try failed, else FINISHED."""
    latest: dict[tuple[str, str], Any] = {}
    for child in children:
        if child.info.status == "KILLED" and TAG_SUPERSEDED_BY in child.data.tags:
            continue
        key = (child.data.tags.get(TAG_TASK_ID, ""), child.data.tags.get(TAG_TASK_KEY, ""))
        previous = latest.get(key)
        if previous is None or _try(child) >= _try(previous):
            latest[key] = child
    statuses = {c.info.status for c in latest.values()}
    if "RUNNING" in statuses or "SCHEDULED" in statuses:
        return "RUNNING"
    if "FAILED" in statuses or "KILLED" in statuses:
        return "FAILED"
    return "FINISHED"


@contextmanager
def stage_run(
    client: ModelStore,
    identity: StageIdentity,
    stage: str,
    artifact_root: str | None = None,
    activate: bool = True,
    ok_exceptions: tuple[type[BaseException], ...] = (),
) -> Iterator[StageRun]:
    """Open the stage's child run (active in MLflow's fluent API when ``activate``).

    The run ends FINISHED, or FAILED when the block raises (``ok_exceptions``, e.g. a skip,
    still count as FINISHED).
    """
    run = open_stage_run(client, identity, stage, artifact_root)
    status = "FAILED"
    saved = _active_experiment()
    try:
        if activate:
            import mlflow

            # a user's own task may have called mlflow.set_experiment() in this process: the run
            # we resume lives in our experiment, so make that the active one (MLflow refuses otherwise);
            # the user's choice is restored afterwards
            mlflow.set_experiment(experiment_id=run.experiment_id)
            mlflow.start_run(run_id=run.run_id, log_system_metrics=False)
        yield run
        status = "FINISHED"
    except ok_exceptions:
        status = "FINISHED"
        raise
    finally:
        if activate:
            import mlflow

            mlflow.end_run(status=status)
            _restore_active_experiment(saved)
        close_stage_run(client, run, status)


def _active_experiment() -> tuple[str | None, str | None]:
    import os

    from mlflow.tracking import fluent

    return getattr(fluent, "_active_experiment_id", None), os.environ.get("MLFLOW_EXPERIMENT_ID")


def _restore_active_experiment(saved: tuple[str | None, str | None]) -> None:
    import os

    from mlflow.tracking import fluent

    fluent.__dict__["_active_experiment_id"] = saved[0]  # private, typed as None
    if saved[1] is None:
        os.environ.pop("MLFLOW_EXPERIMENT_ID", None)
    else:
        os.environ["MLFLOW_EXPERIMENT_ID"] = saved[1]


def _parents(client: ModelStore, experiment_id: str, identity: StageIdentity) -> list[Any]:
    return list(
        client.search_runs(
            [experiment_id],
            filter_string=f"tags.`{TAG_RUN_KEY}` = '{identity.run_key}' and tags.`{TAG_KIND}` = 'dag_run'",
            max_results=50,
        )
    )


def _children(client: ModelStore, experiment_id: str, identity: StageIdentity) -> list[Any]:
    return list(
        client.search_runs(
            [experiment_id],
            filter_string=f"tags.`{TAG_RUN_KEY}` = '{identity.run_key}' and tags.`{TAG_KIND}` = 'stage'",
            max_results=1000,
        )
    )


def _canonical(runs: list[Any]) -> Any:
    return min(runs, key=lambda r: (r.info.start_time or 0, r.info.run_id))


def _delete_if_childless(client: ModelStore, experiment_id: str, parent_id: str) -> None:
    children = client.search_runs([experiment_id], filter_string=f"tags.`{TAG_PARENT}` = '{parent_id}'", max_results=1)
    if not children:
        client.delete_run(parent_id)


def _try(run: Any) -> int:
    try:
        return int(run.data.tags.get(TAG_TRY_NUMBER, "0"))
    except ValueError:
        return 0


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name).strip("_") or "experiment"
