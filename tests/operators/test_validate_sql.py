"""Validation inside PostgreSQL (127.0.0.1:5432) through GX's SQL data source."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from airflow.sdk.exceptions import AirflowFailException

from airflow_robust.exceptions import DataValidationFailed, InvalidParameterError
from airflow_robust.operators.validate import ValidateDataOperator
from tests.helpers import TaskInstanceStandIn, context_for, seattle_weather

pytestmark = pytest.mark.integration

EXPECTATIONS = [
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "temp_max"}},
    {
        "type": "expect_column_values_to_be_between",
        "kwargs": {"column": "precipitation", "min_value": 0, "max_value": 300},
    },
    {
        "type": "expect_column_values_to_be_in_set",
        "kwargs": {"column": "weather", "value_set": ["drizzle", "rain", "sun", "snow", "fog"]},
    },
    {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1000}},
]


@pytest.fixture
def weather_tables(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    engine = sa.create_engine(postgres_url)
    frame = seattle_weather()
    frame.to_sql("weather_clean", engine, index=False, if_exists="replace")
    bad = frame.copy()
    bad.loc[[1, 2], "temp_max"] = None
    bad.loc[7, "precipitation"] = -4.0
    bad.to_sql("weather_bad", engine, index=False, if_exists="replace")
    engine.dispose()
    url = sa.engine.make_url(postgres_url)
    monkeypatch.setenv(
        "AIRFLOW_CONN_WAREHOUSE_PG",
        json.dumps(
            {"conn_type": "postgres", "host": url.host, "port": url.port, "login": url.username, "schema": url.database}
        ),
    )
    return postgres_url


@pytest.fixture
def no_pandas_sql(monkeypatch: pytest.MonkeyPatch) -> None:
    """Prove rows are not pulled into pandas: pandas' SQL readers raise during the test."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("validation loaded SQL data into pandas")

    for name in ("read_sql", "read_sql_query", "read_sql_table"):
        monkeypatch.setattr(pd, name, refuse)


def execute(**kwargs: Any) -> tuple[dict[str, Any] | None, Exception | None]:
    ti = TaskInstanceStandIn(task_id=kwargs.get("task_id", "validate_sql"))
    op = ValidateDataOperator(**{"task_id": "validate_sql", "conn_id": "warehouse_pg", **kwargs})
    try:
        return op.execute(context_for(ti)), None
    except Exception as err:
        return ti.xcom.get("return_value"), err


def test_table_and_query_validate_inside_postgres(
    mlflow_store: dict[str, str], weather_tables: str, no_pandas_sql: None
) -> None:
    result, err = execute(data="weather_clean", expectations=EXPECTATIONS)
    assert err is None and result is not None
    assert result["success"] is True and result["rows"] == 1461
    result, err = execute(
        task_id="q", data="SELECT * FROM weather_clean WHERE weather <> 'snow'", expectations=EXPECTATIONS
    )
    frame = seattle_weather()
    assert err is None and result is not None and result["rows"] == int((frame["weather"] != "snow").sum())


def test_bad_rows_in_postgres_close_the_gate(
    mlflow_store: dict[str, str], weather_tables: str, no_pandas_sql: None
) -> None:
    summary, err = execute(data="public.weather_bad", expectations=EXPECTATIONS)
    assert isinstance(err, DataValidationFailed) and isinstance(err, AirflowFailException)
    assert summary is not None and summary["statistics"]["critical_failures"] == 2
    counts = {f["expectation"]: f["unexpected_count"] for f in summary["failed_expectations"]}
    assert counts == {
        "expect_column_values_to_not_be_null(temp_max)": 2,
        "expect_column_values_to_be_between(precipitation)": 1,
    }


def test_quarantine_is_refused_for_sql(mlflow_store: dict[str, str], weather_tables: str) -> None:
    _, err = execute(data="weather_bad", expectations=EXPECTATIONS, quarantine_uri="/tmp/q.csv")
    assert isinstance(err, InvalidParameterError) and "quarantine_uri" in str(err)
