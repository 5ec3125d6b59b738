"""Run expectation specs with Great Expectations 1.x on a DataFrame or inside a SQL database.

Each run uses its own ephemeral GX context (nothing written to a user's GX project), with
objects named after the Airflow task (so parallel or mapped validations never collide),
progress bars off and GX's INFO chatter silenced. Data Docs are built into ``docs_dir``.
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from airflow_robust.exceptions import ConfigurationError
from airflow_robust.validation.spec import ExpectationSpec

FAILED_EXAMPLES = 10


@dataclass
class ExpectationOutcome:
    spec: ExpectationSpec
    success: bool
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    element_count: int | None = None
    unexpected_index_list: list[Any] | None = None
    partial_unexpected_list: list[Any] = field(default_factory=list)
    observed_value: Any = None
    error: str | None = None

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "expectation": self.spec.label,
            "type": self.spec.type,
            "severity": self.spec.severity,
            "success": self.success,
        }
        for key in ("unexpected_count", "unexpected_percent", "element_count", "observed_value", "error"):
            value = getattr(self, key)
            if value is not None:
                out[key] = _jsonable(value)
        if self.partial_unexpected_list:
            out["examples"] = _jsonable(self.partial_unexpected_list[:FAILED_EXAMPLES])
        return out


@dataclass
class ValidationOutcome:
    """Results of one run; ``success`` considers only critical expectations."""

    outcomes: list[ExpectationOutcome]
    result_json: dict[str, Any]
    docs_index: str | None

    @property
    def success(self) -> bool:
        return all(o.success for o in self.outcomes if o.spec.severity == "critical")

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]

    def statistics(self) -> dict[str, Any]:
        evaluated = len(self.outcomes)
        successful = sum(o.success for o in self.outcomes)
        return {
            "evaluated_expectations": evaluated,
            "successful_expectations": successful,
            "unsuccessful_expectations": evaluated - successful,
            "success_percent": 100.0 * successful / evaluated if evaluated else 0.0,
            "critical_failures": sum(not o.success and o.spec.severity == "critical" for o in self.outcomes),
            "warning_failures": sum(not o.success and o.spec.severity != "critical" for o in self.outcomes),
        }


def quiet_gx() -> None:
    """Keep task logs readable: GX logs hundreds of INFO lines at import and shows tqdm bars."""
    for name in (
        "great_expectations",
        "great_expectations._docs_decorators",
        "great_expectations.data_context.types.base",
    ):
        logging.getLogger(name).setLevel(logging.WARNING)
    # GX imports pyspark when it is installed; on pandas 3 pyspark warns on every import, in every task log
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:200] or "airflow_robust"


def validate_frame(
    frame: pd.DataFrame, specs: Sequence[ExpectationSpec], *, name: str, docs_dir: str | None = None
) -> ValidationOutcome:
    """Validate an in-memory DataFrame (row indexes of failures are kept for quarantine)."""
    context = _context(docs_dir)
    asset = context.data_sources.add_pandas(f"{name}-source").add_dataframe_asset(f"{name}-asset")
    batch_definition = asset.add_batch_definition_whole_dataframe(f"{name}-batch")
    return _run(context, batch_definition, specs, name, {"dataframe": frame}, docs_dir)


def validate_spark(
    frame: Any, specs: Sequence[ExpectationSpec], *, name: str, docs_dir: str | None = None
) -> ValidationOutcome:
    """Validate a Spark DataFrame through GX's Spark data source: the cluster evaluates, no rows come back."""
    context = _context(docs_dir)
    asset = context.data_sources.add_spark(f"{name}-source").add_dataframe_asset(f"{name}-asset")
    batch_definition = asset.add_batch_definition_whole_dataframe(f"{name}-batch")
    return _run(context, batch_definition, specs, name, {"dataframe": frame}, docs_dir)


def validate_sql(
    connection_string: str,
    *,
    query: str | None = None,
    table: str | None = None,
    specs: Sequence[ExpectationSpec],
    name: str,
    docs_dir: str | None = None,
) -> ValidationOutcome:
    """Validate inside the database: GX compiles expectations to SQL; rows are not loaded into pandas."""
    context = _context(docs_dir)
    if connection_string.startswith(("postgresql", "postgres")):
        source = context.data_sources.add_postgres(f"{name}-source", connection_string=connection_string)
    else:
        source = context.data_sources.add_sql(f"{name}-source", connection_string=connection_string)
    if table is not None:
        schema, _, table_name = table.rpartition(".")
        asset = source.add_table_asset(f"{name}-asset", table_name=table_name, schema_name=schema or None)
    else:
        asset = source.add_query_asset(f"{name}-asset", query=query)
    batch_definition = asset.add_batch_definition_whole_table(f"{name}-batch")
    return _run(context, batch_definition, specs, name, None, docs_dir)


def _context(docs_dir: str | None) -> Any:
    quiet_gx()
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    quiet_gx()  # GX resets its loggers on import
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    if docs_dir:
        context.add_data_docs_site(
            "airflow_robust",
            {
                "class_name": "SiteBuilder",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": docs_dir},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
    return context


def build_suite(specs: Sequence[ExpectationSpec], name: str) -> Any:
    """A GX ExpectationSuite; an unknown type or bad kwargs is a ConfigurationError naming the spec."""
    quiet_gx()
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration
    from great_expectations.expectations.metadata_types import FailureSeverity

    suite = gx.ExpectationSuite(name=name)
    for index, spec in enumerate(specs):
        try:
            config = ExpectationConfiguration(
                type=spec.type,
                kwargs=spec.kwargs,
                severity=FailureSeverity(spec.severity),
                meta=spec.meta or None,
            )
            suite.add_expectation(config.to_domain_obj())
        except Exception as err:
            raise ConfigurationError(
                f"expectations[{index}] ({spec.label}) is not a valid GX expectation: {type(err).__name__}: "
                f"{_first_line(err)}"
            ) from err
    return suite


def _run(
    context: Any,
    batch_definition: Any,
    specs: Sequence[ExpectationSpec],
    name: str,
    batch_parameters: dict[str, Any] | None,
    docs_dir: str | None,
) -> ValidationOutcome:
    import great_expectations as gx

    suite = context.suites.add(build_suite(specs, f"{name}-suite"))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{name}-validation", data=batch_definition, suite=suite)
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=f"{name}-checkpoint",
            validation_definitions=[definition],
            actions=[],
            result_format={
                "result_format": "COMPLETE",
                "partial_unexpected_count": FAILED_EXAMPLES,
                # a pandas filter expression listing every failing row index: megabytes at millions of rows
                "return_unexpected_index_query": False,
            },
        )
    )
    result = checkpoint.run(batch_parameters=batch_parameters)
    key, validation = next(iter(result.run_results.items()))
    by_key = {_key(spec.type, spec.kwargs): spec for spec in specs}
    outcomes = [_outcome(r, by_key) for r in validation.results]  # full row indexes, for the quarantine file
    truncated = cap_lists(validation)  # what is written and rendered stays small, whatever the data size
    docs_index = None
    if docs_dir:
        import os

        context.validation_results_store.set(key, validation)
        context.build_data_docs()
        candidate = os.path.join(docs_dir, "index.html")
        docs_index = candidate if os.path.exists(candidate) else None
    result_json = validation.to_json_dict()
    if truncated:
        result_json.setdefault("meta", {})["airflow_robust_truncated"] = truncated
    return ValidationOutcome(outcomes=outcomes, result_json=result_json, docs_index=docs_index)


#: lists in a validation result that grow with the number of failing rows
GROWING = ("unexpected_list", "unexpected_index_list", "partial_unexpected_index_list", "unexpected_rows")
MAX_LISTED = 200


def cap_lists(validation: Any, limit: int = MAX_LISTED) -> dict[str, int]:
    """Truncate row-level lists in every expectation result to ``limit`` entries (in place).

    Returns ``"<expectation index>.<list>" -> original length`` for what was cut. The counts
    (``unexpected_count``, ``unexpected_percent``) stay exact; the full row indexes live in the
    quarantine file, not in the JSON or the Data Docs page.
    """
    truncated: dict[str, int] = {}
    for index, item in enumerate(validation.results):
        details = item.result
        if not isinstance(details, dict):
            continue
        for name in GROWING:
            values = details.get(name)
            if isinstance(values, list) and len(values) > limit:
                truncated[f"{index}.{name}"] = len(values)
                details[name] = values[:limit]
    return truncated


def _outcome(result: Any, by_key: dict[str, ExpectationSpec]) -> ExpectationOutcome:
    config = result.expectation_config
    kwargs = {k: v for k, v in dict(config.kwargs).items() if k not in ("batch_id",)}
    spec = by_key.get(_key(config.type, kwargs)) or ExpectationSpec(
        config.type, kwargs, str(getattr(config.severity, "value", "critical"))
    )
    details = dict(result.result or {})
    info = dict(result.exception_info or {})
    error = None
    if info.get("raised_exception"):
        error = _first_line(info.get("exception_message") or "the expectation raised an error")
    return ExpectationOutcome(
        spec=spec,
        success=bool(result.success) and error is None,
        unexpected_count=details.get("unexpected_count"),
        unexpected_percent=details.get("unexpected_percent"),
        element_count=details.get("element_count"),
        unexpected_index_list=details.get("unexpected_index_list"),
        partial_unexpected_list=list(details.get("partial_unexpected_list") or []),
        observed_value=details.get("observed_value"),
        error=error,
    )


def _key(type_: str, kwargs: dict[str, Any]) -> str:
    import json

    return type_ + json.dumps(_jsonable(kwargs), sort_keys=True, default=str)


def _jsonable(value: Any) -> Any:  # noqa: PLR0911 - one return per JSON kind
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            return _jsonable(value.item())
        except (ValueError, AttributeError):
            return str(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _first_line(err: Any) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:400] if text else type(err).__name__
