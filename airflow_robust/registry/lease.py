"""A per-model lease in the MLflow tracking store, so promotions of one model are serialized.

MLflow has no compare-and-set on tags or aliases, but experiment names are unique in every
tracking store (a database constraint): creating the experiment ``airflow-robust/lease/<model>``
is an atomic "acquire". The experiment's tags say who holds it and until when. Releasing renames
the experiment out of the way (by id, so a stale holder can never release someone else's lease)
and deletes it. An expired lease is broken the same way by the next contender; two contenders
breaking the same expired lease both rename the same old experiment id, and then only one of
them can create the new one.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from airflow_robust.exceptions import LeaseTimeout
from airflow_robust.registry.errors import Failure, classify
from airflow_robust.registry.tags import LEASE_EXPIRES_TAG, LEASE_HOLDER_TAG, LEASE_MODEL_TAG

if TYPE_CHECKING:
    from airflow_robust.registry.store import ModelStore

__all__ = [
    "Lease",
    "LeaseTimeout",
    "acquire",
    "busy_by_other",
    "held",
    "holder_for",
    "release",
    "release_if_ended",
    "split_holder",
    "try_acquire",
]

log = logging.getLogger(__name__)
PREFIX = "airflow-robust/lease/"


@dataclass(frozen=True)
class Lease:
    model: str
    holder: str
    experiment_id: str
    expires: float


def holder_for(dag_id: str, run_id: str) -> str:
    """Who holds a lease: the DAG run (so its promote and deploy tasks share one)."""
    return f"{dag_id}/{run_id}"


def lease_name(model: str) -> str:
    return PREFIX + model


def holder_of(client: ModelStore, model: str) -> tuple[str, float] | None:
    """(holder, expiry) of the live lease on ``model``, or ``None``."""
    experiment = client.get_experiment_by_name(lease_name(model))
    if experiment is None or experiment.lifecycle_stage != "active":
        return None
    return experiment.tags.get(LEASE_HOLDER_TAG, ""), float(experiment.tags.get(LEASE_EXPIRES_TAG, "0"))


def busy_by_other(client: ModelStore, model: str, holder: str) -> str | None:
    """Who else holds a live (unexpired) lease on ``model``, or ``None`` when it is free or ours."""
    current = holder_of(client, model)
    if current is None or current[0] == holder or current[1] < time.time():
        return None
    return current[0] or "another DAG run"


def release_if_ended(client: ModelStore, model: str, ended: Callable[[str], bool]) -> str | None:
    """Break the lease on ``model`` when ``ended(holder)`` says its DAG run is over; return that holder.

    An auto-approved promotion keeps the lease until its deploy task runs; when that DAG run ends
    without deploying (failed, cleared, deploy removed), nobody would release it before ``lease_ttl``.
    """
    experiment = client.get_experiment_by_name(lease_name(model))
    if experiment is None or experiment.lifecycle_stage != "active":
        return None
    holder = str(experiment.tags.get(LEASE_HOLDER_TAG, ""))
    if not holder or not ended(holder):
        return None
    log.warning("Releasing the promotion lease on %s: its holder %s has ended", model, holder)
    _retire(client, experiment.experiment_id, "holder-ended")
    return holder


def split_holder(holder: str) -> tuple[str, str]:
    """``(dag_id, run_id)`` of a holder written by :func:`holder_for`."""
    dag_id, _, run_id = holder.partition("/")
    return dag_id, run_id


def try_acquire(client: ModelStore, model: str, holder: str, ttl: float) -> Lease | None:
    """Take the lease if it is free, expired, or already ours (then extended); else ``None``."""
    from mlflow.exceptions import MlflowException

    name = lease_name(model)
    expires = time.time() + ttl
    tags = {LEASE_HOLDER_TAG: holder, LEASE_EXPIRES_TAG: f"{expires:.3f}", LEASE_MODEL_TAG: model}
    try:
        experiment_id = client.create_experiment(name, tags=tags)
        return Lease(model, holder, experiment_id, expires)
    except MlflowException as err:
        if classify(err) is not Failure.EXISTS:
            raise
    current = client.get_experiment_by_name(name)
    if current is None:
        return None  # released in between: the caller tries again
    if current.tags.get(LEASE_HOLDER_TAG) == holder:
        client.set_experiment_tag(current.experiment_id, LEASE_EXPIRES_TAG, f"{expires:.3f}")
        return Lease(model, holder, current.experiment_id, expires)
    if float(current.tags.get(LEASE_EXPIRES_TAG, "0")) < time.time():
        log.warning("Breaking the expired promotion lease on %s held by %s", model, current.tags.get(LEASE_HOLDER_TAG))
        _retire(client, current.experiment_id, "expired")
    return None


def release(client: ModelStore, lease: Lease) -> None:
    """Give the lease back if we still hold it (a no-op when it expired and was taken over)."""
    current = client.get_experiment_by_name(lease_name(lease.model))
    if current is not None and current.experiment_id == lease.experiment_id:
        _retire(client, lease.experiment_id, "released")


def acquire(client: ModelStore, model: str, holder: str, *, ttl: float, wait: float, poll: float = 1.0) -> Lease:
    """Wait up to ``wait`` seconds for the lease; ``LeaseTimeout`` (retryable) after that."""
    deadline = time.monotonic() + wait
    delay = min(poll, 0.2)
    while True:
        lease = try_acquire(client, model, holder, ttl)
        if lease is not None:
            return lease
        if time.monotonic() >= deadline:
            held = holder_of(client, model)
            raise LeaseTimeout(
                f"the promotion lease on {model!r} is held by {held[0] if held else 'someone'}; "
                f"waited {wait:.0f} s (promotions of one model run one at a time)"
            )
        time.sleep(delay)
        delay = min(delay * 1.5, poll)


@contextmanager
def held(client: ModelStore, model: str, holder: str, *, ttl: float, wait: float) -> Iterator[Lease]:
    lease = acquire(client, model, holder, ttl=ttl, wait=wait)
    try:
        yield lease
    finally:
        release(client, lease)


def _retire(client: ModelStore, experiment_id: str, why: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        client.rename_experiment(experiment_id, f"airflow-robust/lease-{why}/{uuid.uuid4().hex}")
        client.delete_experiment(experiment_id)
    except MlflowException as err:  # already retired by another contender
        log.debug("lease experiment %s already retired: %s", experiment_id, err)
