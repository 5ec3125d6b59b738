"""An MLflow dataset source for locations MLflow cannot resolve itself (SQL, custom schemes)."""

from __future__ import annotations

from typing import Any

from mlflow.data.dataset_source import DatasetSource


class UriDatasetSource(DatasetSource):
    """Records where a dataset came from (``sql(conn): query``, ``memory://...``); not loadable by MLflow."""

    def __init__(self, uri: str) -> None:
        self.uri = uri

    @staticmethod
    def _get_source_type() -> str:
        return "airflow_robust_uri"

    def load(self) -> Any:
        raise NotImplementedError(f"MLflow cannot load {self.uri}; airflow-robust's loaders can.")

    @staticmethod
    def _can_resolve(raw_source: Any) -> bool:
        return False

    @classmethod
    def _resolve(cls, raw_source: Any) -> UriDatasetSource:
        return cls(str(raw_source))

    def to_dict(self) -> dict[str, Any]:
        return {"uri": self.uri}

    @classmethod
    def from_dict(cls, source_dict: dict[Any, Any]) -> UriDatasetSource:
        return cls(str(source_dict["uri"]))
