"""Drift where the data lives: PostgreSQL computes the counts, and they equal the streamed ones.

Seattle's weather (2012-2013 as the reference, 2014-2015 as current data) and a synthetic set made to
hit every corner (NULL, NaN and infinities, integers with few values, values on the bin edges,
booleans, a categorical column whose rare categories the reference pooled, a column absent from the
current data). The whole current data is also split into daily partitions whose accumulators merge
exactly into the whole.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from airflow_robust.drift.current import CategoricalAccumulator, CurrentData, NumericAccumulator, accumulate, merge
from airflow_robust.drift.detect import compare
from airflow_robust.drift.profile import CategoricalProfile, ReferenceProfile, build_profile
from airflow_robust.drift.sql import accumulate_sql, profile_sql, pushdown_supported
from airflow_robust.operators.monitor import MonitorDriftOperator
from tests.helpers import TaskInstanceStandIn, context_for, seattle_weather


@pytest.fixture(scope="module")
def engine(postgres_url: str) -> Any:
    created = sa.create_engine(postgres_url)
    yield created
    created.dispose()


def synthetic(rows: int, shift: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "normal": rng.normal(shift, 1.0, rows),
            "skewed": rng.exponential(1.0 + shift, rows),
            "few_ints": rng.integers(0, 7, rows),
            "on_edges": np.round(rng.normal(0, 1, rows), 1),
            "flag": rng.random(rows) < 0.3 + shift / 10,
            "city": [f"c{int(v)}" for v in rng.zipf(1.3 + shift / 10, rows) % 150],
            "day": np.repeat(np.arange(rows // 100 + 1), 100)[:rows],
        }
    )
    frame.loc[frame.sample(frac=0.02, random_state=seed).index, "normal"] = np.nan
    frame.loc[frame.sample(frac=0.001, random_state=seed + 1).index, "skewed"] = np.inf
    frame.loc[frame.sample(frac=0.01, random_state=seed + 2).index, "city"] = None
    return frame


def assert_same(streamed: CurrentData, pushed: CurrentData) -> None:
    assert streamed.rows == pushed.rows and streamed.missing == pushed.missing
    assert set(streamed.columns) == set(pushed.columns)
    for name, left in streamed.columns.items():
        right = pushed.columns[name]
        assert (left.rows, left.nulls, left.count) == (right.rows, right.nulls, right.count), name
        if isinstance(left, CategoricalAccumulator):
            assert isinstance(right, CategoricalAccumulator) and left.frequencies == right.frequencies, name
            continue
        assert isinstance(left, NumericAccumulator) and isinstance(right, NumericAccumulator)
        for grid in ("coarse", "fine"):
            a, b = getattr(left, grid), getattr(right, grid)
            assert a.counts.tolist() == b.counts.tolist(), (name, grid)
            assert (a.below, a.above) == (b.below, b.above), (name, grid)
            assert a.below_distance == pytest.approx(b.below_distance) and a.above_distance == pytest.approx(
                b.above_distance
            ), (name, grid)
        assert (left.le is None) == (right.le is None), name
        if left.le is not None and right.le is not None and left.lt is not None and right.lt is not None:
            assert left.le.tolist() == right.le.tolist() and left.lt.tolist() == right.lt.tolist(), name
        assert left.frequencies == right.frequencies, name
        assert left.total == pytest.approx(right.total) and (left.minimum, left.maximum) == (
            right.minimum,
            right.maximum,
        )
        assert (left.values is None) == (right.values is None), name
        if left.values is not None and right.values is not None:
            assert np.sort(left.values).tolist() == np.sort(right.values).tolist(), name


def assert_same_verdicts(profile: ReferenceProfile, streamed: CurrentData, pushed: CurrentData) -> None:
    left, right = compare(profile, streamed), compare(profile, pushed)
    assert left.dataset_drift == right.dataset_drift
    for name, column in left.columns.items():
        other = right.columns[name]
        assert (column.drifted, column.method) == (other.drifted, other.method), name
        assert column.statistic == pytest.approx(other.statistic, rel=1e-9, abs=1e-12), name


def test_seattle_weather_counts_equal_the_streamed_counts(engine: Any) -> None:
    assert pushdown_supported(engine)
    weather = seattle_weather()
    weather["year"] = weather["date"].dt.year
    reference = weather[weather["year"] <= 2013].drop(columns=["date", "year"])
    current = weather[weather["year"] >= 2014].drop(columns=["date"])
    current.to_sql("weather_current", engine, index=False, if_exists="replace")
    profile = build_profile(reference, target="weather")
    columns = list(profile.columns)
    streamed = accumulate([current], profile, columns)
    pushed = accumulate_sql(engine, "SELECT * FROM weather_current", profile, columns)
    assert_same(streamed, pushed)
    assert_same_verdicts(profile, streamed, pushed)
    assert compare(profile, pushed).columns["weather"].drifted  # the label shift of later years


@pytest.mark.parametrize("keep_rows", [100_000, 500])  # exact Wasserstein from raw values, and from bins
def test_synthetic_corners_and_partitions_merge_exactly(engine: Any, keep_rows: int) -> None:
    reference = synthetic(20_000, 0.0, 1)
    current = synthetic(12_000, 0.4, 2)
    current.assign(extra=1).to_sql("synthetic_current", engine, index=False, if_exists="replace")
    profile = build_profile(reference.drop(columns=["day"]))
    assert (
        isinstance(profile.columns["city"], CategoricalProfile) and "__other__" in profile.columns["city"].frequencies
    )
    columns = [*profile.columns, "not_in_current"]
    profile.columns["not_in_current"] = profile.columns["normal"]
    streamed = accumulate([current.drop(columns=["day"])], profile, columns, keep_rows=keep_rows)
    pushed = accumulate_sql(engine, "synthetic_current", profile, columns, is_table=True, keep_rows=keep_rows)
    assert pushed.missing == ["not_in_current"]
    assert_same(streamed, pushed)
    del profile.columns["not_in_current"]
    streamed.columns.pop("not_in_current", None)
    pushed.columns.pop("not_in_current", None)
    streamed.missing, pushed.missing = [], []
    assert_same_verdicts(profile, streamed, pushed)

    # daily partitions, profiled once each (streamed and in the database), merge into the whole
    merged_streamed: CurrentData | None = None
    merged_pushed: CurrentData | None = None
    names = list(profile.columns)
    for day, part in current.groupby("day", sort=True):
        one = accumulate([part.drop(columns=["day"])], profile, names, keep_rows=keep_rows)
        merged_streamed = one if merged_streamed is None else merge(merged_streamed, one)
        if int(str(day)) % 40 == 0:  # a few partitions in the database too
            query = f"SELECT * FROM synthetic_current WHERE day = {int(str(day))}"
            pushed_part = accumulate_sql(engine, query, profile, names, keep_rows=keep_rows)
            assert_same(one, pushed_part)
    whole = accumulate([current.drop(columns=["day"])], profile, names, keep_rows=keep_rows)
    assert merged_streamed is not None
    assert_same(whole, merged_streamed)
    assert merged_pushed is None


def test_a_profile_built_in_the_database_equals_the_pandas_profile(engine: Any) -> None:
    frame = synthetic(8_000, 0.0, 3).drop(columns=["day"])
    frame.to_sql("synthetic_reference", engine, index=False, if_exists="replace")
    local = build_profile(frame)
    remote = profile_sql(engine, "SELECT * FROM synthetic_reference")
    assert remote.rows == local.rows and set(remote.columns) == set(local.columns)
    for name, expected in local.columns.items():
        got = remote.columns[name]
        assert got.kind == expected.kind and (got.count, got.nulls) == (expected.count, expected.nulls), name
        if isinstance(expected, CategoricalProfile):
            assert isinstance(got, CategoricalProfile) and got.frequencies == expected.frequencies, name
            continue
        assert np.allclose(got.edges, expected.edges, rtol=1e-12) and got.counts == expected.counts, name  # type: ignore[union-attr]
        assert np.allclose(got.fine_edges, expected.fine_edges, rtol=1e-12), name  # type: ignore[union-attr]
        assert got.fine_counts == expected.fine_counts and got.values == expected.values, name  # type: ignore[union-attr]
        assert got.mean == pytest.approx(expected.mean) and got.std == pytest.approx(expected.std), name  # type: ignore[union-attr]


def test_the_operator_monitors_a_sql_table_inside_the_database(
    engine: Any, postgres_url: str, mlflow_store: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    url = sa.engine.make_url(postgres_url)
    connection = {
        "conn_type": "postgres",
        "host": url.host,
        "port": url.port,
        "login": url.username,
        "schema": url.database,
    }
    monkeypatch.setenv("AIRFLOW_CONN_DRIFT_PG", json.dumps(connection))
    weather = seattle_weather()
    reference = weather[weather["date"].dt.year <= 2013].drop(columns=["date"])
    current = weather[weather["date"].dt.year >= 2014].drop(columns=["date"])
    reference_csv, current_csv = tmp_path / "reference.csv", tmp_path / "current.csv"
    reference.to_csv(reference_csv, index=False)
    current.to_csv(current_csv, index=False)
    current.to_sql("weather_2014", engine, index=False, if_exists="replace")

    def run(**kw: Any) -> dict[str, Any]:
        op = MonitorDriftOperator(
            task_id="monitor", reference=str(reference_csv), target="weather", on_drift="warn", **kw
        )
        result: dict[str, Any] = op.execute(context_for(TaskInstanceStandIn(task_id="monitor", run_id="sql")))
        return result

    in_database = run(current="SELECT * FROM weather_2014", conn_id="drift_pg")
    streamed = run(current=str(current_csv))
    assert in_database["engine"] == "database" and streamed["engine"] == "streamed"
    for key in ("drift", "dataset_drift", "drifted_columns", "drift_share", "current_rows"):
        assert in_database[key] == streamed[key], key
    assert in_database["target_drift"]["drifted"] is True and streamed["target_drift"]["drifted"] is True


def test_columns_that_outgrow_their_reference_values_fall_back_to_bounded_queries(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One grouped scan counts every low-cardinality column; a column with more distinct values than the
    streamed path keeps (here 12,000 where the reference had 7) makes it stop reading and count column by
    column, each query with its limit: the same counts as streaming either way."""
    reference = synthetic(5_000, 0.0, 21)
    current = synthetic(12_000, 0.0, 22)
    current["few_ints"] = np.arange(len(current))  # every value new and distinct
    current.drop(columns=["day"]).to_sql("outgrown", engine, index=False, if_exists="replace")
    profile = build_profile(reference.drop(columns=["day"]))
    columns = list(profile.columns)
    streamed = accumulate([current.drop(columns=["day"])], profile, columns)
    from airflow_robust.drift import sql

    grouped: list[Any] = []
    real = sql._grouped_counts
    monkeypatch.setattr(sql, "_grouped_counts", lambda *a: grouped.append(real(*a)) or grouped[-1])
    synthetic(12_000, 0.0, 22).drop(columns=["day"]).to_sql("grown", engine, index=False, if_exists="replace")
    accumulate_sql(engine, "grown", profile, columns, is_table=True)
    assert grouped[0] is not None  # control: one grouped scan counted every low-cardinality column
    pushed = accumulate_sql(engine, "outgrown", profile, columns, is_table=True)
    assert grouped[1:] == [None]  # the grouped scan stopped reading and the bounded queries counted
    assert streamed.columns["few_ints"].frequencies is None  # type: ignore[union-attr]
    assert_same(streamed, pushed)
    assert_same_verdicts(profile, streamed, pushed)
