"""``MonitorDriftOperator``: which columns moved, does the model still perform, retrain when it does not."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_robust.data.sources import FORMATS
from airflow_robust.operators.base import RobustBaseOperator
from airflow_robust.params import Constraint, boolean, non_empty_str, number_in, one_of, str_list

if TYPE_CHECKING:
    from airflow_robust.hooks.mlflow import MlflowHook
    from airflow_robust.tracking.runs import StageRun

RETRAIN_ASSET_PREFIX = "x-airflow-robust://retrain/"
_METHODS = ("auto", "ks", "chi2", "ztest", "psi", "jensenshannon", "wasserstein", "hellinger")
_SIGNALS = ("dataset", "prediction", "target", "performance")


def retrain_asset(model_name: str) -> Any:
    """The Asset a drift of ``model_name`` updates: schedule the training DAG on it."""
    from airflow.sdk import Asset

    return Asset(f"{RETRAIN_ASSET_PREFIX}{model_name}")


def _model_name(reference: str) -> str | None:
    if not isinstance(reference, str) or "{{" in reference or not reference.startswith("models:/"):
        return None
    return reference[len("models:/") :].split("@", 1)[0].split("/", 1)[0] or None


class MonitorDriftOperator(RobustBaseOperator):
    """Compare ``current`` data with a reference and decide: ok, or drift.

    :param reference: ``models:/<name>@<alias>`` or ``models:/<name>/<version>`` (the reference
        profile that version's training run stored, and the model itself for the model view), a
        profile JSON URI, or a reference dataset (URI, import-path callable, SQL with
        ``reference_conn_id``).
    :param current: the data to monitor (templated: e.g. ``.../{{ ds }}.parquet``); read in chunks.
    :param on_drift: ``"warn"`` (default: log, tag, continue), ``"fail"`` (no retry), ``"skip"``
        (skip downstream) or ``"trigger"`` (emit an event on the retrain Asset, continue).
    :param columns: columns to test; default the model's features (or every profiled column but the target).
    :param target: label column; default the profile's. When present in ``current``: target drift
        and measured performance.
    :param method: ``"auto"`` (Evidently's defaults) or one of ks, chi2, ztest, psi, jensenshannon,
        wasserstein, hellinger.
    :param column_methods: per-column overrides.
    :param thresholds: method -> threshold (p-value for ks/chi2/ztest, distance otherwise).
    :param drift_share: share of drifted columns that makes the dataset drift; default ``0.5``.
    :param predictions: URI of predictions (e.g. BatchPredictOperator's output, with ``prediction``
        and ``proba_<class>`` columns, and the target if known) for the model view; default: score
        ``current`` with the reference model.
    :param performance_metric: accuracy, balanced_accuracy, f1_macro, rmse or mae; default f1_macro / rmse.
    :param max_performance_drop: a labelled drop larger than this is a performance loss; default ``0.1``.
    :param drift_signals: which signals count as drift: any of dataset, prediction, target,
        performance; default ``["dataset", "performance"]``.
    :param retrain_asset: Asset URI for ``on_drift="trigger"``; default
        ``x-airflow-robust://retrain/<model name>``.
    :param rollback_on_performance_loss: with a ``models:/<name>@<alias>`` reference, move the alias
        back to ``previous_<alias>`` when a performance loss is measured on labelled data; default ``False``.
    :param score_model: score ``current`` with the reference model to get predictions; default ``True``.
        ``False`` when ``current`` already holds them (e.g. the output of ``BatchPredictOperator``).
    :param conn_id: Airflow connection for SQL ``current`` (the drift counts run in the database).
    :param reference_conn_id: Airflow connection for a SQL ``reference`` (when it is a dataset, not a model).
    :param data_format: file format of ``current`` when its suffix does not tell.
    :param chunk_rows: rows read per chunk when streaming ``current``; default ``250_000``.
    :param keep_rows: while ``current`` has at most this many rows their values are kept, so the
        Wasserstein distance is exact; beyond it, binned counts only (fixed memory). Default ``100_000``.

    Returns (XCom) ``dataset_drift``, ``drift_share``, ``drifted_columns``, ``columns`` (per-column
    method, statistic, p_value, threshold, drifted), ``prediction_drift``, ``target_drift``,
    ``performance``, ``estimated_performance``, ``drift``, ``status``, ``reason``, ``report_uri``.
    """

    stage = "monitor"
    template_fields: Sequence[str] = (
        "reference",
        "current",
        "predictions",
        "columns",
        "target",
        "conn_id",
        "experiment_name",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {"current": "sql"}
    PARAMETERS: ClassVar[Mapping[str, Constraint]] = {
        **RobustBaseOperator.PARAMETERS,
        "reference": non_empty_str(),
        "current": non_empty_str(),
        "on_drift": one_of("warn", "fail", "skip", "trigger"),
        "columns": str_list().or_none(),
        "target": non_empty_str().or_none(),
        "method": one_of(*_METHODS),
        "column_methods": Constraint(
            f"a dict of column -> one of {list(_METHODS)}",
            lambda v: isinstance(v, Mapping) and all(isinstance(m, str) and m in _METHODS for m in v.values()),
            optional=True,
            example_bad=({"a": "magic"}, ["ks"]),
        ),
        "thresholds": Constraint(
            f"a dict of method -> number in (0, 10] with methods from {list(_METHODS[1:])}",
            lambda v: (
                isinstance(v, Mapping)
                and all(k in _METHODS[1:] for k in v)
                and all(isinstance(x, (int, float)) and not isinstance(x, bool) and 0 < x <= 10 for x in v.values())
            ),
            optional=True,
            example_bad=({"ks": "0.05"}, {"ks": -1}, {"magic": 0.1}),
        ),
        "drift_share": number_in(0, 1, low_open=True),
        "predictions": non_empty_str().or_none(),
        "score_model": boolean(),
        "performance_metric": one_of("accuracy", "balanced_accuracy", "f1_macro", "rmse", "mae").or_none(),
        "max_performance_drop": number_in(0, 1e12),
        "drift_signals": Constraint(
            f"a non-empty list of {list(_SIGNALS)}",
            lambda v: isinstance(v, (list, tuple)) and len(v) > 0 and all(x in _SIGNALS for x in v),
            example_bad=("dataset", [], ["weather"]),
        ),
        "retrain_asset": non_empty_str().or_none(),
        "rollback_on_performance_loss": boolean(),
        "conn_id": non_empty_str().or_none(),
        "reference_conn_id": non_empty_str().or_none(),
        "data_format": one_of(*FORMATS).or_none(),
        "chunk_rows": number_in(1, 10**8, integer=True),
        "keep_rows": number_in(0, 10**8, integer=True),
    }

    def __init__(
        self,
        *,
        reference: str,
        current: str,
        on_drift: str = "warn",
        columns: Sequence[str] | None = None,
        target: str | None = None,
        method: str = "auto",
        column_methods: Mapping[str, str] | None = None,
        thresholds: Mapping[str, float] | None = None,
        drift_share: float = 0.5,
        predictions: str | None = None,
        score_model: bool = True,
        performance_metric: str | None = None,
        max_performance_drop: float = 0.1,
        drift_signals: Sequence[str] = ("dataset", "performance"),
        retrain_asset: str | None = None,
        rollback_on_performance_loss: bool = False,
        conn_id: str | None = None,
        reference_conn_id: str | None = None,
        data_format: str | None = None,
        chunk_rows: int = 250_000,
        keep_rows: int = 100_000,
        **kwargs: Any,
    ) -> None:
        name = _model_name(reference)
        if retrain_asset is None and name is not None:
            retrain_asset = f"{RETRAIN_ASSET_PREFIX}{name}"
        # through an alias, so that an event exists only when drift was found; a templated reference
        # names its model only when rendered, so its alias is the generic one
        retrain_alias = f"airflow-robust-retrain:{retrain_asset}" if retrain_asset else "airflow-robust-retrain"
        if on_drift == "trigger" and "outlets" not in kwargs:
            from airflow.sdk import AssetAlias

            kwargs["outlets"] = [AssetAlias(retrain_alias)]
        super().__init__(**kwargs)
        self.retrain_alias = retrain_alias
        self.reference = reference
        self.current = current
        self.on_drift = on_drift
        self.columns = columns
        self.target = target
        self.method = method
        self.column_methods = column_methods
        self.thresholds = thresholds
        self.drift_share = drift_share
        self.predictions = predictions
        self.score_model = score_model
        self.performance_metric = performance_metric
        self.max_performance_drop = max_performance_drop
        self.drift_signals = list(drift_signals) if isinstance(drift_signals, (list, tuple)) else drift_signals
        self.retrain_asset = retrain_asset
        self.rollback_on_performance_loss = rollback_on_performance_loss
        self.conn_id = conn_id
        self.reference_conn_id = reference_conn_id
        self.data_format = data_format
        self.chunk_rows = chunk_rows
        self.keep_rows = keep_rows

    def check_parameters(self) -> None:
        from airflow_robust.exceptions import InvalidParameterError

        owner = type(self).__name__
        rendered = _model_name(self.reference)
        if not self.retrain_asset and rendered is not None:  # a templated models:/ reference, now rendered
            self.retrain_asset = f"{RETRAIN_ASSET_PREFIX}{rendered}"
        if self.on_drift == "trigger" and not self.retrain_asset:
            raise InvalidParameterError(
                "retrain_asset", owner, "an Asset URI when on_drift='trigger' and reference is not models:/...", None
            )
        if self.rollback_on_performance_loss and not (self.reference.startswith("models:/") and "@" in self.reference):
            raise InvalidParameterError(
                "reference",
                owner,
                "a 'models:/<name>@<alias>' URI when rollback_on_performance_loss=True",
                self.reference,
            )

    def run_stage(self, context: Any, run: StageRun, hook: MlflowHook) -> dict[str, Any]:
        from airflow_robust.drift.stage import monitor_drift

        return self.settle(monitor_drift(self, run, hook), context)
