"""Batch scoring on Spark with ``mlflow.pyfunc.spark_udf``: the cluster scores, the worker writes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_robust.batch.scoring import MODEL_VERSION, PREDICTION


def score_spark(
    frame: Any,
    model_uri: str,
    *,
    features: Sequence[str],
    passthrough: Sequence[str],
    output_uri: str,
    model_name: str,
    version: str,
    output_format: str = "parquet",
    labels: bool = False,
) -> dict[str, Any]:
    """Score ``frame`` with the pinned ``model_uri`` and write ``output_uri`` (a Spark output directory).

    Columns: ``passthrough``, ``prediction``, ``model_name``, ``model_version`` (class probabilities
    need the model in this process: score with files for them). ``labels``: a classifier, whose
    predictions are written as text (Spark's UDF cannot return Python objects). Returns rows and
    prediction counts.
    """
    import mlflow
    from pyspark.sql import functions as F  # noqa: N812 - Spark's own convention

    spark = frame.sparkSession
    predict = mlflow.pyfunc.spark_udf(
        spark, model_uri, env_manager="local", result_type="string" if labels else "double"
    )
    scored = frame.select(
        *[F.col(f"`{c}`") for c in passthrough],
        predict(F.struct(*[F.col(f"`{c}`").alias(c) for c in features])).alias(PREDICTION),
        F.lit(model_name).alias("model_name"),
        F.lit(version).alias(MODEL_VERSION),
    )
    writer = scored.write.mode("overwrite").format("csv" if output_format in ("csv", "tsv") else output_format)
    if output_format in ("csv", "tsv"):
        writer = writer.option("header", "true")
    path = output_uri.removeprefix("file://")
    writer.save(path)
    written = spark.read.format("csv" if output_format in ("csv", "tsv") else output_format)
    if output_format in ("csv", "tsv"):
        written = written.option("header", "true")
    result = written.load(path)
    counts = {str(r[PREDICTION]): int(r["count"]) for r in result.groupBy(PREDICTION).count().limit(50).collect()}
    return {"rows": int(result.count()), "prediction_counts": counts, "columns": result.columns}
