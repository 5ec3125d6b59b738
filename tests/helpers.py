"""Small test helpers: real data on disk and a minimal task-instance stand-in for execute()."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd


def breast_cancer_frame() -> pd.DataFrame:
    """scikit-learn's bundled Wisconsin breast cancer data (569 rows, 30 features, binary target)."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.copy()
    frame["target"] = frame["target"].map({0: "malignant", 1: "benign"})
    return frame


def wine_frame() -> pd.DataFrame:
    from sklearn.datasets import load_wine

    return load_wine(as_frame=True).frame


def seattle_weather() -> pd.DataFrame:
    from vega_datasets import data as vega

    frame = vega.seattle_weather()
    frame["month"] = frame["date"].dt.month
    return frame


def cancer_split(root: Path) -> dict[str, str]:
    """breast_cancer split 70/30 (seeded, stratified) into ``train.csv`` and ``test.csv`` under ``root``."""
    from sklearn.model_selection import train_test_split

    frame = breast_cancer_frame()
    train, test = train_test_split(frame, test_size=0.3, random_state=0, stratify=frame["target"])
    return {"train": write_csv(train, root / "train.csv"), "test": write_csv(test, root / "test.csv")}


def write_csv(frame: pd.DataFrame, path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return str(path)


@dataclass
class TaskInstanceStandIn:
    """What operators read from ``context["ti"]``: coordinates, ``log_url`` and ``xcom_push``."""

    dag_id: str = "test_dag"
    run_id: str = "manual__2026-01-01T00:00:00+00:00"
    task_id: str = "train"
    try_number: int = 1
    map_index: int = -1
    xcom: dict[str, Any] = field(default_factory=dict)

    @property
    def log_url(self) -> str:
        return f"http://localhost:8080/dags/{self.dag_id}/runs/{self.run_id}/tasks/{self.task_id}"

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


def context_for(ti: TaskInstanceStandIn) -> dict[str, Any]:
    return {"ti": ti, "task_instance": ti, "run_id": ti.run_id}


def execute(op: Any, run_id: str) -> tuple[dict[str, Any] | None, Exception | None]:
    """Run ``op.execute`` as DAG run ``run_id``: (its XCom result, the error it raised or None)."""
    ti = TaskInstanceStandIn(task_id=op.task_id, run_id=run_id)
    try:
        return op.execute(context_for(ti)), None
    except Exception as err:
        return ti.xcom.get("return_value"), err
