"""Drift monitoring, Airflow-free: :func:`monitor_drift` resolves the reference, counts the current data once
(streamed, in the database or on Spark), decides and records (MonitorDriftOperator)."""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from airflow_robust.exceptions import ConfigurationError, DriftDetected, InvalidParameterError
from airflow_robust.registry.tags import (
    MONITOR_DRIFT_SHARE_TAG,
    MONITOR_DRIFT_TAG,
    MONITOR_DRIFTED_COLUMNS_TAG,
    MONITOR_RUN_TAG,
    MONITOR_STATUS_TAG,
    MONITOR_TIME_TAG,
    PROFILE_RUN_ID_TAG,
)
from airflow_robust.requests import DataRequest, SignedRequest
from airflow_robust.trust.gate import jsonable

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow_robust.data.access import Storage
    from airflow_robust.drift.monitor import MonitorResult
    from airflow_robust.drift.profile import ReferenceProfile
    from airflow_robust.registry.models import ModelRef
    from airflow_robust.registry.store import ModelStore
    from airflow_robust.requests import Tracking
    from airflow_robust.tracking.runs import StageRun
    from airflow_robust.trust.gate import Verdict


class MonitorRequest(SignedRequest, DataRequest, Protocol):
    """What drift monitoring reads of its operator; an operator (or any object) satisfies it."""

    @property
    def chunk_rows(self) -> int: ...

    @property
    def column_methods(self) -> Mapping[str, str] | None: ...

    @property
    def columns(self) -> Sequence[str] | None: ...

    @property
    def current(self) -> str: ...

    @property
    def drift_share(self) -> float: ...

    @property
    def drift_signals(self) -> Sequence[str]: ...

    @property
    def keep_rows(self) -> int: ...

    @property
    def max_performance_drop(self) -> float: ...

    @property
    def method(self) -> str: ...

    @property
    def on_drift(self) -> str: ...

    @property
    def performance_metric(self) -> str | None: ...

    @property
    def predictions(self) -> str | None: ...

    @property
    def reference(self) -> str: ...

    @property
    def reference_conn_id(self) -> str | None: ...

    @property
    def retrain_asset(self) -> str | None: ...

    @property
    def rollback_on_performance_loss(self) -> bool: ...

    @property
    def score_model(self) -> bool: ...

    @property
    def target(self) -> str | None: ...

    @property
    def thresholds(self) -> Mapping[str, float] | None: ...


PROFILE_ARTIFACT = "reference_profile.json"


@dataclass
class Reference:
    profile: ReferenceProfile
    model: ModelRef | None
    label: str


def monitor_drift(op: MonitorRequest, run: StageRun, tracking: Tracking) -> Verdict:
    """Compare the current data (and the model's view of it) with the reference profile; the monitor gate's
    verdict, with a retraining event on drift when ``on_drift="trigger"`` and a rollback on performance loss."""

    from airflow_robust.data.access import stream
    from airflow_robust.drift.detect import monitored_columns
    from airflow_robust.drift.monitor import MonitorSpec, monitor
    from airflow_robust.trust.gate import judge

    owner = type(op).__name__
    client = tracking.get_client()
    config = tracking.get_config()
    reference = _reference(op, client, owner)
    profile = reference.profile
    target = op.target or profile.target
    features = profile.meta.get("features")
    try:
        columns = monitored_columns(profile, op.columns or features, exclude=[target] if target else [])
    except ConfigurationError as err:
        raise InvalidParameterError("columns", owner, "columns of the reference profile", op.columns, str(err)) from err
    model = None
    if reference.model is not None and op.score_model and not op.predictions and profile.model:
        from airflow_robust.registry.models import load_uri

        model, _ = load_uri(reference.model.uri)
    spec = MonitorSpec(
        columns=columns,
        target=target,
        method=op.method,
        column_methods=dict(op.column_methods or {}),
        thresholds=dict(op.thresholds or {}),
        drift_share=float(op.drift_share),
        performance_metric=op.performance_metric,
        max_performance_drop=float(op.max_performance_drop),
        signals=list(op.drift_signals),
        keep_rows=int(op.keep_rows),
    )
    started = time.perf_counter()
    pushed = _pushdown(op, owner, profile, spec, scoring=model is not None)
    chunks = stream(
        op.storage,
        owner,
        op.current,
        conn_id=op.conn_id,
        data_format=op.data_format,
        chunk_rows=int(op.chunk_rows),
        parameter="current",
    )
    if model is not None:  # text where the model takes numbers: one clear error, not a crash in predict
        from airflow_robust.registry.flavors import numeric_inputs

        chunks = _numbers_checked(chunks, owner, [c for c in numeric_inputs(model) if c in (features or [])])
    predictions = (
        stream(op.storage, owner, op.predictions, chunk_rows=int(op.chunk_rows), parameter="predictions")
        if op.predictions
        else None
    )
    result = monitor(
        chunks,
        profile,
        spec,
        model=model,
        features=features if model is not None else None,
        prediction_chunks=predictions,
        current=pushed,
    )
    if spec.columns and result.current is not None and set(spec.columns) <= set(result.current.missing):
        raise InvalidParameterError(
            "current",
            owner,
            "data with the reference's columns",
            op.current,
            detail=f"None of the {len(spec.columns)} monitored columns is in it (first: {spec.columns[:5]}).",
        )
    seconds = time.perf_counter() - started
    run_url = config.run_url(run.experiment_id, run.run_id)
    summary = _summary(op, reference, result, run, seconds)
    summary["engine"] = "streamed" if pushed is None else ("spark" if op.current.startswith("spark:") else "database")
    summary["report_uri"] = _log(result, summary)
    op.log.info("%s (%.1f s)", summary["reason"], seconds)
    if reference.model is not None:
        _tag_version(client, reference.model, result, run_url)
    if result.drift and op.rollback_on_performance_loss and result.signals.get("performance"):
        summary["rollback"] = _rollback(op, client, reference, run, config.artifact_root, summary["reason"])
    if result.drift and op.on_drift == "trigger":
        summary["retrain_asset"] = op.retrain_asset
    verdict = judge(
        gate="monitor",
        passed=not result.drift,
        summary=summary,
        reason=summary["reason"],
        on_failure="warn" if op.on_drift in ("warn", "trigger") else op.on_drift,
        error=DriftDetected,
        log=op.log,
        signer=op.signer(run, tracking),
    )
    if result.drift and op.on_drift == "trigger" and op.retrain_asset:
        verdict.events["retrain"] = _retrain_event(op, summary)
    return verdict


def _pushdown(op: MonitorRequest, owner: str, profile: Any, spec: Any, *, scoring: bool) -> Any:
    """The current data's accumulators computed where it lives (Spark, PostgreSQL), or ``None`` to stream it.

    Spark data (``spark:...``) is always counted on the cluster; SQL data with ``conn_id`` inside
    PostgreSQL when no model has to score its rows. The verdicts are the streamed ones (the counts
    are equal, tested); only counts leave the engine.
    """
    from airflow_robust.data.sources import describe_source
    from airflow_robust.drift.sql import accumulate_sql, columns_of, pushdown_supported

    try:
        source = describe_source(op.current, conn_id=op.conn_id, data_format=op.data_format)
    except ValueError:
        return None  # the streamed path names the problem
    target = [spec.target] if spec.target and spec.target in profile.columns else []
    if source.kind == "spark":
        return _on_spark(op, owner, source, profile, [*spec.columns, *target], spec.keep_rows, scoring)
    if scoring or source.kind != "sql" or not op.conn_id:
        return None
    engine = op.storage.sql_engine(op.conn_id)
    if not pushdown_supported(engine):
        op.log.info("%s has no pushdown support here (PostgreSQL only): streaming the rows", engine.dialect.name)
        return None
    import sqlalchemy as sa

    from airflow_robust.data.errors import database_error

    try:
        if profile.model and "prediction" in columns_of(engine, source.location, is_table=source.is_table):
            return None  # predictions in the table: the model view needs its rows
        current = accumulate_sql(
            engine,
            source.location,
            profile,
            [*spec.columns, *target],
            is_table=source.is_table,
            keep_rows=spec.keep_rows,
        )
    except sa.exc.SQLAlchemyError as err:
        raise (
            database_error(
                err,
                where="The database for 'current'",
                failed=f"The 'current' parameter of {owner} cannot be used: the query failed",
                source=source.display,
            )
            or err
        ) from err
    if current.rows == 0:
        from airflow_robust.exceptions import EmptyDataError

        raise EmptyDataError(f"The 'current' parameter of {owner} cannot be used: {source.display} has no rows.")
    op.log.info(
        "Drift counts computed inside the database over %s rows (raw values fetched only for columns with at "
        "most keep_rows=%s values, to keep the Wasserstein distance exact)",
        current.rows,
        spec.keep_rows,
    )
    return current


def _on_spark(
    op: MonitorRequest, owner: str, source: Any, profile: Any, columns: list[str], keep_rows: int, scoring: bool
) -> Any:
    from airflow_robust.data.access import spark_frame
    from airflow_robust.exceptions import EmptyDataError
    from airflow_robust.spark.drift import accumulate_spark

    if scoring:
        op.log.warning(
            "Spark data is not scored by the model here (score_model applies to data this worker reads): "
            "write predictions with BatchPredictOperator and monitor them with predictions=..."
        )
    current = accumulate_spark(spark_frame(owner, source, "current"), profile, columns, keep_rows=keep_rows)
    if current.rows == 0:
        raise EmptyDataError(f"The 'current' parameter of {owner} cannot be used: {source.display} has no rows.")
    op.log.info("Drift counts computed by Spark over %s rows", current.rows)
    return current


def _numbers_checked(chunks: Iterator[Any], owner: str, numeric: list[str]) -> Iterator[Any]:
    from airflow_robust.data.columns import require_numbers

    for chunk in chunks:
        require_numbers(owner, chunk, numeric, parameter="current")
        yield chunk


def _reference(op: MonitorRequest, client: ModelStore, owner: str) -> Reference:
    from airflow_robust.drift.profile import ReferenceProfile, build_profile

    value = op.reference.strip()
    if value.startswith("models:/"):
        from airflow_robust.registry.models import resolve_model

        try:
            ref = resolve_model(client, value)
        except ConfigurationError as err:
            raise InvalidParameterError(
                "reference", owner, "an existing registered model version or alias", value, detail=str(err)
            ) from err
        record = client.get_model_version(ref.name, ref.version)
        profile_run = record.tags.get(PROFILE_RUN_ID_TAG) or record.run_id  # RegisterModelOperator's, else training's
        try:
            import mlflow

            raw = mlflow.artifacts.load_dict(f"runs:/{profile_run}/{PROFILE_ARTIFACT}")
        except Exception as err:
            if _is_missing(err):
                raise InvalidParameterError(
                    "reference",
                    owner,
                    f"a model version with a stored {PROFILE_ARTIFACT}",
                    value,
                    detail=(
                        f"version {ref.version} has none (looked in run {profile_run}): it was not trained by "
                        "TrainModelOperator nor registered by RegisterModelOperator(training_data=..., target=...). "
                        "Pass the training data's URI (or a profile JSON) as reference instead."
                    ),
                ) from err
            raise
        return Reference(ReferenceProfile.from_dict(raw), ref, f"{ref.uri} (from {value})")
    if value.split("?", 1)[0].lower().endswith(".json") and not value.lower().endswith(".jsonl"):
        return Reference(_profile_file(op.storage, value, owner), None, value)
    from airflow_robust.data.access import load

    pushed = _reference_in_database(op, value)
    if pushed is not None:
        return Reference(pushed, None, value)
    _, frame = load(op.storage, owner, value, conn_id=op.reference_conn_id, parameter="reference")
    profile = build_profile(frame, target=op.target if op.target in frame.columns else None, sample_limit=len(frame))
    return Reference(profile, None, value)


def _reference_in_database(op: MonitorRequest, value: str) -> Any:
    """A SQL reference profiled by aggregate queries in PostgreSQL, or ``None`` to load it."""
    from airflow_robust.data.sources import describe_source
    from airflow_robust.drift.sql import profile_sql, pushdown_supported

    try:
        source = describe_source(value, conn_id=op.reference_conn_id)
    except ValueError:
        return None
    if source.kind != "sql" or not op.reference_conn_id:
        return None
    engine = op.storage.sql_engine(op.reference_conn_id)
    if not pushdown_supported(engine):
        return None
    profile = profile_sql(engine, source.location, is_table=source.is_table)  # raw values kept up to 5,000 rows
    if op.target and op.target in profile.columns:
        profile.target = op.target
    return profile


def _profile_file(storage: Storage, uri: str, owner: str) -> ReferenceProfile:
    import json

    from airflow_robust.data.loaders import local_path
    from airflow_robust.drift.profile import ReferenceProfile

    try:
        path = local_path(uri)
        if path is not None:
            with open(path, "rb") as handle:
                raw = json.load(handle)
        else:
            with storage.open_for_read(uri) as handle:
                raw = json.load(handle)
        return ReferenceProfile.from_dict(raw)
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise InvalidParameterError(
            "reference", owner, "a readable reference profile JSON", uri, detail=f"{type(err).__name__}: {err}"
        ) from err


def _is_missing(err: BaseException) -> bool:
    text = str(err).lower()
    return (
        isinstance(err, FileNotFoundError)
        or "no such file" in text
        or "not found" in text
        or "does not exist" in text
        or "failed to download artifacts" in text
    )


def _summary(
    op: MonitorRequest, reference: Reference, result: MonitorResult, run: StageRun, seconds: float
) -> dict[str, Any]:
    report = result.report
    summary: dict[str, Any] = jsonable(
        {
            "reference": reference.label,
            "model_uri": reference.model.uri if reference.model else None,
            "current": op.current,
            "dataset_drift": report.dataset_drift,
            "drift_share": report.share,
            "drift_share_threshold": report.drift_share_threshold,
            "drifted_columns": report.drifted_columns,
            "columns": {name: col.as_dict() for name, col in report.columns.items()},
            "prediction_drift": result.prediction_drift.as_dict() if result.prediction_drift else None,
            "target_drift": result.target_drift.as_dict() if result.target_drift else None,
            "performance": result.performance,
            "estimated_performance": result.estimated_performance,
            "signals": result.signals,
            "drift_signals": list(result.watched),
            "drift": result.drift,
            "reason": result.reason(),
            "reference_rows": report.reference_rows,
            "current_rows": report.current_rows,
            "seconds": round(seconds, 3),
            "run_id": run.run_id,
        }
    )
    return summary


def _key(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\- /]", "_", name)[:200]


def _log(result: MonitorResult, summary: dict[str, Any]) -> str:
    import math

    import mlflow

    from airflow_robust.drift.report import html_report, worst_columns_png

    metrics: dict[str, float] = {
        "drift_share": result.report.share,
        "dataset_drift": float(result.report.dataset_drift),
        "drifted_columns": float(len(result.report.drifted_columns)),
        "current_rows": float(result.report.current_rows),
    }
    for name, col in result.report.columns.items():
        for field, value in (("statistic", col.statistic), ("p_value", col.p_value), ("drifted", float(col.drifted))):
            if value is not None and math.isfinite(value):
                metrics[f"drift.{_key(name)}.{field}"] = float(value)
    for label, signal in (("prediction_drift", result.prediction_drift), ("target_drift", result.target_drift)):
        if signal is not None:
            metrics[f"{label}.drifted"] = float(signal.drifted)
            for field, value in (("statistic", signal.statistic), ("p_value", signal.p_value)):
                if value is not None and math.isfinite(value):
                    metrics[f"{label}.{field}"] = float(value)
    if result.performance:
        metrics["performance.current"] = float(result.performance["current"])
        metrics["performance.reference"] = float(result.performance["reference"])
        metrics["performance.drop"] = float(result.performance["drop"])
    if result.estimated_performance:
        metrics["estimated.accuracy"] = float(result.estimated_performance["accuracy"])
    mlflow.log_metrics(metrics)
    mlflow.log_dict(summary, "drift.json")
    png = worst_columns_png(result, result.current) if result.current is not None else None
    with tempfile.TemporaryDirectory() as tmp:
        if png:
            with open(os.path.join(tmp, "worst_columns.png"), "wb") as handle:
                handle.write(png)
            mlflow.log_artifact(os.path.join(tmp, "worst_columns.png"))
        page = os.path.join(tmp, "drift_report.html")
        with open(page, "w", encoding="utf-8") as handle:
            handle.write(html_report(result, summary, png))
        mlflow.log_artifact(page)
    mlflow.set_tags(
        {
            MONITOR_DRIFT_TAG: str(result.drift).lower(),
            MONITOR_DRIFTED_COLUMNS_TAG: ",".join(result.report.drifted_columns)[:5000],
        }
    )
    return f"{mlflow.get_artifact_uri()}/drift_report.html"


def _tag_version(client: ModelStore, ref: ModelRef, result: MonitorResult, run_url: str) -> None:
    tags = {
        MONITOR_STATUS_TAG: "drift" if result.drift else "ok",
        MONITOR_TIME_TAG: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        MONITOR_RUN_TAG: run_url,
        MONITOR_DRIFT_SHARE_TAG: f"{result.report.share:.4f}",
    }
    for key, value in tags.items():
        client.set_model_version_tag(ref.name, ref.version, key, value)


def _rollback(
    op: MonitorRequest, client: ModelStore, reference: Reference, run: StageRun, artifact_root: str | None, why: str
) -> dict[str, Any]:
    from airflow_robust.deployment.rollback import roll_back
    from airflow_robust.registry.lease import held, holder_for
    from airflow_robust.registry.models import parse_model_uri

    assert reference.model is not None
    name, _, alias = parse_model_uri(op.reference)
    identity = run.identity
    with held(client, name, holder_for(identity.dag_id, identity.run_id), ttl=600, wait=60):
        outcome = roll_back(
            client,
            name=name,
            alias=alias or "champion",
            to_version=None,
            who=identity.task_ref,  # an automatic rollback: the task acted, not whoever triggered the run
            why=f"performance loss measured by monitoring: {why}"[:2000],
            airflow=identity.airflow,
            artifact_root=artifact_root,
        )
    op.log.warning("Performance loss: rollback of %s@%s -> %s", name, alias, outcome)
    return {"action": outcome["action"], "version": outcome["version"], "from": outcome.get("previous_version")}


def _retrain_event(op: MonitorRequest, summary: dict[str, Any]) -> dict[str, Any]:
    """The event on ``op.retrain_asset`` (through its ``AssetAlias``) that triggers retraining."""
    extra = {
        "reason": summary["reason"][:2000],
        "drifted_columns": summary["drifted_columns"],
        "drift_share": summary["drift_share"],
        "model_uri": summary.get("model_uri"),
        "signals": summary["signals"],
        "monitor_run_id": summary["run_id"],
    }
    alias = getattr(op, "retrain_alias", None) or f"airflow-robust-retrain:{op.retrain_asset}"
    return {"asset": op.retrain_asset, "alias": alias, "extra": extra}
