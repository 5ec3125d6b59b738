"""``registry.store.ModelStore`` is the MLflow boundary: MlflowClient must have each of its methods, with the
same parameters, so mypy's checks of every call against the Protocol hold for the real client."""

from __future__ import annotations

import inspect

from mlflow import MlflowClient

from airflow_robust.registry.store import ModelStore


def _shape(function: object) -> list[tuple[str, object, bool]]:
    return [
        (p.name, p.kind, p.default is not inspect.Parameter.empty)
        for p in inspect.signature(function).parameters.values()  # type: ignore[arg-type]
    ]


def test_mlflow_client_has_every_method_of_the_store_with_its_parameters() -> None:
    methods = [name for name in vars(ModelStore) if not name.startswith("_")]
    assert len(methods) >= 25
    for name in methods:
        assert hasattr(MlflowClient, name), name
        assert _shape(getattr(ModelStore, name)) == _shape(getattr(MlflowClient, name)), name
