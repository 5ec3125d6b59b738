"""Data that lives in a database: one way to name a table, select from it, and read it.

A ``data`` string with a ``conn_id`` is a table name (possibly schema-qualified) or a query
(``SELECT``/``WITH``): :func:`select_all` makes either a statement, :func:`table_clause` a
table, and :func:`reading` opens the connection with every database failure translated once
(:mod:`airflow_robust.data.errors`). SQLAlchemy is imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from airflow_robust.data.errors import database_error, first_line
from airflow_robust.data.sources import DataSource
from airflow_robust.exceptions import AirflowRobustError, DataSourceError, StorageUnavailable


def table_clause(location: str) -> Any:
    """``schema.table`` or ``table`` as a SQLAlchemy table (names quoted by the dialect, never pasted)."""
    import sqlalchemy as sa

    parts = location.strip().rstrip(";").split(".")
    return sa.table(parts[-1], schema=".".join(parts[:-1]) or None)


def select_all(location: str, *, is_table: bool) -> Any:
    """``SELECT *`` from a table, or the query text as given."""
    import sqlalchemy as sa

    if is_table:
        return sa.select(sa.text("*")).select_from(table_clause(location))
    return sa.text(location)


@contextmanager
def reading(source: DataSource, engine: Any) -> Iterator[tuple[Any, Any]]:
    """A connection and the statement for ``source``; a failed connect or query becomes our error."""
    if engine is None:
        raise DataSourceError(f"No database engine for {source.display}.", source=source.display)
    import sqlalchemy as sa

    try:
        connection = engine.connect()
    except sa.exc.SQLAlchemyError as err:
        raise StorageUnavailable(f"The database for {source.display} is unreachable: {first_line(err)}") from err
    try:
        with connection:
            yield connection, select_all(source.location, is_table=source.is_table)
    except AirflowRobustError:
        raise
    except Exception as err:  # the driver's, SQLAlchemy's or pandas' (DatabaseError) failure of the query
        failed = f"The query for {source.display} failed"
        translated = database_error(err, where=f"The database for {source.display}", failed=failed)
        raise translated or DataSourceError(f"{failed}: {first_line(err)}", source=source.display) from err
