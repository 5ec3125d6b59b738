"""Glue between Airflow (ObjectStoragePath, connections) and the Airflow-free loaders."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import IO, TYPE_CHECKING, Any, cast

from airflow_robust.exceptions import DataError, InvalidParameterError, StorageUnavailable

if TYPE_CHECKING:
    import pandas as pd

    from airflow_robust.data.sources import DataSource


def load(
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
    from airflow_robust.data.sources import describe_source

    try:
        source = describe_source(data, conn_id=conn_id, data_format=data_format)
    except ValueError as err:
        raise InvalidParameterError(
            parameter, owner, "a data URI, an import-path callable or SQL", data, detail=str(err)
        ) from err
    engine = sql_engine(conn_id) if source.kind == "sql" and conn_id else None
    try:
        if source.kind == "spark":  # a step that needs the rows in pandas (training, scoring two models)
            return source, _spark_to_pandas(source, allow_empty)
        return source, load_frame(source, opener=_open, engine=engine, allow_empty=allow_empty)
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
    from airflow_robust.data.sources import describe_source

    try:
        source = describe_source(data, conn_id=conn_id, data_format=data_format)
    except ValueError as err:
        raise InvalidParameterError(
            parameter, owner, "a data URI, an import-path callable or SQL", data, detail=str(err)
        ) from err
    engine = sql_engine(conn_id) if source.kind == "sql" and conn_id else None
    return _naming_errors(
        iter_chunks(source, opener=_open, engine=engine, chunk_rows=chunk_rows, columns=columns), owner, parameter
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


def _open(uri: str) -> AbstractContextManager[IO[bytes]]:
    from airflow.sdk import ObjectStoragePath

    return cast("AbstractContextManager[IO[bytes]]", ObjectStoragePath(uri).open("rb"))  # type: ignore[no-untyped-call]


def open_for_read(uri: str) -> AbstractContextManager[IO[bytes]]:
    """Open an object-storage URI for reading."""
    return _open(uri)


_SCHEMES = {
    "postgres": "postgresql+psycopg2",
    "postgresql": "postgresql+psycopg2",
    "mysql": "mysql",
    "sqlite": "sqlite",
    "mssql": "mssql+pymssql",
}


def sql_engine(conn_id: str) -> Any:
    """A SQLAlchemy engine for an Airflow connection: the provider hook's when installed, else built here."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException as err:
        raise InvalidParameterError("conn_id", "the data source", "an existing Airflow connection", conn_id) from err
    try:
        hook = conn.get_hook()  # type: ignore[no-untyped-call]
        if hasattr(hook, "get_sqlalchemy_engine"):
            return hook.get_sqlalchemy_engine()
    except Exception:  # noqa: BLE001, S110 - provider not installed: fall back to a plain engine below
        pass
    import sqlalchemy as sa

    scheme = _SCHEMES.get(conn.conn_type or "")
    if scheme is None:
        raise InvalidParameterError(
            "conn_id",
            "the data source",
            f"a connection of type {sorted(_SCHEMES)}",
            f"{conn_id} (type {conn.conn_type})",
        )
    if scheme == "sqlite":
        return sa.create_engine(f"sqlite:///{conn.host}")
    try:
        url = sa.engine.URL.create(
            scheme,
            username=conn.login or None,
            password=conn.password or None,
            host=conn.host or None,
            port=conn.port or None,
            database=conn.schema or None,
        )
        return sa.create_engine(url, pool_pre_ping=True)
    except Exception as err:
        raise StorageUnavailable(f"Cannot create a database engine for connection {conn_id!r}: {err}") from err


def open_for_write(uri: str) -> AbstractContextManager[IO[bytes]]:
    """Open an object-storage URI for writing, creating parent "directories" where the store has them."""
    from airflow.sdk import ObjectStoragePath

    path = ObjectStoragePath(uri)
    path.parent.mkdir(parents=True, exist_ok=True)
    return cast("AbstractContextManager[IO[bytes]]", path.open("wb"))  # type: ignore[no-untyped-call]


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
