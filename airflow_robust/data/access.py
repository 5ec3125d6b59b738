"""Read and write the data a stage names, through a :class:`Storage` (Airflow's object storage and
connections in a task, :class:`LocalStorage` elsewhere): describe, load or stream, with every
error naming the parameter and the operator it came through. Airflow-free."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import IO, TYPE_CHECKING, Any, Protocol

from airflow_robust.exceptions import DataError, InvalidParameterError

if TYPE_CHECKING:
    import pandas as pd

    from airflow_robust.data.sources import DataSource


class Storage(Protocol):
    """Where data is read and written: objects by URI, databases by connection id."""

    def open_for_read(self, uri: str) -> AbstractContextManager[IO[bytes]]: ...

    def open_for_write(self, uri: str) -> AbstractContextManager[IO[bytes]]: ...

    def sql_engine(self, conn_id: str) -> Any: ...


class LocalStorage:
    """Files on this machine (``file://`` or a path) and databases by SQLAlchemy URL (``conn_id`` is the URL)."""

    def open_for_read(self, uri: str) -> AbstractContextManager[IO[bytes]]:
        return open(uri.removeprefix("file://"), "rb")

    def open_for_write(self, uri: str) -> AbstractContextManager[IO[bytes]]:
        import os

        path = uri.removeprefix("file://")
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        return open(path, "wb")

    def sql_engine(self, conn_id: str) -> Any:
        import sqlalchemy as sa

        return sa.create_engine(conn_id)


def described(
    owner: str, data: str, *, conn_id: str | None = None, data_format: str | None = None, parameter: str = "data"
) -> DataSource:
    """What ``data`` names (see :mod:`airflow_robust.data.sources`); a malformed value names ``parameter``."""
    from airflow_robust.data.sources import describe_source

    try:
        return describe_source(data, conn_id=conn_id, data_format=data_format)
    except ValueError as err:
        raise InvalidParameterError(
            parameter, owner, "a data URI, an import-path callable or SQL", data, detail=str(err)
        ) from err


def load(
    storage: Storage,
    owner: str,
    data: str,
    *,
    conn_id: str | None = None,
    data_format: str | None = None,
    allow_empty: bool = False,
    parameter: str = "data",
) -> tuple[DataSource, pd.DataFrame]:
    """Describe and load ``data``; a malformed value is an ``InvalidParameterError`` naming ``parameter``."""
    from airflow_robust.data.loaders import load_frame

    source = described(owner, data, conn_id=conn_id, data_format=data_format, parameter=parameter)
    engine = storage.sql_engine(conn_id) if source.kind == "sql" and conn_id else None
    try:
        if source.kind == "spark":  # a step that needs the rows in pandas (training, scoring two models)
            return source, _spark_to_pandas(source, allow_empty)
        return source, load_frame(source, opener=storage.open_for_read, engine=engine, allow_empty=allow_empty)
    except DataError as err:
        raise _named(err, owner, parameter) from None


def spark_frame(owner: str, source: DataSource, parameter: str = "data") -> Any:
    """The Spark DataFrame of a ``spark:`` reference; errors name ``parameter``."""
    from airflow_robust.spark.session import read, spark_session

    try:
        return read(spark_session(), source.location, source.format)
    except DataError as err:
        raise _named(err, owner, parameter) from None


def _spark_to_pandas(source: DataSource, allow_empty: bool) -> pd.DataFrame:
    from airflow_robust.data.columns import check_shape
    from airflow_robust.exceptions import EmptyDataError
    from airflow_robust.spark.session import read, spark_session

    frame: pd.DataFrame = read(spark_session(), source.location, source.format).toPandas()
    check_shape(frame, source.display)
    if len(frame) == 0 and not allow_empty:
        raise EmptyDataError(f"The data at {source.display} has no rows.", source=source.display)
    return frame


def stream(
    storage: Storage,
    owner: str,
    data: str,
    *,
    conn_id: str | None = None,
    data_format: str | None = None,
    chunk_rows: int = 250_000,
    columns: Sequence[str] | None = None,
    parameter: str = "data",
) -> Iterator[pd.DataFrame]:
    """``data`` chunk by chunk (see :mod:`airflow_robust.data.chunks`); a malformed value names ``parameter``."""
    from airflow_robust.data.chunks import iter_chunks

    source = described(owner, data, conn_id=conn_id, data_format=data_format, parameter=parameter)
    engine = storage.sql_engine(conn_id) if source.kind == "sql" and conn_id else None
    return _naming_errors(
        iter_chunks(source, opener=storage.open_for_read, engine=engine, chunk_rows=chunk_rows, columns=columns),
        owner,
        parameter,
    )


def _naming_errors(chunks: Iterator[pd.DataFrame], owner: str, parameter: str) -> Iterator[pd.DataFrame]:
    try:
        yield from chunks
    except DataError as err:
        raise _named(err, owner, parameter) from None


def _named(err: DataError, owner: str, parameter: str) -> DataError:
    """The same error, its message prefixed with the parameter and operator it came through."""
    err.args = (f"The {parameter!r} parameter of {owner} cannot be used: {err}", *err.args[1:])
    return err


def model_features(explicit: Any, model: Any, frame: Any, target: str) -> tuple[list[str], list[str]]:
    """(feature columns, those missing from ``frame``): ``explicit``, else the model's own, else all but ``target``."""
    own = getattr(model, "feature_names_in_", None)
    if own is None:
        own = getattr(model, "_airflow_robust_features", [])
    names = [str(c) for c in explicit] if explicit else [str(c) for c in own]
    names = names or [str(c) for c in frame.columns if c != target]
    return names, [c for c in names if c not in frame.columns]


def required_features(explicit: Any, model: Any, frame: Any, target: str, owner: str) -> list[str]:
    """The model's feature columns in ``frame``; missing ones are an ``InvalidParameterError`` naming
    ``features`` when the DAG listed them, else ``data``."""
    names, missing = model_features(explicit, model, frame, target)
    if missing:
        raise InvalidParameterError(
            "features" if explicit else "data",
            owner,
            f"data with the model's feature columns (missing {missing})",
            list(frame.columns),
        )
    return names


def check_output_uri(owner: str, parameter: str, uri: str, inputs: dict[str, Any]) -> None:
    """An output location must be absolute, free of ``..``, and never one of the inputs.

    (Unrendered templates are refused for every parameter by :func:`airflow_robust.params.validate`.)
    """
    import os
    import re

    def local(value: str) -> str:
        return os.path.normpath(value.removeprefix("file://"))

    text = str(uri)
    expected = "an absolute path or a URI (s3://, gs://, file://, ...) that is not one of the inputs"
    if ".." in text.removeprefix("file://").replace("\\", "/").split("/"):
        raise InvalidParameterError(parameter, owner, expected, uri, detail="'..' segments are not allowed.")
    if not re.match(r"^[a-zA-Z][\w+.-]*://", text) and not os.path.isabs(text):
        raise InvalidParameterError(parameter, owner, expected, uri, detail="A relative path depends on the worker.")
    for name, value in inputs.items():
        if isinstance(value, str) and value and local(text) == local(value):
            raise InvalidParameterError(
                parameter, owner, expected, uri, detail=f"It is the {name!r} input: writing there would destroy it."
            )
