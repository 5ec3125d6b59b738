"""``TrainModelOperator``: fit a scikit-learn model, log it to MLflow, register a version."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_robust.data.sources import FORMATS
from airflow_robust.operators.base import RobustBaseOperator, split_params
from airflow_robust.params import (
    Constraint,
    import_path,
    model_name,
    non_empty_str,
    number_in,
    one_of,
    str_list,
    str_mapping,
)

if TYPE_CHECKING:
    from airflow_robust.hooks.mlflow import MlflowHook
    from airflow_robust.tracking.runs import StageRun


class TrainModelOperator(RobustBaseOperator):
    """Train ``estimator`` on ``data``, log it to MLflow and register a new model version.

    :param estimator: import path of a scikit-learn estimator/Pipeline class, or of a factory
        returning one, e.g. ``"sklearn.ensemble:RandomForestClassifier"``.
    :param params: keyword arguments for the class or factory; default ``{}``. (This takes the
        place of Airflow's task-level ``params``; DAG-level Params still reach the task.) Stored
        and templated as ``model_params``.
    :param data: a CSV/TSV/Parquet/JSON URI (local path, ``file://``, or object storage through
        ``ObjectStoragePath``), an import-path callable ``"pkg.module:function"`` returning a
        DataFrame, or, with ``conn_id``, a SQL query or table name.
    :param target: the label column.
    :param registered_model_name: the MLflow registered model that gets the new version.
    :param conn_id: Airflow connection for SQL ``data``; default ``None``.
    :param data_format: file format when the suffix does not tell; default inferred (csv).
    :param validation_data: a holdout URI; default ``None`` (a seeded split of ``data``).
    :param features: feature columns; default every column but the target and date/time columns.
    :param task: ``"auto"`` (default; from the estimator, else the target), ``"classification"``
        or ``"regression"``.
    :param preprocess: ``"auto"`` (default) wraps a non-Pipeline estimator with median imputation
        and one-hot encoding of categorical columns; ``"none"`` uses the estimator as is.
    :param test_size: holdout share for the seeded split; default ``0.2``.
    :param seed: random seed for the split and unset ``random_state`` values; default ``42``.
    :param profile_bins: quantile bins per numeric column in the reference profile; default ``20``.

    Returns (XCom) ``model_uri``, ``model_name``, ``version``, ``run_id``, ``metrics``, ``task``,
    ``data_digest`` and ``reused`` (true when a retry found the version an earlier try registered).
    ``model_uri``, ``model_name`` and ``version`` are also pushed as XCom keys of their own, so
    ``train.output["model_uri"]`` can feed the next operator.
    """

    stage = "train"
    template_fields: Sequence[str] = (
        "estimator",
        "model_params",
        "data",
        "target",
        "registered_model_name",
        "conn_id",
        "validation_data",
        "features",
        "experiment_name",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {"model_params": "json", "data": "sql"}
    PARAMETERS: ClassVar[Mapping[str, Constraint]] = {
        **RobustBaseOperator.PARAMETERS,
        "estimator": import_path(),
        "params": str_mapping(),
        "data": non_empty_str(),
        "target": non_empty_str(),
        "registered_model_name": model_name(),
        "conn_id": non_empty_str().or_none(),
        "data_format": one_of(*FORMATS).or_none(),
        "validation_data": non_empty_str().or_none(),
        "features": str_list().or_none(),
        "task": one_of("auto", "classification", "regression"),
        "preprocess": one_of("auto", "none"),
        "test_size": number_in(0.0, 0.9, low_open=True),
        "seed": number_in(0, 2**32 - 1, integer=True),
        "profile_bins": number_in(2, 1000, integer=True),
    }

    def __init__(
        self,
        *,
        estimator: str,
        data: str,
        target: str,
        registered_model_name: str,
        params: Mapping[str, Any] | None = None,
        conn_id: str | None = None,
        data_format: str | None = None,
        validation_data: str | None = None,
        features: Sequence[str] | None = None,
        task: str = "auto",
        preprocess: str = "auto",
        test_size: float = 0.2,
        seed: int = 42,
        profile_bins: int = 20,
        **kwargs: Any,
    ) -> None:
        model_params, airflow_params = split_params(params)
        super().__init__(params=airflow_params, **kwargs)
        self.estimator = estimator
        self.model_params = model_params
        self.data = data
        self.target = target
        self.registered_model_name = registered_model_name
        self.conn_id = conn_id
        self.data_format = data_format
        self.validation_data = validation_data
        self.features = features
        self.task = task
        self.preprocess = preprocess
        self.test_size = test_size
        self.seed = seed
        self.profile_bins = profile_bins

    def parameter_values(self) -> dict[str, Any]:
        return {**super().parameter_values(), "params": self.model_params}

    def run_stage(self, context: Any, run: StageRun, hook: MlflowHook) -> dict[str, Any]:
        from airflow_robust.training.stage import train_model

        return self.settle(train_model(self, run, hook), context)
