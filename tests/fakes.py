"""An in-memory ``ModelStore``: the MLflow calls airflow-robust makes, without a database or a server.

For fast domain tests only. It answers what MLflow answers, errors included (``MlflowException``
with MLflow's error codes, so ``registry.errors.classify`` reads them as it reads the real ones);
``tests/unit/test_registry_domain.py`` runs every scenario against it *and* a real SQLite store, so
the fake cannot drift from MLflow unnoticed. Search filters support what the package writes:
``attr = 'v'``, ``tags.`k` = 'v'``, ``tags.`k` LIKE '%'`` joined by ``and``.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import time
import uuid
from types import SimpleNamespace
from typing import Any

from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE, RESOURCE_ALREADY_EXISTS, RESOURCE_DOES_NOT_EXIST

_CLAUSE = re.compile(
    r"\s*(?P<key>[\w.]+|tags\.`[^`]+`|tag\.`[^`]+`)\s*(?P<op>=|LIKE)\s*'(?P<value>(?:[^'\\]|\\.)*)'\s*"
)


def _matches(filter_string: str | None, attributes: dict[str, Any], tags: dict[str, str]) -> bool:
    if not filter_string:
        return True
    for clause in re.split(r"\s+and\s+", filter_string.strip(), flags=re.IGNORECASE):
        match = _CLAUSE.fullmatch(clause)
        if match is None:
            raise MlflowException(f"Invalid filter {clause!r}", error_code=INVALID_PARAMETER_VALUE)
        key, op, value = match["key"], match["op"], match["value"].replace("\\'", "'")
        is_tag = key.startswith(("tags.", "tag."))
        actual = tags.get(key.split(".", 1)[1].strip("`")) if is_tag else attributes.get(key)
        if actual is None:
            return False
        if op == "=" and str(actual) != value:
            return False
        if op == "LIKE" and not re.fullmatch(re.escape(value).replace("%", ".*"), str(actual)):
            return False
    return True


def _missing(what: str) -> MlflowException:
    return MlflowException(f"{what} not found", error_code=RESOURCE_DOES_NOT_EXIST)


def _exists(what: str) -> MlflowException:
    return MlflowException(f"{what} already exists.", error_code=RESOURCE_ALREADY_EXISTS)


class InMemoryModelStore:
    """Experiments, runs (tags, JSON artifacts), registered models, versions and aliases in dicts."""

    def __init__(self, artifact_dir: str) -> None:
        self._artifacts = artifact_dir
        self._ids = itertools.count(1)
        self.experiments: dict[str, SimpleNamespace] = {}
        self.runs: dict[str, SimpleNamespace] = {}
        self.models: dict[str, SimpleNamespace] = {}
        self.versions: dict[tuple[str, str], SimpleNamespace] = {}

    # experiments
    def create_experiment(self, name: Any, artifact_location: Any = None, tags: Any = None) -> Any:
        if any(e.name == name for e in self.experiments.values()):
            raise _exists(f"Experiment(name={name})")
        experiment_id = str(next(self._ids))
        self.experiments[experiment_id] = SimpleNamespace(
            experiment_id=experiment_id, name=name, tags=dict(tags or {}), lifecycle_stage="active"
        )
        return experiment_id

    def get_experiment_by_name(self, name: Any) -> Any:
        return next((e for e in self.experiments.values() if e.name == name), None)

    def _experiment(self, experiment_id: Any) -> SimpleNamespace:
        if str(experiment_id) not in self.experiments:
            raise _missing(f"No Experiment with id={experiment_id} exists")
        return self.experiments[str(experiment_id)]

    def set_experiment_tag(self, experiment_id: Any, key: Any, value: Any) -> Any:
        self._experiment(experiment_id).tags[key] = str(value)

    def rename_experiment(self, experiment_id: Any, new_name: Any) -> Any:
        self._experiment(experiment_id).name = new_name

    def delete_experiment(self, experiment_id: Any) -> Any:
        experiment = self._experiment(experiment_id)
        if experiment.lifecycle_stage == "deleted":
            raise MlflowException("Cannot delete an already deleted experiment.", error_code=INVALID_PARAMETER_VALUE)
        experiment.lifecycle_stage = "deleted"

    def restore_experiment(self, experiment_id: Any) -> Any:
        self._experiment(experiment_id).lifecycle_stage = "active"

    def search_experiments(
        self,
        view_type: Any = None,
        max_results: Any = None,
        filter_string: Any = None,
        order_by: Any = None,
        page_token: Any = None,
    ) -> Any:
        found = [e for e in self.experiments.values() if _matches(filter_string, {"name": e.name}, e.tags)]
        return found[:max_results] if max_results else found

    # runs
    def create_run(self, experiment_id: Any, start_time: Any = None, tags: Any = None, run_name: Any = None) -> Any:
        self._experiment(experiment_id)
        run_id = uuid.uuid4().hex
        info = SimpleNamespace(
            run_id=run_id,
            experiment_id=str(experiment_id),
            status="RUNNING",
            start_time=start_time or int(time.time() * 1000),
            end_time=None,
            lifecycle_stage="active",
        )
        run = SimpleNamespace(info=info, data=SimpleNamespace(tags=dict(tags or {}), metrics={}, params={}))
        if run_name:
            run.data.tags["mlflow.runName"] = run_name
        self.runs[run_id] = run
        return run

    def get_run(self, run_id: Any) -> Any:
        if run_id not in self.runs:
            raise _missing(f"Run with id={run_id}")
        return self.runs[run_id]

    def set_tag(self, run_id: Any, key: Any, value: Any, synchronous: Any = None) -> Any:
        self.get_run(run_id).data.tags[key] = str(value)

    def set_terminated(self, run_id: Any, status: Any = None, end_time: Any = None) -> Any:
        self.update_run(run_id, status or "FINISHED")
        self.runs[run_id].info.end_time = end_time or int(time.time() * 1000)

    def update_run(self, run_id: Any, status: Any = None, name: Any = None) -> Any:
        run = self.get_run(run_id)
        if status:
            run.info.status = status
        if name:
            run.data.tags["mlflow.runName"] = name

    def delete_run(self, run_id: Any) -> Any:
        self.get_run(run_id).info.lifecycle_stage = "deleted"

    def search_runs(
        self,
        experiment_ids: Any,
        filter_string: Any = "",
        run_view_type: Any = None,
        max_results: Any = None,
        order_by: Any = None,
        page_token: Any = None,
    ) -> Any:
        wanted = {str(e) for e in experiment_ids}
        found = [
            run
            for run in self.runs.values()
            if run.info.experiment_id in wanted
            and run.info.lifecycle_stage == "active"
            and _matches(filter_string, {"status": run.info.status}, run.data.tags)
        ]
        found.sort(key=lambda run: run.info.start_time, reverse=True)  # MLflow's default order
        return found[:max_results] if max_results else found

    def _run_dir(self, run_id: Any) -> str:
        self.get_run(run_id)
        return os.path.join(self._artifacts, str(run_id))

    def log_dict(self, run_id: Any, dictionary: Any, artifact_file: Any) -> Any:
        path = os.path.join(self._run_dir(run_id), artifact_file)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            json.dump(dictionary, handle)

    def download_artifacts(self, run_id: Any, path: Any, dst_path: Any = None) -> Any:
        source = os.path.join(self._run_dir(run_id), path)
        if not os.path.exists(source):
            raise MlflowException(f"No such file or directory: {path}", error_code=RESOURCE_DOES_NOT_EXIST)
        return source

    def list_artifacts(self, run_id: Any, path: Any = None) -> Any:
        folder = os.path.join(self._run_dir(run_id), path or "")
        if not os.path.isdir(folder):
            return []
        return [
            SimpleNamespace(path=os.path.join(path or "", name), is_dir=os.path.isdir(os.path.join(folder, name)))
            for name in sorted(os.listdir(folder))
        ]

    # the model registry
    def create_registered_model(
        self, name: Any, tags: Any = None, description: Any = None, deployment_job_id: Any = None
    ) -> Any:
        if name in self.models:
            raise _exists(f"Registered Model (name={name})")
        self.models[name] = SimpleNamespace(name=name, tags=dict(tags or {}), description=description, aliases={})
        return self.models[name]

    def get_registered_model(self, name: Any) -> Any:
        if name not in self.models:
            raise _missing(f"Registered Model with name={name}")
        return self.models[name]

    def set_registered_model_tag(self, name: Any, key: Any, value: Any) -> Any:
        self.get_registered_model(name).tags[key] = str(value)

    def search_registered_models(
        self, filter_string: Any = None, max_results: Any = None, order_by: Any = None, page_token: Any = None
    ) -> Any:
        found = [m for m in self.models.values() if _matches(filter_string, {"name": m.name}, m.tags)]
        return found[:max_results] if max_results else found

    def create_model_version(
        self,
        name: Any,
        source: Any,
        run_id: Any = None,
        tags: Any = None,
        run_link: Any = None,
        description: Any = None,
        await_creation_for: Any = None,
        model_id: Any = None,
    ) -> Any:
        model = self.get_registered_model(name)
        number = str(1 + sum(1 for key in self.versions if key[0] == name))
        version = SimpleNamespace(
            name=name,
            version=number,
            source=source,
            run_id=run_id,
            tags=dict(tags or {}),
            description=description,
            status="READY",
            aliases=[],
            model_id=model_id,
        )
        self.versions[(name, number)] = version
        model.latest = version
        return version

    def get_model_version(self, name: Any, version: Any) -> Any:
        if not str(version).isdigit():
            raise MlflowException(
                f"Parameter 'version' must be an integer, got '{version}'.", error_code=INVALID_PARAMETER_VALUE
            )
        self.get_registered_model(name)
        if (name, str(version)) not in self.versions:
            raise _missing(f"Model Version (name={name}, version={version})")
        record = self.versions[(name, str(version))]
        record.aliases = sorted(a for a, v in self.models[name].aliases.items() if v == str(version))
        return record

    def update_model_version(self, name: Any, version: Any, description: Any = None) -> Any:
        record = self.get_model_version(name, version)
        if description is not None:
            record.description = description
        return record

    def set_model_version_tag(
        self, name: Any, version: Any = None, key: Any = None, value: Any = None, stage: Any = None
    ) -> Any:
        self.get_model_version(name, version).tags[key] = str(value)

    def search_model_versions(
        self, filter_string: Any = None, max_results: Any = None, order_by: Any = None, page_token: Any = None
    ) -> Any:
        found = [
            v
            for v in self.versions.values()
            if _matches(filter_string, {"name": v.name, "run_id": v.run_id, "source": v.source}, v.tags)
        ]
        found.sort(key=lambda v: int(v.version), reverse=True)
        return found[:max_results] if max_results else found

    def set_registered_model_alias(self, name: Any, alias: Any, version: Any) -> Any:
        self.get_model_version(name, version)
        self.models[name].aliases[alias] = str(version)

    def get_model_version_by_alias(self, name: Any, alias: Any) -> Any:
        model = self.get_registered_model(name)
        if alias not in model.aliases:
            raise MlflowException(f"Registered model alias {alias} not found.", error_code=INVALID_PARAMETER_VALUE)
        return self.get_model_version(name, model.aliases[alias])

    def delete_registered_model_alias(self, name: Any, alias: Any) -> Any:
        self.get_registered_model(name).aliases.pop(alias, None)
