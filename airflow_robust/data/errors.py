"""The one reader of database errors: a query on the data's database failed, or the database is unreachable.

Where the data lives in a database (SQL through an Airflow connection, drift counted inside the
database), its failures reach this package from SQLAlchemy, the driver or pandas. They become an
``InfrastructureError`` (unreachable: Airflow's retries apply) or a ``DataSourceError`` (the query
itself failed: retrying cannot help), with the driver's first line and without SQLAlchemy's
"Background on this error" link.
"""

from __future__ import annotations

from airflow_robust.exceptions import AirflowRobustError, DataSourceError, StorageUnavailable
from airflow_robust.tracking.connectivity import causes, is_unreachable_text

#: the top-level modules whose exceptions are a database's (pandas' ``DatabaseError`` has one as its cause)
DATABASE_MODULES = frozenset({"sqlalchemy", "psycopg2", "psycopg", "pymysql"})


def first_line(err: BaseException) -> str:
    """The driver's message in one line (SQLAlchemy's background link cut), or the type's name."""
    text = " ".join(str(err).split("(Background on this error")[0].split())[:500]
    return text or type(err).__name__


def is_database_outage(err: BaseException) -> bool:
    text = str(err)
    return is_unreachable_text(text) or "could not connect" in text


def database_error(
    err: BaseException,
    *,
    where: str = "A database this task reads data from",
    failed: str = "A query on the data's database failed",
    source: str | None = None,
) -> AirflowRobustError | None:
    """``err`` as ``StorageUnavailable`` or ``DataSourceError``; ``None`` when no database error caused it."""
    database = [e for e in causes(err) if type(e).__module__.split(".")[0] in DATABASE_MODULES]
    if not database:
        return None
    if any(is_database_outage(e) for e in database):
        return StorageUnavailable(f"{where} is unreachable: {first_line(database[0])}")
    return DataSourceError(f"{failed}: {first_line(database[0])}", source=source)
