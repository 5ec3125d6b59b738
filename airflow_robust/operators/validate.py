"""``ValidateDataOperator``: a Great Expectations data gate that loses nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_robust.data.sources import FORMATS
from airflow_robust.exceptions import InvalidParameterError
from airflow_robust.operators.base import RobustBaseOperator
from airflow_robust.params import Constraint, boolean, model_name, non_empty_str, number_in, one_of

if TYPE_CHECKING:
    from airflow_robust.hooks.mlflow import MlflowHook
    from airflow_robust.tracking.runs import StageRun

_EXPECTATIONS = Constraint(
    "a list of expectation dicts or a .json/.yaml suite file path",
    lambda v: (isinstance(v, str) and v.strip() != "") or (isinstance(v, (list, tuple)) and len(v) > 0),
    optional=True,
    example_bad=(42, []),
)


class ValidateDataOperator(RobustBaseOperator):
    """Validate ``data`` with Great Expectations; only critical failures close the gate.

    :param data: a file/object URI, an import-path callable, or (with ``conn_id``) a SQL query or
        table name; SQL is validated inside the database by GX's SQL data source.
    :param expectations: a list of ``{"type": "expect_...", "kwargs": {...}, "severity":
        "critical"|"warning"}`` dicts, or a path to a JSON/YAML suite file (GX suite JSON accepted).
    :param suite_from_reference: instead of ``expectations``, a data URI from which a baseline
        suite is built (columns, null rates, numeric ranges +- ``reference_tolerance``, category
        sets, row-count range) and logged as ``reference_suite.json``.
    :param gx_project_dir: instead of ``expectations``, an existing GX file project; with
        ``suite_name`` or ``checkpoint_name`` (its first validation's suite). Never modified.
    :param suite_name: the expectation suite of ``gx_project_dir`` to validate with.
    :param checkpoint_name: or a checkpoint of ``gx_project_dir``: its first validation's suite is used.
    :param on_failure: ``"fail"`` (default; non-retryable ``DataValidationFailed``), ``"skip"``
        (skip downstream) or ``"warn"`` (log, tag, continue).
    :param quarantine_uri: where rows failing row-level expectations are written, with a
        ``_failed_expectations`` column; default ``None``. File/object sources only.
    :param clean_uri: where the passing rows are written; default ``None``.
    :param allow_empty: accept data with no rows; default ``False`` (empty data fails closed).
    :param conn_id: Airflow connection for SQL ``data``.
    :param data_format: file format when the suffix does not tell.
    :param reference_tolerance: widening of reference ranges and null rates; default ``0.1``.
    :param model_name: with ``model_version``, tag that version ``robust.validation.status``.
    :param model_version: the registered model version to tag.

    Returns (XCom) ``success``, ``statistics``, ``failed_expectations``, ``warnings``,
    ``quarantined_rows``, ``clean_rows``, ``rows``, ``report_uri`` (Data Docs in MLflow), ``status``.
    """

    stage = "validate"
    template_fields: Sequence[str] = (
        "data",
        "expectations",
        "suite_from_reference",
        "quarantine_uri",
        "clean_uri",
        "conn_id",
        "reference_tolerance",
        "model_name",
        "model_version",
        "suite_name",
        "checkpoint_name",
        "experiment_name",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {"expectations": "json", "data": "sql"}
    PARAMETERS: ClassVar[Mapping[str, Constraint]] = {
        **RobustBaseOperator.PARAMETERS,
        "data": non_empty_str(),
        "expectations": _EXPECTATIONS,
        "suite_from_reference": non_empty_str().or_none(),
        "gx_project_dir": non_empty_str().or_none(),
        "suite_name": non_empty_str().or_none(),
        "checkpoint_name": non_empty_str().or_none(),
        "on_failure": one_of("fail", "skip", "warn"),
        "quarantine_uri": non_empty_str().or_none(),
        "clean_uri": non_empty_str().or_none(),
        "allow_empty": boolean(),
        "conn_id": non_empty_str().or_none(),
        "data_format": one_of(*FORMATS).or_none(),
        "reference_tolerance": number_in(0, 10),
        "model_name": model_name().or_none(),
        "model_version": Constraint(
            "a version number such as '3'", lambda v: str(v).strip().isdigit(), optional=True, example_bad=("latest",)
        ),
    }

    def __init__(
        self,
        *,
        data: str,
        expectations: Sequence[Mapping[str, Any]] | str | None = None,
        on_failure: str = "fail",
        suite_from_reference: str | None = None,
        gx_project_dir: str | None = None,
        suite_name: str | None = None,
        checkpoint_name: str | None = None,
        quarantine_uri: str | None = None,
        clean_uri: str | None = None,
        allow_empty: bool = False,
        conn_id: str | None = None,
        data_format: str | None = None,
        reference_tolerance: float = 0.1,
        model_name: str | None = None,
        model_version: str | int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.data = data
        self.expectations = expectations
        self.on_failure = on_failure
        self.suite_from_reference = suite_from_reference
        self.gx_project_dir = gx_project_dir
        self.suite_name = suite_name
        self.checkpoint_name = checkpoint_name
        self.quarantine_uri = quarantine_uri
        self.clean_uri = clean_uri
        self.allow_empty = allow_empty
        self.conn_id = conn_id
        self.data_format = data_format
        self.reference_tolerance = reference_tolerance
        self.model_name = model_name
        self.model_version = model_version

    def check_parameters(self) -> None:
        owner = type(self).__name__
        given = [n for n in ("expectations", "suite_from_reference", "gx_project_dir") if getattr(self, n)]
        if len(given) != 1:
            raise InvalidParameterError(
                "expectations",
                owner,
                "given exactly one way: expectations, suite_from_reference or gx_project_dir",
                given or None,
            )
        if self.gx_project_dir and not (self.suite_name or self.checkpoint_name):
            raise InvalidParameterError("suite_name", owner, "set (or checkpoint_name) with gx_project_dir", None)
        if bool(self.model_name) != bool(self.model_version):
            raise InvalidParameterError("model_version", owner, "given together with model_name", self.model_version)

    def run_stage(self, context: Any, run: StageRun, hook: MlflowHook) -> dict[str, Any]:
        from airflow_robust.validation.stage import validate

        return self.settle(validate(self, run, hook), context)
