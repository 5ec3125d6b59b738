"""The validation gate, Airflow-free: :func:`validate` resolves the suite, runs GX where the data lives,
quarantines, logs and decides (ValidateDataOperator)."""

from __future__ import annotations

import math
import os
import re
import tempfile
from typing import TYPE_CHECKING, Any, Protocol

from airflow_robust.exceptions import DataValidationFailed, InvalidParameterError
from airflow_robust.registry.tags import VALIDATION_STATUS_TAG, VALIDATION_SUCCESS_PERCENT_TAG
from airflow_robust.requests import DataRequest, SignedRequest

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow_robust.requests import Tracking
    from airflow_robust.tracking.runs import StageRun
    from airflow_robust.trust.evidence import ModelBinding
    from airflow_robust.trust.gate import Verdict
    from airflow_robust.validation.spec import ExpectationSpec


class ValidationRequest(SignedRequest, DataRequest, Protocol):
    """What the validation gate reads of its operator; an operator (or any object) satisfies it."""

    @property
    def allow_empty(self) -> bool: ...

    @property
    def checkpoint_name(self) -> str | None: ...

    @property
    def clean_uri(self) -> str | None: ...

    @property
    def data(self) -> str: ...

    @property
    def expectations(self) -> Sequence[Mapping[str, Any]] | str | None: ...

    @property
    def gx_project_dir(self) -> str | None: ...

    @property
    def model_name(self) -> str | None: ...

    @property
    def model_version(self) -> str | int | None: ...

    @property
    def on_failure(self) -> str: ...

    @property
    def quarantine_uri(self) -> str | None: ...

    @property
    def reference_tolerance(self) -> float: ...

    @property
    def suite_from_reference(self) -> str | None: ...

    @property
    def suite_name(self) -> str | None: ...


def validate(op: ValidationRequest, run: StageRun, tracking: Tracking) -> Verdict:
    """Validate ``op.data`` against its expectations (GX) where the data lives; the validation gate's verdict."""
    import mlflow

    from airflow_robust.data.access import described
    from airflow_robust.trust.gate import judge, point_version
    from airflow_robust.validation.engine import safe_name
    from airflow_robust.validation.spec import suite_document

    owner = type(op).__name__
    specs = resolve_specs(op, owner)
    identity = run.identity
    name = safe_name(f"{identity.dag_id}-{identity.run_id}-{identity.task_id}-{identity.map_index}")
    source = described(owner, op.data, conn_id=op.conn_id, data_format=op.data_format)
    mlflow.log_dict(suite_document(specs, f"{name}-suite"), "suite.json")
    mlflow.log_params({"data": source.display[:6000], "expectations": len(specs), "on_failure": op.on_failure})
    with tempfile.TemporaryDirectory(prefix="airflow-robust-docs-") as docs_dir:
        if source.kind == "sql":
            summary, passed, reason = _validate_sql(op, owner, source, specs, name, docs_dir)
        elif source.kind == "spark":
            summary, passed, reason = _validate_spark(op, owner, source, specs, name, docs_dir)
        else:
            summary, passed, reason = _validate_frame(op, owner, source, specs, name, docs_dir)
        if os.path.exists(os.path.join(docs_dir, "index.html")):
            mlflow.log_artifacts(docs_dir, "data_docs")
            summary["data_docs_uri"] = f"{mlflow.get_artifact_uri('data_docs')}/index.html"
    if summary.get("statistics"):
        summary["report_uri"] = mlflow.get_artifact_uri(REPORT)
        summary["report_url"] = tracking.get_config().artifact_url(run.experiment_id, run.run_id, REPORT)
    summary["run_id"] = run.run_id
    if not passed:
        reason = "\n".join([reason, *_where(summary, op)])
    binding = _bind_model_version(op)
    if binding is not None:
        point_version(
            tracking.get_client(), binding, "validation", run.run_id, {VALIDATION_STATUS_TAG: _status(op, passed)}
        )
    return judge(
        gate="validation",
        passed=passed,
        summary=summary,
        reason=reason,
        on_failure=op.on_failure,
        error=DataValidationFailed,
        log=op.log,
        signer=op.signer(run, tracking),
        model=binding,
        facts={"data": source.display[:1000], "rows": summary.get("rows"), "data_digest": summary.get("data_digest")},
    )


def resolve_specs(op: ValidationRequest, owner: str) -> list[ExpectationSpec]:
    import mlflow

    from airflow_robust.data.access import load
    from airflow_robust.validation.reference import build_reference_suite
    from airflow_robust.validation.spec import parse_document, parse_expectations, suite_document

    if op.expectations:
        return parse_expectations(op.expectations, owner)
    if op.suite_from_reference:
        _, reference = load(op.storage, owner, op.suite_from_reference, parameter="suite_from_reference")
        specs = build_reference_suite(reference, tolerance=float(op.reference_tolerance))
        mlflow.log_dict(suite_document(specs, "reference_suite"), "reference_suite.json")
        return specs
    return parse_document(_gx_project_suite(op, owner), owner, "gx_project_dir", source=str(op.gx_project_dir))


def _gx_project_suite(op: ValidationRequest, owner: str) -> list[dict[str, Any]]:
    from airflow_robust.validation.engine import quiet_gx

    quiet_gx()
    import great_expectations as gx

    if not op.gx_project_dir or not os.path.isdir(op.gx_project_dir):
        raise InvalidParameterError("gx_project_dir", owner, "an existing GX project directory", op.gx_project_dir)
    context = gx.get_context(mode="file", project_root_dir=op.gx_project_dir)
    try:
        if op.checkpoint_name:
            suite = context.checkpoints.get(op.checkpoint_name).validation_definitions[0].suite
        else:
            suite = context.suites.get(str(op.suite_name))
    except Exception as err:
        which = "checkpoint_name" if op.checkpoint_name else "suite_name"
        raise InvalidParameterError(
            which,
            owner,
            f"the name of a {which.split('_', maxsplit=1)[0]} in {op.gx_project_dir}",
            op.checkpoint_name or op.suite_name,
            detail=str(err),
        ) from err
    return [e.configuration.to_json_dict() for e in suite.expectations]


def _validate_frame(
    op: ValidationRequest, owner: str, source: Any, specs: list[ExpectationSpec], name: str, docs_dir: str
) -> tuple[dict[str, Any], bool, str]:
    import mlflow

    from airflow_robust.data.access import check_output_uri, load
    from airflow_robust.data.loaders import frame_digest
    from airflow_robust.validation.engine import validate_frame

    if op.quarantine_uri:
        check_output_uri(owner, "quarantine_uri", op.quarantine_uri, {"data": op.data})
    if op.clean_uri:
        check_output_uri(owner, "clean_uri", op.clean_uri, {"data": op.data, "quarantine_uri": op.quarantine_uri})
    _, frame = load(op.storage, owner, op.data, conn_id=op.conn_id, data_format=op.data_format, allow_empty=True)
    if frame.empty and not op.allow_empty:
        return _empty_summary(), False, f"the data at {source.display} has no rows (allow_empty=False)"
    outcome = validate_frame(frame, specs, name=name, docs_dir=docs_dir)
    quarantined, clean = _quarantine(op, frame, outcome)
    summary = _summary(outcome, rows=len(frame), quarantined=quarantined, clean=clean)
    summary["data_digest"] = frame_digest(frame)
    _log(outcome, summary, source.display)
    mlflow.log_metric("rows", len(frame))
    return summary, outcome.success, _reason(outcome)


def _refuse_row_outputs(op: ValidationRequest, owner: str, data: str, runs: str) -> None:
    """Quarantine and clean outputs need the rows in the worker; an engine that keeps them where they are refuses."""
    for parameter in ("quarantine_uri", "clean_uri"):
        if getattr(op, parameter):
            raise InvalidParameterError(
                parameter, owner, f"None for {data} ({runs}; rows are not pulled out of it)", getattr(op, parameter)
            )


def _validate_sql(
    op: ValidationRequest, owner: str, source: Any, specs: list[ExpectationSpec], name: str, docs_dir: str
) -> tuple[dict[str, Any], bool, str]:
    import sqlalchemy as sa

    from airflow_robust.validation.engine import validate_sql

    _refuse_row_outputs(op, owner, "SQL data", "validation runs inside the database")
    engine = op.storage.sql_engine(str(op.conn_id))
    relation = source.location if not source.is_table else None
    with engine.connect() as connection:
        count_sql = f"SELECT COUNT(*) FROM ({relation}) AS q" if relation else f"SELECT COUNT(*) FROM {source.location}"
        rows = int(connection.execute(sa.text(count_sql)).scalar_one())
    if rows == 0 and not op.allow_empty:
        return _empty_summary(), False, f"{source.display} has no rows (allow_empty=False)"
    url = engine.url.render_as_string(hide_password=False)
    outcome = validate_sql(
        url, query=relation, table=None if relation else source.location, specs=specs, name=name, docs_dir=docs_dir
    )
    summary = _summary(outcome, rows=rows, quarantined=None, clean=None)
    _log(outcome, summary, source.display)
    return summary, outcome.success, _reason(outcome)


def _validate_spark(
    op: ValidationRequest, owner: str, source: Any, specs: list[ExpectationSpec], name: str, docs_dir: str
) -> tuple[dict[str, Any], bool, str]:
    """GX's Spark data source evaluates the expectations on the cluster; only results come back."""
    from airflow_robust.data.access import spark_frame
    from airflow_robust.validation.engine import validate_spark

    _refuse_row_outputs(op, owner, "Spark data", "validation runs on the cluster")
    frame = spark_frame(owner, source)
    rows = int(frame.count())
    if rows == 0 and not op.allow_empty:
        return _empty_summary(), False, f"{source.display} has no rows (allow_empty=False)"
    outcome = validate_spark(frame, specs, name=name, docs_dir=docs_dir)
    summary = _summary(outcome, rows=rows, quarantined=None, clean=None)
    _log(outcome, summary, source.display)
    return summary, outcome.success, _reason(outcome)


def _quarantine(op: ValidationRequest, frame: Any, outcome: Any) -> tuple[Any, Any]:
    if not (op.quarantine_uri or op.clean_uri):
        return None, None
    from airflow_robust.data.writers import write_frame
    from airflow_robust.validation.quarantine import split_rows

    quarantined, clean = split_rows(frame, outcome.outcomes)
    if op.quarantine_uri:
        write_frame(quarantined, op.quarantine_uri, opener=op.storage.open_for_write)
    if op.clean_uri:
        write_frame(clean, op.clean_uri, opener=op.storage.open_for_write)
    op.log.info("Quarantined %d rows, %d clean rows", len(quarantined), len(clean))
    return quarantined, clean


def _summary(outcome: Any, *, rows: int, quarantined: Any, clean: Any) -> dict[str, Any]:
    failed = sorted(outcome.failed, key=lambda o: o.spec.severity != "critical")
    return {
        "success": outcome.success,
        "statistics": outcome.statistics(),
        "failed_expectations": [o.summary() for o in failed if o.spec.severity == "critical"],
        "warnings": [o.summary() for o in failed if o.spec.severity != "critical"],
        "quarantined_rows": 0 if quarantined is None else len(quarantined),
        "clean_rows": rows if clean is None else len(clean),
        "rows": rows,
        "report_uri": None,
    }


def _log(outcome: Any, summary: dict[str, Any], data: str) -> None:
    import mlflow

    from airflow_robust.validation.report import html_report

    stats = summary["statistics"]
    mlflow.log_metrics(
        {
            "success_percent": stats["success_percent"],
            "evaluated": stats["evaluated_expectations"],
            "failed": stats["unsuccessful_expectations"],
            "critical_failures": stats["critical_failures"],
            "warning_failures": stats["warning_failures"],
            "quarantined_rows": summary["quarantined_rows"],
        }
    )
    per_expectation = {}
    for index, item in enumerate(outcome.outcomes):
        if item.unexpected_count is not None:
            key = re.sub(r"[^\w.\- /]", "_", f"unexpected_count.{index:02d}.{item.spec.label}")[:250]
            per_expectation[key] = float(item.unexpected_count)
    if per_expectation:
        mlflow.log_metrics(per_expectation)
    mlflow.log_dict(outcome.result_json, "validation_result.json")
    mlflow.log_text(html_report(outcome.outcomes, summary, data), REPORT)
    mlflow.set_tag(VALIDATION_SUCCESS_PERCENT_TAG, f"{stats['success_percent']:.1f}")


def _reason(outcome: Any) -> str:
    """One line when the gate passes; else a headline and one line per failed expectation, naming its columns."""
    critical = [o for o in outcome.failed if o.spec.severity == "critical"]
    warnings = [o for o in outcome.failed if o.spec.severity != "critical"]
    if not critical:
        suffix = f"; {len(warnings)} warning(s): {', '.join(o.spec.label for o in warnings[:5])}" if warnings else ""
        return f"all {len(outcome.outcomes)} critical expectations passed{suffix}"
    lines = [f"{len(critical)} critical expectation(s) failed:"]
    lines += [f"  - {_what_failed(item)}" for item in critical[:LISTED]]
    if len(critical) > LISTED:
        lines.append(f"  - ... and {len(critical) - LISTED} more (validation_result.json has them all)")
    if warnings:
        lines.append(f"{len(warnings)} warning(s): {', '.join(o.spec.label for o in warnings[:LISTED])}")
    return "\n".join(lines)


#: failed expectations listed in a reason (the summary and validation_result.json have every one)
LISTED = 8
#: the validation page logged to every validation run, styled inline (it renders inside the MLflow UI)
REPORT = "validation_report.html"


def _what_failed(item: Any) -> str:
    """``expect_...(col): what was wrong`` in words a person debugging from the task log can act on."""
    label = item.spec.label
    if item.error:
        return f"{label}: {item.error}"
    mismatch = _column_mismatch(item)
    if mismatch:
        return f"{item.spec.type}: {mismatch}"
    if item.unexpected_count:
        share = f" ({item.unexpected_percent:.2f}%)" if item.unexpected_percent is not None else ""
        of = f" of {item.element_count}" if item.element_count is not None else ""
        shown = [v for v in item.partial_unexpected_list if not _is_null(v)][:3]  # nulls say nothing
        examples = ", ".join(repr(v) for v in shown)
        return f"{label}: {item.unexpected_count}{of} rows unexpected{share}" + (
            f", e.g. {examples}" if examples else ""
        )
    if item.observed_value is not None:
        return f"{label}: observed {_short(item.observed_value)}"
    return f"{label}: failed"


def _column_mismatch(item: Any) -> str | None:
    """For table-column expectations: which expected columns are missing and which are not expected."""
    expected = item.spec.kwargs.get("column_set") or item.spec.kwargs.get("column_list")
    observed = item.observed_value
    if not (isinstance(expected, (list, tuple, set)) and isinstance(observed, (list, tuple))):
        return None
    missing = [str(c) for c in expected if c not in observed]
    extra = [str(c) for c in observed if c not in expected]
    parts = []
    if missing:
        parts.append("missing column(s) " + ", ".join(repr(c) for c in missing))
    if extra:
        parts.append("unexpected column(s) " + ", ".join(repr(c) for c in extra))
    if not parts:
        return "the columns are in a different order: " + ", ".join(repr(str(c)) for c in observed)
    hint = " (renamed?)" if missing and extra else ""
    return "; ".join(parts) + hint


def _is_null(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _short(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _where(summary: dict[str, Any], op: ValidationRequest) -> list[str]:
    """Where to look next: the quarantined rows and the Data Docs page."""
    lines = []
    if summary.get("quarantined_rows") and op.quarantine_uri:
        lines.append(f"Quarantined {summary['quarantined_rows']} row(s) (with the failed checks): {op.quarantine_uri}")
    if summary.get("report_url"):
        lines.append(f"Report (every expectation, failures first): {summary['report_url']}")
    if summary.get("data_docs_uri"):
        lines.append(f"GX Data Docs: {summary['data_docs_uri']}")
    return lines


def _bind_model_version(op: ValidationRequest) -> ModelBinding | None:
    """With ``model_name`` and ``model_version``: that version and the digest of its files, else ``None``."""
    if not (op.model_name and op.model_version):
        return None
    from airflow_robust.registry.errors import never_judged
    from airflow_robust.trust.gate import bind_version

    with tempfile.TemporaryDirectory() as tmp:
        try:
            binding, _ = bind_version(op.model_name, str(op.model_version), tmp)
        except Exception as err:
            if never_judged(err):
                raise
            raise InvalidParameterError(
                "model_version",
                type(op).__name__,
                f"a version of {op.model_name!r} whose model files can be read (the verdict is bound to their digest)",
                op.model_version,
                detail=f"{type(err).__name__}: {str(err)[:300]}",
            ) from err
    return binding


def _status(op: ValidationRequest, passed: bool) -> str:
    return "passed" if passed else ("warned" if op.on_failure == "warn" else "failed")


def _empty_summary() -> dict[str, Any]:
    """The result of a gate that closed on empty data before validating anything."""
    return {
        "success": False,
        "statistics": {},
        "failed_expectations": [],
        "warnings": [],
        "quarantined_rows": 0,
        "clean_rows": 0,
        "rows": 0,
        "report_uri": None,
    }
