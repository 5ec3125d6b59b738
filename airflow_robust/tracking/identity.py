"""Who is logging: the Airflow coordinates of a stage, as plain data."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import quote

TAG_DAG_ID = "airflow.dag_id"
TAG_RUN_ID = "airflow.run_id"
TAG_TASK_ID = "airflow.task_id"
TAG_TRY_NUMBER = "airflow.try_number"
TAG_MAP_INDEX = "airflow.map_index"
TAG_TASK_URL = "airflow.task_url"
TAG_KIND = "airflow_robust.kind"
TAG_RUN_KEY = "airflow_robust.run_key"
TAG_TASK_KEY = "airflow_robust.task_key"
TAG_STAGE = "airflow_robust.stage"
TAG_SUPERSEDED_BY = "airflow_robust.superseded_by"
TAG_PARENT = "mlflow.parentRunId"

_EXPERIMENT_SAFE = re.compile(r"[^\w.\-/ ]")


@dataclass(frozen=True)
class StageIdentity:
    """The Airflow coordinates of one task try, and the experiment it logs into."""

    dag_id: str
    run_id: str
    task_id: str
    try_number: int = 1
    map_index: int = -1
    task_url: str | None = None
    experiment_name: str | None = None
    #: the Airflow user who triggered the DAG run (authenticated by Airflow), when a person did
    triggering_user: str | None = None
    #: Airflow's ``[api] base_url``, when configured (links from MLflow back to Airflow)
    ui_base_url: str | None = None

    def ui_url(self, *parts: str) -> str | None:
        """``{ui_base_url}/<parts, each quoted>``, or ``None`` without a base URL."""
        if not self.ui_base_url:
            return None
        return "/".join([self.ui_base_url.rstrip("/"), *(quote(str(part), safe="") for part in parts)])

    @property
    def dag_run_url(self) -> str | None:
        return self.ui_url("dags", self.dag_id, "runs", self.run_id)

    @property
    def task_ref(self) -> str:
        """This task as an actor: ``airflow:<dag>/<run>/<task>``."""
        return f"airflow:{self.dag_id}/{self.run_id}/{self.task_id}"

    @property
    def who(self) -> str:
        """The person who triggered the DAG run, else this task (:attr:`task_ref`)."""
        return self.triggering_user or self.task_ref

    @property
    def airflow(self) -> dict[str, str]:
        """The DAG, run and task, as an alias-history entry records them."""
        return {"dag_id": self.dag_id, "run_id": self.run_id, "task_id": self.task_id}

    @property
    def experiment(self) -> str:
        """``experiment_name`` if given, else ``airflow/<dag_id>``."""
        return self.experiment_name or f"airflow/{_EXPERIMENT_SAFE.sub('_', self.dag_id)}"

    @property
    def run_key(self) -> str:
        """A filter-safe key of the DAG run (hex), used to find its parent run."""
        return _key(self.dag_id, self.run_id)

    @property
    def task_key(self) -> str:
        """A filter-safe key of this task (all tries), used to find earlier tries' runs."""
        return _key(self.dag_id, self.run_id, self.task_id, str(self.map_index))

    @property
    def stage_run_name(self) -> str:
        mapped = f"[{self.map_index}]" if self.map_index >= 0 else ""
        return f"{self.task_id}{mapped} try {self.try_number}"

    def parent_tags(self) -> dict[str, str]:
        return {
            TAG_DAG_ID: self.dag_id,
            TAG_RUN_ID: self.run_id,
            TAG_KIND: "dag_run",
            TAG_RUN_KEY: self.run_key,
            "mlflow.source.type": "JOB",
            "mlflow.source.name": self.dag_id,
        }

    def stage_tags(self, parent_run_id: str, stage: str) -> dict[str, str]:
        tags = {
            TAG_DAG_ID: self.dag_id,
            TAG_RUN_ID: self.run_id,
            TAG_TASK_ID: self.task_id,
            TAG_TRY_NUMBER: str(self.try_number),
            TAG_MAP_INDEX: str(self.map_index),
            TAG_KIND: "stage",
            TAG_STAGE: stage,
            TAG_RUN_KEY: self.run_key,
            TAG_TASK_KEY: self.task_key,
            TAG_PARENT: parent_run_id,
            "mlflow.source.type": "JOB",
            "mlflow.source.name": self.dag_id,
        }
        if self.task_url:
            tags[TAG_TASK_URL] = self.task_url
        return tags


def _key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
