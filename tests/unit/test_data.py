"""Loading real data from files, callables and SQL (SQLite here; PostgreSQL in integration tests)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

from airflow_robust.data.loaders import frame_digest, load_frame
from airflow_robust.data.sources import describe_source, infer_format
from airflow_robust.exceptions import DataSourceError, EmptyDataError
from tests.helpers import wine_frame


def wine() -> pd.DataFrame:  # used as an import-path callable below
    return wine_frame()


def not_a_frame() -> list[int]:
    return [1, 2]


def test_classification_of_data_strings() -> None:
    assert describe_source("/data/x.csv").kind == "uri"
    assert describe_source("s3://bucket/x.parquet").format == "parquet"
    assert describe_source("tests.unit.test_data:wine").kind == "callable"
    assert describe_source("SELECT * FROM t", conn_id="pg").kind == "sql"
    assert describe_source("public.events", conn_id="pg").is_table
    with pytest.raises(ValueError, match="query or a table name"):
        describe_source("DROP TABLE x; --", conn_id="pg")
    assert infer_format("a/b.CSV.gz") == "csv" and infer_format("x.jsonl") == "jsonl"
    with pytest.raises(ValueError, match=r"unknown file format '\.xlsx'"):
        describe_source("/data/report.xlsx")
    assert describe_source("/data/report.xlsx", data_format="csv").format == "csv"
    assert describe_source("/data/no_suffix").format == "csv"


@pytest.mark.parametrize("suffix", ["csv", "parquet", "tsv", "jsonl"])
def test_round_trip_formats(tmp_path: Path, suffix: str) -> None:
    frame = wine_frame()
    path = tmp_path / f"wine.{suffix}"
    if suffix == "csv":
        frame.to_csv(path, index=False)
    elif suffix == "parquet":
        frame.to_parquet(path)
    elif suffix == "tsv":
        frame.to_csv(path, sep="\t", index=False)
    else:
        frame.to_json(path, orient="records", lines=True)
    loaded = load_frame(describe_source(str(path)))
    assert loaded.shape == frame.shape
    assert list(loaded.columns) == list(frame.columns)


def test_file_uri_and_callable(tmp_path: Path) -> None:
    path = tmp_path / "wine.csv"
    wine_frame().to_csv(path, index=False)
    assert len(load_frame(describe_source(f"file://{path}"))) == 178
    assert len(load_frame(describe_source("tests.unit.test_data:wine"))) == 178
    with pytest.raises(DataSourceError, match="must return a pandas DataFrame"):
        load_frame(describe_source("tests.unit.test_data:not_a_frame"))
    with pytest.raises(DataSourceError, match="Cannot import"):
        load_frame(describe_source("tests.unit.nope:wine"))


def test_missing_empty_and_corrupt_files(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match="No file at"):
        load_frame(describe_source(str(tmp_path / "absent.csv")))
    empty = tmp_path / "empty.csv"
    empty.write_text("a,b\n")
    with pytest.raises(EmptyDataError, match="has no rows"):
        load_frame(describe_source(str(empty)))
    assert load_frame(describe_source(str(empty)), allow_empty=True).empty
    corrupt = tmp_path / "corrupt.parquet"
    corrupt.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(DataSourceError, match=r"Cannot read .* as parquet"):
        load_frame(describe_source(str(corrupt)))


def test_remote_uris_go_through_the_injected_opener() -> None:
    payload = wine_frame().to_csv(index=False).encode()
    opened: list[str] = []

    @contextmanager
    def opener(uri: str) -> Iterator[io.BytesIO]:
        opened.append(uri)
        yield io.BytesIO(payload)

    frame = load_frame(describe_source("s3://bucket/wine.csv"), opener=opener)
    assert opened == ["s3://bucket/wine.csv"] and len(frame) == 178
    with pytest.raises(DataSourceError, match="no object-storage opener"):
        load_frame(describe_source("s3://bucket/wine.csv"))


def test_sql_query_and_table(tmp_path: Path) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    wine_frame().to_sql("wine", engine, index=False)
    assert len(load_frame(describe_source("wine", conn_id="x"), engine=engine)) == 178
    query = describe_source("SELECT * FROM wine WHERE alcohol > 13", conn_id="x")
    assert 0 < len(load_frame(query, engine=engine)) < 178
    with pytest.raises(DataSourceError, match=r"query .* failed"):
        load_frame(describe_source("SELECT * FROM missing_table", conn_id="x"), engine=engine)


def test_digest_is_content_sensitive_and_stable() -> None:
    a = wine_frame()
    b = wine_frame()
    assert frame_digest(a) == frame_digest(b)
    b.iloc[0, 0] += 0.001
    assert frame_digest(a) != frame_digest(b)
    assert frame_digest(a) != frame_digest(a.rename(columns={"alcohol": "alc"}))


def test_database_errors_are_read_in_one_place_outage_or_failed_query() -> None:
    """Real SQLAlchemy errors: a refused connection is retryable, a bad query is named, anything else is not ours."""
    import sqlalchemy as sa

    from airflow_robust.data.errors import database_error
    from airflow_robust.exceptions import DataSourceError, StorageUnavailable

    with pytest.raises(sa.exc.SQLAlchemyError) as refused:
        sa.create_engine("postgresql+psycopg2://nobody@127.0.0.1:1/none").connect()
    outage = database_error(refused.value, where="The database for t")
    assert isinstance(outage, StorageUnavailable) and str(outage).startswith("The database for t is unreachable: ")

    engine = sa.create_engine("sqlite://")
    with pytest.raises(sa.exc.SQLAlchemyError) as bad, engine.connect() as connection:
        connection.execute(sa.text("SELECT * FROM no_such_table"))
    failed = database_error(bad.value, failed="The query for t failed", source="t")
    assert isinstance(failed, DataSourceError) and "no such table: no_such_table" in str(failed)
    assert str(failed).startswith("The query for t failed: ") and "Background on this error" not in str(failed)

    wrapped = RuntimeError("while scoring")
    wrapped.__cause__ = bad.value
    assert isinstance(database_error(wrapped), DataSourceError)  # found through the cause chain
    assert database_error(ValueError("no database here")) is None
