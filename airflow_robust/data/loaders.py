"""Load a :class:`~airflow_robust.data.sources.DataSource` into a pandas DataFrame.

Remote URIs are opened through an injected ``opener`` (the Airflow edge passes one backed by
``ObjectStoragePath``), SQL through an injected SQLAlchemy engine: this module never imports
Airflow and can be tested with plain files and a real database.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import IO, Any, cast
from urllib.parse import urlparse

import pandas as pd

from airflow_robust.data.columns import check_shape
from airflow_robust.data.sources import DataSource
from airflow_robust.exceptions import DataSourceError, EmptyDataError, StorageUnavailable

Opener = Callable[[str], AbstractContextManager[IO[bytes]]]


def load_frame(
    source: DataSource,
    *,
    opener: Opener | None = None,
    engine: Any = None,
    allow_empty: bool = False,
) -> pd.DataFrame:
    """Read the whole dataset. Empty data raises :class:`EmptyDataError` unless ``allow_empty``."""
    if source.kind == "callable":
        frame = _call(source.location)
    elif source.kind == "sql":
        frame = _read_sql(source, engine)
    else:
        frame = _read_uri(source, opener)
    check_shape(frame, source.display, raw_header(source))
    if len(frame) == 0 and not allow_empty:
        raise EmptyDataError(f"The data at {source.display} has no rows.", source=source.display)
    return frame


def raw_header(source: DataSource) -> list[str] | None:
    """A local CSV/TSV file's header row as written (pandas renames duplicates); ``None`` otherwise."""
    path = local_path(source.location) if source.kind == "uri" else None
    if path is None or source.format not in ("csv", "tsv", None) or not os.path.isfile(path):
        return None
    import csv
    import gzip

    opener: Any = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", newline="") as handle:
        return next(csv.reader(handle, delimiter="\t" if source.format == "tsv" else ","), None)


def local_path(uri: str) -> str | None:
    """The filesystem path of a local URI (plain path or ``file://``), else ``None``."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return parsed.path
    if parsed.scheme == "" or (len(parsed.scheme) == 1 and os.name == "nt"):
        return uri
    return None


def _read_uri(source: DataSource, opener: Opener | None) -> pd.DataFrame:
    with reading_errors(source), ExitStack() as stack:
        target = open_target(source, opener, stack)
        return _parse(target if isinstance(target, str) else io.BytesIO(target.read()), source)


@contextmanager
def reading_errors(source: DataSource) -> Iterator[None]:
    """A failure to read ``source``'s file or object as our error: missing or unreadable (``DataSourceError``),
    storage unreachable (``StorageUnavailable``: retried)."""
    try:
        yield
    except (DataSourceError, StorageUnavailable, EmptyDataError):
        raise
    except FileNotFoundError as err:
        raise DataSourceError(f"No file at {source.location}.", source=source.location) from err
    except (ConnectionError, TimeoutError) as err:
        raise StorageUnavailable(f"Storage for {source.location} is unreachable: {err}") from err
    except Exception as err:
        raise DataSourceError(
            f"Cannot read {source.location} as {source.format}: {type(err).__name__}: {err}",
            source=source.location,
        ) from err


def open_target(source: DataSource, opener: Opener | None, stack: ExitStack) -> str | IO[bytes]:
    """A local path (checked), or the object opened through ``opener`` (closed with ``stack``)."""
    path = local_path(source.location)
    if path is not None:
        if not os.path.exists(path):
            raise DataSourceError(f"No file at {source.location}.", source=source.location)
        if os.path.isdir(path) and source.format != "parquet":
            raise DataSourceError(f"{source.location} is a directory, not a file.", source=source.location)
        return path
    if opener is None:
        raise DataSourceError(
            f"Cannot open {source.location}: no object-storage opener for its scheme.", source=source.location
        )
    return stack.enter_context(opener(source.location))


def _parse(target: str | IO[bytes], source: DataSource) -> pd.DataFrame:
    reader: Any = pd  # pandas' overloads do not admit str | IO[bytes] in one call
    fmt = source.format or "csv"
    compression = "gzip" if source.location.lower().split("?", 1)[0].endswith(".gz") else "infer"
    if fmt == "parquet":
        return cast("pd.DataFrame", reader.read_parquet(target))
    if fmt == "csv":
        return cast("pd.DataFrame", reader.read_csv(target, compression=compression))
    if fmt == "tsv":
        return cast("pd.DataFrame", reader.read_csv(target, sep="\t", compression=compression))
    if fmt == "jsonl":
        return cast("pd.DataFrame", reader.read_json(target, lines=True, compression=compression))
    if fmt == "json":
        return cast("pd.DataFrame", reader.read_json(target, compression=compression))
    raise DataSourceError(f"Unsupported data format {fmt!r} for {source.location}.", source=source.location)


def _call(path: str) -> pd.DataFrame:
    module_name, _, attr = path.partition(":")
    try:
        function = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as err:
        raise DataSourceError(f"Cannot import the data callable {path!r}: {err}", source=path) from err
    result = function()
    if not isinstance(result, pd.DataFrame):
        raise DataSourceError(
            f"The data callable {path!r} must return a pandas DataFrame. Got {type(result).__name__} instead.",
            source=path,
        )
    return result


def _read_sql(source: DataSource, engine: Any) -> pd.DataFrame:
    from airflow_robust.data.sql import reading

    with reading(source, engine) as (connection, statement):
        return pd.read_sql(statement, connection)


def frame_digest(frame: pd.DataFrame) -> str:
    """A content digest of the whole frame (values, index, column names and dtypes), 16 hex chars."""
    hasher = hashlib.sha256()
    hasher.update(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode())
    hashed = pd.util.hash_pandas_object(frame, index=True, categorize=True)
    hasher.update(hashed.to_numpy().tobytes())
    return hasher.hexdigest()[:16]
