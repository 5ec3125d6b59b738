"""Batch scoring, Airflow-free: :func:`batch_predict` pins the model version, streams the data (or scores on
Spark) and writes predictions (BatchPredictOperator)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Protocol

from airflow_robust.exceptions import ConfigurationError, InvalidParameterError
from airflow_robust.registry.tags import BATCH_PREDICT_MODEL_URI_TAG, MODEL_NAME_TAG, MODEL_VERSION_TAG
from airflow_robust.requests import DataRequest, StageRequest
from airflow_robust.trust.gate import Verdict

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_robust.requests import Tracking
    from airflow_robust.tracking.runs import StageRun


class BatchPredictRequest(StageRequest, DataRequest, Protocol):
    """What batch scoring reads of its operator; an operator (or any object) satisfies it."""

    @property
    def chunk_rows(self) -> int: ...

    @property
    def data(self) -> str: ...

    @property
    def features(self) -> Sequence[str] | None: ...

    @property
    def model_uri(self) -> str: ...

    @property
    def output_uri(self) -> str: ...

    @property
    def passthrough_columns(self) -> Sequence[str] | None: ...

    @property
    def probabilities(self) -> bool: ...


def batch_predict(op: BatchPredictRequest, run: StageRun, tracking: Tracking) -> Verdict:
    """Score ``op.data`` with one pinned version of the model, chunk by chunk (or on Spark), to ``op.output_uri``."""
    import mlflow

    from airflow_robust.batch.scoring import BatchTally, score_chunk
    from airflow_robust.data.access import check_output_uri, required_features, stream
    from airflow_robust.data.columns import require_finite, require_numbers
    from airflow_robust.data.writers import ChunkWriter
    from airflow_robust.registry.flavors import numeric_inputs
    from airflow_robust.registry.models import load_uri, resolve_model

    owner = type(op).__name__
    check_output_uri(owner, "output_uri", op.output_uri, {"data": op.data})
    client = tracking.get_client()
    try:
        ref = resolve_model(client, op.model_uri)
    except ConfigurationError as err:
        raise InvalidParameterError(
            "model_uri", owner, "an existing registered model version or alias", op.model_uri, detail=str(err)
        ) from err
    mlflow.set_tags({MODEL_NAME_TAG: ref.name, MODEL_VERSION_TAG: ref.version, BATCH_PREDICT_MODEL_URI_TAG: ref.uri})
    op.log.info("Scoring with %s (resolved from %s)", ref.uri, op.model_uri)
    if str(op.data).startswith("spark:"):
        return Verdict(_on_spark(op, owner, ref, run))
    model, flavor = load_uri(ref.uri)
    tally = BatchTally()
    started = time.perf_counter()
    writer: ChunkWriter | None = None
    features: list[str] | None = None
    try:
        for chunk in stream(
            op.storage, owner, op.data, conn_id=op.conn_id, data_format=op.data_format, chunk_rows=int(op.chunk_rows)
        ):
            if features is None:
                features = required_features(op.features, model, chunk, "", owner)
                passthrough = list(chunk.columns) if op.passthrough_columns is None else list(op.passthrough_columns)
                missing = [c for c in passthrough if c not in chunk.columns]
                if missing:
                    raise InvalidParameterError(
                        "passthrough_columns",
                        owner,
                        f"columns of data (missing {missing})",
                        list(op.passthrough_columns or []),
                    )
                writer = ChunkWriter(op.output_uri, opener=op.storage.open_for_write)
            require_numbers(owner, chunk, [c for c in numeric_inputs(model) if c in features])
            require_finite(owner, chunk, features)
            out = score_chunk(
                model,
                chunk,
                features=features,
                ref=ref,
                passthrough=passthrough,
                probabilities=bool(op.probabilities),  # when the model gives them (any flavor)
                tally=tally,
            )
            assert writer is not None
            writer.write(out)
        assert writer is not None
        writer.close()
        columns = list(out.columns)
    except BaseException as err:
        if writer is not None:
            writer.abort(err)
        raise
    seconds = time.perf_counter() - started
    summary: dict[str, Any] = {
        "model_uri": ref.uri,
        "requested_model_uri": op.model_uri,
        "model_name": ref.name,
        "version": ref.version,
        "alias": ref.alias,
        "output_uri": op.output_uri,
        "columns": columns,
        **tally.summary(),
        "seconds": round(seconds, 3),
        "run_id": run.run_id,
    }
    mlflow.log_params(
        {
            "model_uri": ref.uri,
            "requested_model_uri": op.model_uri,
            "data": str(op.data)[:500],
            "output_uri": op.output_uri[:500],
            "flavor": flavor,
        }
    )
    mlflow.log_metrics(
        {
            "rows": tally.rows,
            "chunks": tally.chunks,
            "seconds": seconds,
            "rows_per_second": tally.rows / seconds if seconds > 0 else 0.0,
        }
    )
    mlflow.log_dict(summary, "batch_predict.json")
    op.log.info("Wrote %d predictions of %s to %s in %.1f s", tally.rows, ref.uri, op.output_uri, seconds)
    return Verdict(summary)


def _on_spark(op: BatchPredictRequest, owner: str, ref: Any, run: StageRun) -> dict[str, Any]:
    """Spark data: ``mlflow.pyfunc.spark_udf`` scores on the cluster and Spark writes ``output_uri``."""
    import mlflow

    from airflow_robust.data.access import spark_frame
    from airflow_robust.data.sources import describe_source, infer_format
    from airflow_robust.registry.flavors import flavor_of
    from airflow_robust.registry.models import load_uri
    from airflow_robust.spark.batch import score_spark

    source = describe_source(op.data, data_format=op.data_format)
    frame = spark_frame(owner, source)
    model, _ = load_uri(ref.uri)  # its feature names only; the cluster loads its own copy
    features, missing = _model_features(op, model, frame.columns)
    if missing:
        raise InvalidParameterError(
            "data", owner, f"data with the model's feature columns (missing {missing})", op.data
        )
    passthrough = list(frame.columns) if op.passthrough_columns is None else list(op.passthrough_columns)
    started = time.perf_counter()
    written = score_spark(
        frame,
        ref.uri,
        features=features,
        passthrough=passthrough,
        output_uri=op.output_uri,
        model_name=ref.name,
        version=ref.version,
        output_format=infer_format(op.output_uri),
        labels=hasattr(model, "classes_") or getattr(model, "_estimator_type", None) == "classifier",
    )
    seconds = time.perf_counter() - started
    summary: dict[str, Any] = {
        "model_uri": ref.uri,
        "requested_model_uri": op.model_uri,
        "model_name": ref.name,
        "version": ref.version,
        "alias": ref.alias,
        "output_uri": op.output_uri,
        "columns": written["columns"],
        "rows": written["rows"],
        "prediction_counts": written["prediction_counts"],
        "engine": "spark",
        "seconds": round(seconds, 3),
        "run_id": run.run_id,
    }
    mlflow.log_params({"model_uri": ref.uri, "data": str(op.data)[:500], "engine": "spark", "flavor": flavor_of(model)})
    mlflow.log_metrics({"rows": written["rows"], "seconds": seconds})
    mlflow.log_dict(summary, "batch_predict.json")
    op.log.info("Spark wrote %d predictions of %s to %s in %.1f s", written["rows"], ref.uri, op.output_uri, seconds)
    return summary


def _model_features(op: BatchPredictRequest, model: Any, columns: list[str]) -> tuple[list[str], list[str]]:
    from airflow_robust.data.access import model_features

    class _Columns:  # model_features reads only .columns
        def __init__(self, names: list[str]) -> None:
            self.columns = names

    return model_features(op.features, model, _Columns(columns), target="")
