"""``BatchPredictOperator``: score a dataset with one pinned model version, chunk by chunk."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_robust.data.sources import FORMATS
from airflow_robust.operators.base import RobustBaseOperator
from airflow_robust.params import Constraint, boolean, non_empty_str, number_in, one_of, str_list

if TYPE_CHECKING:
    from airflow_robust.hooks.mlflow import MlflowHook
    from airflow_robust.tracking.runs import StageRun

MODEL_URI = Constraint(
    "a registry URI such as 'models:/churn@champion' or 'models:/churn/3'",
    lambda v: isinstance(v, str) and v.strip().startswith("models:/") and len(v.strip()) > len("models:/"),
    example_bad=("churn", "runs:/abc/model"),
)


class BatchPredictOperator(RobustBaseOperator):
    """Score ``data`` with ``model_uri`` and write the predictions to ``output_uri``.

    :param model_uri: ``models:/<name>@<alias>`` (resolved to one version, once, and recorded)
        or ``models:/<name>/<version>``; default alias in examples is ``champion``.
    :param data: rows to score: a CSV/TSV/Parquet/JSON-lines URI (read in chunks), an
        import-path callable, or SQL with ``conn_id`` (read with a server-side chunk size).
    :param output_uri: where the predictions go; format from the suffix (Parquet, CSV, TSV,
        JSON lines). Columns: ``passthrough_columns``, ``prediction``, ``proba_<class>`` for
        classifiers, ``model_name``, ``model_version``. A local file is written as
        ``<name>.partial`` and renamed when complete, so a failure leaves no half file behind.
    :param passthrough_columns: input columns copied to the output (e.g. ids); default ``None``
        = every input column; ``[]`` = none.
    :param features: feature columns; default the model's own (``feature_names_in_``).
    :param probabilities: write class probabilities; default ``True``.
    :param chunk_rows: rows per chunk; default ``100_000``.
    :param conn_id: connection for SQL ``data``.
    :param data_format: when the suffix does not tell.

    Returns (XCom) ``model_uri`` (pinned), ``model_name``, ``version``, ``alias``, ``output_uri``,
    ``rows``, ``chunks``, ``columns`` and ``prediction_counts`` (classifiers) or
    ``prediction_mean`` (regressors).
    """

    stage = "batch_predict"
    template_fields: Sequence[str] = (
        "model_uri",
        "data",
        "output_uri",
        "passthrough_columns",
        "features",
        "conn_id",
        "experiment_name",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {"data": "sql"}
    PARAMETERS: ClassVar[Mapping[str, Constraint]] = {
        **RobustBaseOperator.PARAMETERS,
        "model_uri": MODEL_URI,
        "data": non_empty_str(),
        "output_uri": non_empty_str(),
        "passthrough_columns": Constraint(
            "a list of column names (or None for every input column)",
            lambda v: isinstance(v, (list, tuple)) and all(isinstance(x, str) and x for x in v),
            optional=True,
            example_bad=("id", [1]),
        ),
        "features": str_list().or_none(),
        "probabilities": boolean(),
        "chunk_rows": number_in(1, 10**8, integer=True),
        "conn_id": non_empty_str().or_none(),
        "data_format": one_of(*FORMATS).or_none(),
    }

    def __init__(
        self,
        *,
        model_uri: str,
        data: str,
        output_uri: str,
        passthrough_columns: Sequence[str] | None = None,
        features: Sequence[str] | None = None,
        probabilities: bool = True,
        chunk_rows: int = 100_000,
        conn_id: str | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.model_uri = model_uri
        self.data = data
        self.output_uri = output_uri
        self.passthrough_columns = passthrough_columns
        self.features = features
        self.probabilities = probabilities
        self.chunk_rows = chunk_rows
        self.conn_id = conn_id
        self.data_format = data_format

    def check_parameters(self) -> None:
        from airflow_robust.data.sources import unknown_suffix
        from airflow_robust.exceptions import InvalidParameterError

        suffix = unknown_suffix(self.output_uri)
        if suffix is not None:
            raise InvalidParameterError(
                "output_uri", type(self).__name__, "a .parquet, .csv, .tsv or .jsonl URI", self.output_uri
            )
        if self.output_uri.strip() == str(self.data).strip():
            raise InvalidParameterError(
                "output_uri",
                type(self).__name__,
                "a different location than data (inputs are never overwritten)",
                self.output_uri,
            )

    def run_stage(self, context: Any, run: StageRun, hook: MlflowHook) -> dict[str, Any]:
        from airflow_robust.batch.stage import batch_predict

        return self.settle(batch_predict(self, run, hook), context)
