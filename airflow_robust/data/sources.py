"""Describe where data comes from: a file/object URI, SQL through a connection, or a callable.

``data`` strings are interpreted in one documented order:

1. ``spark:...``               -> Spark reads it (``spark:table:db.name``, ``spark:/data/x.parquet``,
                                  ``spark:s3a://bucket/path/``, ``spark:sql:SELECT ...``): see
                                  :mod:`airflow_robust.spark`.
2. ``conn_id`` given           -> SQL: ``data`` is a query (``SELECT``/``WITH``) or a table name.
3. ``package.module:function`` -> an import-path callable returning a DataFrame.
4. anything else               -> a file or object URI (``/path/x.csv``, ``file://``, ``s3://``, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from airflow_robust.params import looks_like_callable_path

SourceKind = Literal["uri", "sql", "callable", "spark"]
SPARK_PREFIX = "spark:"

_TABLE = re.compile(r"^[A-Za-z_][\w$]*(\.[A-Za-z_][\w$]*){0,2}$")
_QUERY = re.compile(r"^\s*(select|with)\b", re.IGNORECASE)
FORMATS = ("csv", "tsv", "parquet", "json", "jsonl")


@dataclass(frozen=True)
class DataSource:
    """A resolved description of one dataset; cheap to build, loaded by :mod:`.loaders`."""

    kind: SourceKind
    location: str
    conn_id: str | None = None
    format: str | None = None

    @property
    def display(self) -> str:
        if self.kind == "sql":
            return f"sql({self.conn_id}): {self.location}"
        return self.location

    @property
    def is_table(self) -> bool:
        return self.kind == "sql" and bool(_TABLE.match(self.location.strip()))


def describe_source(data: str, *, conn_id: str | None = None, data_format: str | None = None) -> DataSource:
    """Classify ``data`` (see module docstring). Raises ``ValueError`` with the reason."""
    text = data.strip()
    if text.startswith(SPARK_PREFIX):
        rest = text[len(SPARK_PREFIX) :]
        if not rest:
            raise ValueError("spark: needs a table (spark:table:db.name), a path or a query (spark:sql:SELECT ...)")
        return DataSource(
            "spark", rest, format=data_format or (None if rest.startswith(("table:", "sql:")) else infer_format(rest))
        )
    if conn_id:
        if not (_QUERY.match(text) or _TABLE.match(text)):
            raise ValueError("with a conn_id, data must be a SELECT/WITH query or a table name such as 'schema.table'")
        return DataSource("sql", text, conn_id=conn_id)
    if looks_like_callable_path(text):
        return DataSource("callable", text)
    if data_format is None and unknown_suffix(text):
        raise ValueError(
            f"unknown file format {unknown_suffix(text)!r}; use one of {', '.join(FORMATS)} or set data_format"
        )
    return DataSource("uri", text, format=data_format or infer_format(text))


def unknown_suffix(uri: str) -> str | None:
    """The file extension of ``uri`` when it is one this package cannot read."""
    name = uri.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1].lower()
    name = name.removesuffix(".gz")
    if "." not in name:
        return None
    suffix = name.rsplit(".", 1)[-1]
    return None if suffix in {*FORMATS, "pq", "ndjson"} else f".{suffix}"


def infer_format(uri: str) -> str:
    """File format from the URI's suffix (``.gz`` ignored); csv when there is none."""
    path = uri.split("?", 1)[0].lower()
    if path.endswith(".gz"):
        path = path[:-3]
    for suffix, fmt in (
        (".parquet", "parquet"),
        (".pq", "parquet"),
        (".tsv", "tsv"),
        (".jsonl", "jsonl"),
        (".ndjson", "jsonl"),
        (".json", "json"),
        (".csv", "csv"),
    ):
        if path.endswith(suffix):
            return fmt
    return "csv"
