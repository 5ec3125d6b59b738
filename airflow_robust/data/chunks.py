"""Read a :class:`~airflow_robust.data.sources.DataSource` chunk by chunk, so data larger than memory streams.

Parquet is read a batch of row groups at a time (``pyarrow.parquet.ParquetFile.iter_batches``),
CSV/TSV/JSON-lines with pandas' ``chunksize``, SQL with ``pandas.read_sql(chunksize=...)``.
Only ``columns`` are read when given (Parquet reads no other column at all). A callable's
DataFrame and a whole-document JSON file are in memory already and are cut into slices.
Remote URIs are opened through the injected ``opener`` and read as a stream, not into one buffer.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from typing import IO, Any

import pandas as pd

from airflow_robust.data.columns import check_shape
from airflow_robust.data.loaders import Opener, load_frame, open_target, raw_header, reading_errors
from airflow_robust.data.sources import DataSource
from airflow_robust.exceptions import DataSourceError, EmptyDataError

DEFAULT_CHUNK_ROWS = 250_000


def iter_chunks(
    source: DataSource,
    *,
    opener: Opener | None = None,
    engine: Any = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    columns: Sequence[str] | None = None,
    allow_empty: bool = False,
) -> Iterator[pd.DataFrame]:
    """Yield DataFrames of at most ``chunk_rows`` rows. No rows at all raises ``EmptyDataError``."""
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows}")
    rows = 0
    checked = False
    for chunk in _chunks(source, opener, engine, chunk_rows, columns):
        if not checked:
            check_shape(chunk, source.display, raw_header(source) if columns is None else None)
            checked = True
        if columns is not None:
            missing = [c for c in columns if c not in chunk.columns]
            if missing:
                raise DataSourceError(f"{source.display} has no column(s) {missing}.", source=source.display)
            yield_frame = chunk[list(columns)]
        else:
            yield_frame = chunk
        rows += len(yield_frame)
        if len(yield_frame):
            yield yield_frame
    if rows == 0 and not allow_empty:
        raise EmptyDataError(f"The data at {source.display} has no rows.", source=source.display)


def _chunks(
    source: DataSource, opener: Opener | None, engine: Any, chunk_rows: int, columns: Sequence[str] | None
) -> Iterator[pd.DataFrame]:
    if source.kind == "sql":
        yield from _sql_chunks(source, engine, chunk_rows)
        return
    if source.kind == "callable" or source.format == "json":
        frame = load_frame(source, opener=opener, engine=engine, allow_empty=True)
        for start in range(0, len(frame), chunk_rows):
            yield frame.iloc[start : start + chunk_rows]
        return
    with reading_errors(source), ExitStack() as stack:
        yield from _file_chunks(open_target(source, opener, stack), source, chunk_rows, columns)


def _file_chunks(
    target: str | IO[bytes], source: DataSource, chunk_rows: int, columns: Sequence[str] | None
) -> Iterator[pd.DataFrame]:
    fmt = source.format or "csv"
    compression = "gzip" if source.location.lower().split("?", 1)[0].endswith(".gz") else "infer"
    if fmt == "parquet":
        yield from _parquet_chunks(target, chunk_rows, columns)
        return
    reader: Any = pd
    if fmt in ("csv", "tsv"):
        sep = "\t" if fmt == "tsv" else ","
        usecols = list(columns) if columns is not None else None
        with reader.read_csv(target, sep=sep, chunksize=chunk_rows, compression=compression, usecols=usecols) as pieces:
            yield from pieces
        return
    if fmt == "jsonl":
        with reader.read_json(target, lines=True, chunksize=chunk_rows, compression=compression) as pieces:
            yield from pieces
        return
    raise DataSourceError(f"Unsupported data format {fmt!r} for {source.location}.", source=source.location)


def _parquet_chunks(target: str | IO[bytes], chunk_rows: int, columns: Sequence[str] | None) -> Iterator[pd.DataFrame]:
    import pyarrow.parquet as pq

    if isinstance(target, str) and os.path.isdir(target):
        import pyarrow.dataset as ds

        dataset = ds.dataset(target, format="parquet")
        for batch in dataset.to_batches(columns=list(columns) if columns else None, batch_size=chunk_rows):
            yield batch.to_pandas()
        return
    # pre_buffer would cache the column chunks of every row group read so far (the whole file by the
    # end: peak memory ~ file size); buffered reads keep memory at about one batch
    parquet = pq.ParquetFile(target, pre_buffer=False, buffer_size=1 << 20)
    if columns is not None:
        missing = [c for c in columns if c not in parquet.schema_arrow.names]
        if missing:
            raise DataSourceError(f"the Parquet file has no column(s) {missing}")
    for batch in parquet.iter_batches(batch_size=chunk_rows, columns=list(columns) if columns else None):
        yield batch.to_pandas()


def _sql_chunks(source: DataSource, engine: Any, chunk_rows: int) -> Iterator[pd.DataFrame]:
    from airflow_robust.data.sql import reading

    with reading(source, engine) as (connection, statement):
        yield from pd.read_sql(statement, connection, chunksize=chunk_rows)
