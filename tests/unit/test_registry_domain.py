"""The registry's domain logic (aliases, history, rollback, the lease, idempotent registration) against a
``ModelStore``: an in-memory fake for speed *and* a real SQLite MLflow store, with the same assertions, so
the fake answers as MLflow does (the contract) and the logic holds for both."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from airflow_robust.deployment.rollback import roll_back
from airflow_robust.exceptions import ConfigurationError, DeploymentRefused, LeaseTimeout
from airflow_robust.registry.aliases import move_alias, resolve
from airflow_robust.registry.errors import Failure, classify
from airflow_robust.registry.history import read_history
from airflow_robust.registry.lease import acquire, busy_by_other, holder_of, release, try_acquire
from airflow_robust.registry.store import ModelStore
from airflow_robust.registry.versions import find_task_version, get_version, register_version, require_model
from airflow_robust.tracking.identity import TAG_TASK_KEY, StageIdentity
from airflow_robust.tracking.runs import ensure_experiment
from tests.fakes import InMemoryModelStore

AIRFLOW = {"dag_id": "d", "run_id": "r", "task_id": "t"}


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModelStore]:
    if request.param == "memory":
        yield InMemoryModelStore(str(tmp_path / "artifacts"))
        return
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    yield MlflowClient()


def _model(store: ModelStore, name: str = "m", versions: int = 3) -> None:
    experiment = ensure_experiment(store, "training")
    run = store.create_run(experiment).info.run_id
    for _ in range(versions):
        register_version(store, name, f"runs:/{run}/model", run_id=run, tags={})


def test_alias_moves_are_compare_and_set_keep_the_previous_version_and_are_numbered(store: ModelStore) -> None:
    _model(store)
    first = move_alias(
        store, name="m", alias="champion", to_version="1", expected_from=None, action="promote", who="a", why="w",
        airflow=AIRFLOW,
    )  # fmt: skip
    assert first["seq"] == 1 and resolve(store, "m", "champion") == "1"
    move_alias(
        store, name="m", alias="champion", to_version="2", expected_from="1", action="promote", who="a", why="w",
        airflow=AIRFLOW,
    )  # fmt: skip
    assert resolve(store, "m", "champion") == "2" and resolve(store, "m", "previous_champion") == "1"
    with pytest.raises(DeploymentRefused, match="moved in between"):  # a stale decision never moves the alias
        move_alias(
            store, name="m", alias="champion", to_version="3", expected_from="1", action="promote", who="b",
            why="stale", airflow=AIRFLOW,
        )  # fmt: skip
    assert resolve(store, "m", "champion") == "2"
    history = read_history(store, "m", "champion")
    assert [(e["seq"], e["from"], e["to"], e["who"]) for e in history] == [(1, "", "1", "a"), (2, "1", "2", "a")]


def test_a_rollback_goes_back_once_and_a_second_one_is_a_noop(store: ModelStore) -> None:
    _model(store)
    for expected, version in ((None, "1"), ("1", "2")):
        move_alias(
            store, name="m", alias="champion", to_version=version, expected_from=expected, action="promote",
            who="a", why="w", airflow=AIRFLOW,
        )  # fmt: skip
    done = roll_back(store, name="m", alias="champion", to_version=None, who="oncall", why="bad", airflow=AIRFLOW)
    assert (done["action"], done["version"], done["previous_version"]) == ("rollback", "1", "2")
    assert resolve(store, "m", "champion") == "1" and resolve(store, "m", "previous_champion") is None
    assert store.get_model_version("m", "2").tags["robust.deploy.status"] == "rolled_back"
    again = roll_back(store, name="m", alias="champion", to_version=None, who="oncall", why="bad", airflow=AIRFLOW)
    assert again == {"action": "noop", "version": "1"}
    assert roll_back(store, name="m", alias="challenger", to_version=None, who="x", why="y", airflow=AIRFLOW) == {
        "action": "noop",
        "version": None,
    }  # never set: nothing to undo
    move_alias(
        store, name="m", alias="challenger", to_version="3", expected_from=None, action="promote", who="a",
        why="w", airflow=AIRFLOW,
    )  # fmt: skip
    with pytest.raises(ConfigurationError, match="no previous_challenger"):  # set once: nothing to go back to
        roll_back(store, name="m", alias="challenger", to_version=None, who="x", why="y", airflow=AIRFLOW)
    assert [e["action"] for e in read_history(store, "m", "champion")] == ["promote", "promote", "rollback"]


def test_the_lease_is_exclusive_reentrant_expires_and_is_released(store: ModelStore) -> None:
    mine = try_acquire(store, "m", "dag/run1", ttl=60)
    assert mine is not None and holder_of(store, "m") is not None
    assert try_acquire(store, "m", "dag/run2", ttl=60) is None
    assert busy_by_other(store, "m", "dag/run2") == "dag/run1" and busy_by_other(store, "m", "dag/run1") is None
    assert try_acquire(store, "m", "dag/run1", ttl=60) is not None  # ours: extended
    with pytest.raises(LeaseTimeout, match="held by dag/run1"):
        acquire(store, "m", "dag/run2", ttl=60, wait=0.3, poll=0.1)
    release(store, mine)
    assert holder_of(store, "m") is None
    short = try_acquire(store, "m", "dag/run3", ttl=0.05)
    assert short is not None
    time.sleep(0.1)
    assert try_acquire(store, "m", "dag/run4", ttl=60) is None  # the expired lease is broken first ...
    assert try_acquire(store, "m", "dag/run4", ttl=60) is not None  # ... then free


def test_registration_is_idempotent_per_task_and_unknown_names_are_told_apart(store: ModelStore) -> None:
    identity = StageIdentity(dag_id="d", run_id="r", task_id="train")
    assert find_task_version(store, "m", identity) is None  # no such model yet: nothing registered
    _model(store, versions=1)
    run = store.create_run(ensure_experiment(store, "training")).info.run_id
    version = register_version(store, "m", f"runs:/{run}/model", run_id=run, tags={TAG_TASK_KEY: identity.task_key})
    again = find_task_version(store, "m", identity)
    assert again is not None and str(again.version) == str(version.version) == "2"
    assert str(get_version(store, "m", "2", "Op").version) == "2"
    with pytest.raises(ConfigurationError, match="'candidate_version'"):
        get_version(store, "m", "9", "Op")
    with pytest.raises(ConfigurationError, match="'model_name'"):
        get_version(store, "nope", "1", "Op")
    with pytest.raises(ConfigurationError, match="'model_name'"):
        require_model(store, "nope", "Op")
    with pytest.raises(MlflowException) as caught:
        store.create_registered_model("m")
    assert classify(caught.value) is Failure.EXISTS
