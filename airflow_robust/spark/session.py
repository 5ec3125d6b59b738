"""The Spark session a task uses, and reading a ``spark:`` data reference into a Spark DataFrame."""

from __future__ import annotations

import os
from typing import Any

from airflow_robust.exceptions import ConfigurationError, DataSourceError

ENV_MASTER = "AIRFLOW_ROBUST_SPARK_MASTER"


def spark_session() -> Any:
    """The active session, else Spark Connect (``SPARK_REMOTE``), else a local/cluster one (``ENV_MASTER``)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as err:
        raise ConfigurationError(
            "Spark data needs pyspark: pip install 'airflow-robust[spark]' (and a Java runtime)"
        ) from err
    import logging

    logging.getLogger("py4j").setLevel(logging.WARNING)  # its INFO lines at exit fill task logs
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = SparkSession.builder.appName("airflow-robust")
    if os.environ.get("SPARK_REMOTE"):
        return builder.remote(os.environ["SPARK_REMOTE"]).getOrCreate()
    import sys

    # Python workers of a local session run this interpreter (with this environment's packages)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    return (
        builder.master(os.environ.get(ENV_MASTER, "local[2]"))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", os.environ.get("AIRFLOW_ROBUST_SPARK_PARTITIONS", "8"))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )


def read(spark: Any, location: str, data_format: str | None = None) -> Any:
    """``table:<name>``, ``sql:<query>`` or a path/URI (format from the suffix or ``data_format``)."""
    try:
        if location.startswith("table:"):
            return spark.table(location[len("table:") :])
        if location.startswith("sql:"):
            return spark.sql(location[len("sql:") :])
        fmt = data_format or "parquet"
        reader = spark.read.format(fmt)
        if fmt in ("csv", "tsv"):
            reader = reader.option("header", "true").option("inferSchema", "true")
            if fmt == "tsv":
                reader = reader.format("csv").option("sep", "\t")
        if fmt == "jsonl":
            reader = spark.read.format("json")
        return reader.load(location.removeprefix("file://"))
    except Exception as err:
        text = str(err).strip().splitlines()[0][:500] if str(err).strip() else type(err).__name__
        raise DataSourceError(f"Spark cannot read {location}: {text}", source=location) from err
