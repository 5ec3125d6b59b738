"""``EvaluateRobustnessOperator``: refuse models that collapse under noise, missing values or on a slice."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_robust.data.sources import FORMATS
from airflow_robust.operators.base import RobustBaseOperator
from airflow_robust.params import Constraint, boolean, non_empty_str, number_in, one_of, str_list

if TYPE_CHECKING:
    from airflow_robust.hooks.mlflow import MlflowHook
    from airflow_robust.tracking.runs import StageRun

_THRESHOLDS = Constraint(
    "'default' or a dict of figure name -> number or {'min': .., 'max': ..}",
    lambda v: v == "default" or (isinstance(v, Mapping) and all(isinstance(k, str) for k in v)),
    optional=True,
    example_bad=("strict", [0.9]),
)
_PERTURBATIONS = Constraint(
    "a list of built-in names or {'name', 'function', 'severities'} dicts",
    lambda v: isinstance(v, (list, tuple)) and len(v) > 0 and all(isinstance(x, (str, Mapping)) for x in v),
    optional=True,
    example_bad=("noise", []),
)


class EvaluateRobustnessOperator(RobustBaseOperator):
    """Stress-test a registered model; the gate passes only when every configured check passes.

    :param model_uri: ``models:/<name>/<version>`` (templated, typically the train task's XCom).
    :param data: evaluation data: a URI, an import-path callable, or SQL with ``conn_id``.
    :param target: the label column.
    :param thresholds: ``"default"`` (AUDC >= 0.9, flip rate <= 0.05 at the mildest noise,
        worst-slice ratio >= 0.8, ECE <= 0.1 for classifiers) or a dict of figure -> bound (see
        :mod:`airflow_robust.robustness.checks`). An empty dict or ``None`` makes the gate refuse
        unless ``report_only=True``.
    :param on_failure: ``"fail"`` (default), ``"skip"`` or ``"warn"``.
    :param report_only: compute and log everything, never close the gate; default ``False``.
    :param perturbations: built-in names (``noise``, ``missing``, ``categories``, ``scaling``,
        ``outliers``, ``prior_shift``) and/or user perturbations; default chosen by column type.
    :param metric: primary metric (``f1_macro``/``accuracy``/``balanced_accuracy``; ``rmse``/``mae``/
        ``r2``); default ``f1_macro`` for classification, ``rmse`` for regression.
    :param task: ``"auto"`` (default), ``"classification"`` or ``"regression"``.
    :param features: feature columns; default the model signature's inputs, else all but the target.
    :param slice_columns: columns to slice on; default every feature.
    :param min_slice_size: smallest slice reported; default ``30``.
    :param seed: seed of every perturbation; the same seed gives identical figures. Default ``42``.
    :param data_format: file format of ``data`` when its suffix does not tell; default inferred.
    :param conn_id: Airflow connection for SQL ``data``.

    Returns (XCom) ``passed``, ``checks`` (name -> value, threshold, passed), ``clean_metric``,
    ``audc``, ``flip_rate``, ``worst_slice_ratio``, ``ece``, ``status``, ``reason``, ``run_id``.
    """

    stage = "robustness"
    template_fields: Sequence[str] = (
        "model_uri",
        "data",
        "target",
        "thresholds",
        "conn_id",
        "features",
        "slice_columns",
        "experiment_name",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {"thresholds": "json"}
    PARAMETERS: ClassVar[Mapping[str, Constraint]] = {
        **RobustBaseOperator.PARAMETERS,
        "model_uri": Constraint(
            "a model URI such as 'models:/name/3' or 'runs:/<id>/model'",
            lambda v: isinstance(v, str) and ":/" in v,
            example_bad=("name/3", 3),
        ),
        "data": non_empty_str(),
        "target": non_empty_str(),
        "thresholds": _THRESHOLDS,
        "on_failure": one_of("fail", "skip", "warn"),
        "report_only": boolean(),
        "perturbations": _PERTURBATIONS,
        "metric": one_of("f1_macro", "accuracy", "balanced_accuracy", "rmse", "mae", "r2").or_none(),
        "task": one_of("auto", "classification", "regression"),
        "features": str_list().or_none(),
        "slice_columns": str_list().or_none(),
        "min_slice_size": number_in(1, 10**9, integer=True),
        "seed": number_in(0, 2**32 - 1, integer=True),
        "conn_id": non_empty_str().or_none(),
        "data_format": one_of(*FORMATS).or_none(),
    }

    def __init__(
        self,
        *,
        model_uri: str,
        data: str,
        target: str,
        thresholds: Mapping[str, Any] | str | None = "default",
        on_failure: str = "fail",
        report_only: bool = False,
        perturbations: Sequence[str | Mapping[str, Any]] | None = None,
        metric: str | None = None,
        task: str = "auto",
        features: Sequence[str] | None = None,
        slice_columns: Sequence[str] | None = None,
        min_slice_size: int = 30,
        seed: int = 42,
        conn_id: str | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.model_uri = model_uri
        self.data = data
        self.target = target
        self.thresholds = thresholds
        self.on_failure = on_failure
        self.report_only = report_only
        self.perturbations = perturbations
        self.metric = metric
        self.task = task
        self.features = features
        self.slice_columns = slice_columns
        self.min_slice_size = min_slice_size
        self.seed = seed
        self.conn_id = conn_id
        self.data_format = data_format

    def run_stage(self, context: Any, run: StageRun, hook: MlflowHook) -> dict[str, Any]:
        from airflow_robust.robustness.stage import evaluate_robustness

        return self.settle(evaluate_robustness(self, run, hook), context)
