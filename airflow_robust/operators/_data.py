"""The Airflow side of :class:`airflow_robust.data.access.Storage`: ``ObjectStoragePath`` and connections."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import IO, Any, cast

from airflow_robust.exceptions import InvalidParameterError, StorageUnavailable


class AirflowStorage:
    """Objects through Airflow's ``ObjectStoragePath`` (its connections for s3://, gs://, ...), SQL through
    an Airflow connection's SQLAlchemy engine."""

    def open_for_read(self, uri: str) -> AbstractContextManager[IO[bytes]]:
        from airflow.sdk import ObjectStoragePath

        return cast("AbstractContextManager[IO[bytes]]", ObjectStoragePath(uri).open("rb"))  # type: ignore[no-untyped-call]

    def open_for_write(self, uri: str) -> AbstractContextManager[IO[bytes]]:
        """Open for writing, creating parent "directories" where the store has them."""
        from airflow.sdk import ObjectStoragePath

        path = ObjectStoragePath(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        return cast("AbstractContextManager[IO[bytes]]", path.open("wb"))  # type: ignore[no-untyped-call]

    def sql_engine(self, conn_id: str) -> Any:
        return sql_engine(conn_id)


STORAGE = AirflowStorage()

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
