"""Drift accumulators and reference profiles computed inside the database: kilobytes move, not rows.

:func:`accumulate_sql` fills the same :class:`~airflow_robust.drift.current.CurrentData` that
streaming fills (:func:`~airflow_robust.drift.current.accumulate`), from aggregate queries:

- one pass computes, per monitored numeric column, the counts of values in the right-closed
  intervals between *every* threshold any statistic needs (the reference's coarse and fine edges,
  its stored sample values, and the float just below each of them, so that ``x < t`` is
  ``x <= nextafter(t, -inf)`` exactly), with ``width_bucket`` over a sorted array (a binary search
  per value) under ``GROUPING SETS`` (one scan for all columns); every count the streamed path keeps
  is a cumulative sum of these, so the counts are *exactly* the streamed ones;
- one pass computes counts, sums, minima, maxima and the summed distances beyond the outer edges;
- low-cardinality numeric columns and categorical columns are counted with ``GROUP BY`` (at most
  10,001 groups are fetched per column: beyond that, like streaming, the column is not a category);
- while the current data has at most ``keep_rows`` finite values in a column, they are fetched too,
  which keeps the Wasserstein distance exact, as streaming does.

Finite means what ``numpy.isfinite`` means: ``NULL``, ``NaN`` and infinities count as missing.
:func:`profile_sql` builds a :class:`~airflow_robust.drift.profile.ReferenceProfile` the same way
(``percentile_cont``, numpy's linear interpolation, for the bin edges).

Pushdown needs PostgreSQL (array ``width_bucket``, ``GROUPING SETS``, ordered-set aggregates);
:func:`pushdown_supported` says whether an engine has them, and callers stream otherwise.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from airflow_robust.drift.counts import (
    Aggregate,
    categorical_accumulator,
    current_data,
    fill_numeric,
    numeric_accumulators,
    pandas_bool_label,
    read_totals,
    split_columns,
    thresholds_for,
    totals_plan,
)
from airflow_robust.drift.current import MAX_CURRENT_CATEGORIES, Accumulator, CurrentData, NumericAccumulator
from airflow_robust.drift.profile import (
    FINE_BINS,
    OTHER,
    SAMPLE_LIMIT,
    VALUE_LIMIT,
    CategoricalProfile,
    NumericProfile,
    ReferenceProfile,
    value_key,
)

FLOAT_MAX = float(np.finfo(np.float64).max)


def pushdown_supported(engine: Any) -> bool:
    """Whether ``engine``'s dialect has what :func:`accumulate_sql` uses (PostgreSQL)."""
    return str(getattr(getattr(engine, "dialect", None), "name", "")) == "postgresql"


@dataclass(frozen=True)
class Relation:
    """The data as a subquery: a table name or a SELECT statement, and its columns and types."""

    subquery: Any
    columns: dict[str, str]  # name -> "numeric" | "boolean" | "other"


def relation(connection: Any, query: str, is_table: bool) -> Relation:
    """``query`` (SQL text, or a possibly schema-qualified table) as a subquery with known columns."""
    import sqlalchemy as sa

    from airflow_robust.data.sql import select_all, table_clause

    text = query.strip().rstrip(";")
    if is_table:
        probe = connection.execute(select_all(text, is_table=True).limit(0))
    else:
        probe = connection.execute(sa.text(f"SELECT * FROM ({text}) AS probe LIMIT 0"))
    names = list(probe.keys())
    kinds: dict[str, str] = {}
    described = probe.cursor.description if probe.cursor is not None else None
    for index, name in enumerate(names):
        code = described[index][1] if described else None
        kinds[name] = _kind(connection, code)
    probe.close()
    columns: list[Any] = [sa.column(name) for name in names]
    if is_table:
        subquery = sa.select(*columns).select_from(table_clause(text)).subquery("current")
    else:
        subquery = sa.text(text).columns(*columns).subquery("current")
    return Relation(subquery, kinds)


_NUMERIC_OIDS = {20, 21, 23, 26, 700, 701, 1700}  # int8, int2, int4, oid, float4, float8, numeric
_BOOLEAN_OID = 16
_TEMPORAL_OIDS = {1082, 1083, 1114, 1184, 1266}  # date, time, timestamp, timestamptz, timetz


def _kind(connection: Any, type_code: Any) -> str:
    """PostgreSQL type OIDs as profile kinds (dates are skipped, as the pandas profile skips them)."""
    if type_code in _NUMERIC_OIDS:
        return "numeric"
    if type_code == _BOOLEAN_OID:
        return "boolean"
    if type_code in _TEMPORAL_OIDS:
        return "temporal"
    return "other"


def columns_of(engine: Any, query: str, *, is_table: bool = False) -> list[str]:
    """The column names of ``query`` (a ``LIMIT 0`` probe: no rows move)."""
    with engine.connect() as connection:
        return list(relation(connection, query, is_table).columns)


def accumulate_sql(
    engine: Any,
    query: str,
    profile: ReferenceProfile,
    columns: Sequence[str],
    *,
    is_table: bool = False,
    keep_rows: int = 100_000,
) -> CurrentData:
    """The current data's accumulators for ``columns``, computed by the database (see the module docstring)."""
    with engine.connect() as connection:
        rel = relation(connection, query, is_table)
        split = split_columns(profile, columns, list(rel.columns))
        q = rel.subquery
        totals, rows = _totals(connection, q, profile, split.numeric, split.categorical)
        thresholds = {c: thresholds_for(profile.columns[c]) for c in split.numeric}  # type: ignore[arg-type]
        buckets = _bucket_counts(connection, q, thresholds)
        numeric = numeric_accumulators(profile, split.numeric, rows, totals, thresholds, buckets, keep_rows)
        accumulators: dict[str, Accumulator] = {}
        counted = [n for n in split.numeric if numeric[n].frequencies is not None]
        booleans = {n for n in split.categorical if rel.columns.get(n) == "boolean"}
        grouped = _grouped_counts(connection, q, counted, split.categorical, booleans)
        for name, acc in numeric.items():
            accumulators[name] = acc
            if acc.frequencies is not None:
                acc.frequencies = (
                    grouped.frequencies[name] if grouped is not None else _value_counts(connection, q, name)
                )
            if acc.kept is not None:
                acc.kept = _kept(connection, q, name, acc.count, keep_rows)
        for name in split.categorical:
            counts = (
                grouped.categories[name]
                if grouped is not None
                else _category_counts(connection, q, name, name in booleans)
            )
            accumulators[name] = categorical_accumulator(profile.columns[name], rows, totals[name]["count"], counts)
    return current_data(profile, columns, rows, accumulators, split, keep_rows)


def _x(q: Any, name: str) -> Any:
    import sqlalchemy as sa

    return sa.cast(q.c[name], sa.Float(precision=53))


def _finite(x: Any) -> Any:
    return x.between(-FLOAT_MAX, FLOAT_MAX)  # excludes NULL, NaN (above every number) and +-Infinity


def _totals(
    connection: Any, q: Any, profile: ReferenceProfile, numeric: list[str], categorical: list[str]
) -> tuple[dict[str, dict[str, Any]], int]:
    import sqlalchemy as sa

    def expression(aggregate: Aggregate) -> Any:
        if aggregate.kind == "rows":
            return sa.func.count()
        if aggregate.kind == "present":
            return sa.func.count(q.c[aggregate.column])
        x = _x(q, str(aggregate.column))
        ok = _finite(x)
        if aggregate.kind == "finite":
            return sa.func.count(sa.case((ok, 1)))
        if aggregate.kind in ("sum", "min", "max"):
            return getattr(sa.func, aggregate.kind)(sa.case((ok, x)))
        bound = float(aggregate.bound or 0.0)
        if aggregate.kind == "below":
            return sa.func.sum(sa.case((sa.and_(ok, x < bound), bound - x)))
        return sa.func.sum(sa.case((sa.and_(ok, x > bound), x - bound)))

    plan = totals_plan(profile, numeric, categorical)
    row = connection.execute(sa.select(*[expression(a).label(a.label) for a in plan]).select_from(q)).mappings().one()
    return read_totals(row, numeric, categorical)


def _bucket_counts(connection: Any, q: Any, thresholds: dict[str, np.ndarray]) -> dict[str, dict[int, int]]:
    """Per column: bucket -> count of finite values, one scan for all columns (``GROUPING SETS``)."""
    import sqlalchemy as sa
    from sqlalchemy.dialects.postgresql import ARRAY, DOUBLE_PRECISION

    names = [name for name, points in thresholds.items() if len(points)]
    if not names:
        return {}
    labelled = []
    for index, name in enumerate(names):
        x = _x(q, name)
        negated = [-float(t) for t in thresholds[name][::-1]]  # ascending; right-closed bins of x
        array = sa.cast(sa.literal(negated, ARRAY(DOUBLE_PRECISION)), ARRAY(DOUBLE_PRECISION))
        labelled.append(sa.case((_finite(x), sa.func.width_bucket(-x, array)), else_=None).label(f"b{index}"))
    inner = sa.select(*labelled).select_from(q).subquery("buckets")
    keys = [inner.c[f"b{index}"] for index in range(len(names))]
    flags = [sa.func.grouping(key).label(f"g{index}") for index, key in enumerate(keys)]
    statement = (
        sa.select(*keys, *flags, sa.func.count().label("n"))
        .select_from(inner)
        .group_by(sa.func.grouping_sets(*[sa.tuple_(key) for key in keys]))
    )
    out: dict[str, dict[int, int]] = {name: {} for name in names}
    for row in connection.execute(statement).mappings():
        for index, name in enumerate(names):
            if row[f"g{index}"] == 0:  # this row is the grouping set of column ``index``
                bucket = row[f"b{index}"]
                if bucket is not None:  # None: the non-finite values
                    out[name][int(bucket)] = int(row["n"])
                break
    return out


@dataclass
class _Grouped:
    frequencies: dict[str, Counter[str] | None]
    categories: dict[str, list[tuple[str, int]]]


def _grouped_counts(
    connection: Any, q: Any, counted: list[str], categorical: list[str], booleans: set[str]
) -> _Grouped | None:
    """Value counts of ``counted`` numeric columns and category counts of ``categorical`` ones in *one* scan
    (``GROUPING SETS``), with the results of the per-column queries below. ``None`` when a column has more
    distinct values than those queries would read (the caller then runs them, each with its ``LIMIT``):
    the rows are streamed and reading stops there, so the worker's memory stays bounded."""
    import sqlalchemy as sa

    if len(counted) + len(categorical) < 2:
        return None  # one column: the per-column query is the same single scan
    keys: list[Any] = []
    for name in counted:
        x = _x(q, name)
        keys.append(sa.case((_finite(x), x), else_=None))
    for name in categorical:
        keys.append(sa.cast(q.c[name], sa.Text))
    names = [*counted, *categorical]
    inner = sa.select(*[key.label(f"k{i}") for i, key in enumerate(keys)]).select_from(q).subquery("keys")
    columns = [inner.c[f"k{i}"] for i in range(len(names))]
    flags = [sa.func.grouping(c).label(f"g{i}") for i, c in enumerate(columns)]
    statement = (
        sa.select(*columns, *flags, sa.func.count().label("n"))
        .select_from(inner)
        .group_by(sa.func.grouping_sets(*[sa.tuple_(c) for c in columns]))
    )
    limits = dict.fromkeys(counted, MAX_CURRENT_CATEGORIES) | dict.fromkeys(categorical, MAX_CURRENT_CATEGORIES * 10)
    seen: dict[str, list[tuple[Any, int]]] = {n: [] for n in names}
    result = connection.execute(statement.execution_options(stream_results=True, max_row_buffer=1000))
    try:
        for row in result.mappings():
            for index, name in enumerate(names):
                if row[f"g{index}"] == 0:
                    value = row[f"k{index}"]
                    if value is not None:  # NULL: non-finite numbers, missing categories
                        seen[name].append((value, int(row["n"])))
                        if len(seen[name]) > limits[name]:
                            return None  # more values than the per-column query reads: let it cut
                    break
    finally:
        result.close()
    frequencies: dict[str, Counter[str] | None] = {}
    for name in counted:
        pairs = seen[name]
        frequencies[name] = Counter({value_key(float(v)): n for v, n in pairs})
    categories: dict[str, list[tuple[str, int]]] = {}
    for name in categorical:
        ordered = sorted(((str(v), n) for v, n in seen[name]), key=lambda item: (-item[1], item[0]))
        if name in booleans:  # pandas writes booleans as True/False, PostgreSQL as true/false
            ordered = [(pandas_bool_label(v), n) for v, n in ordered]
        categories[name] = ordered
    return _Grouped(frequencies, categories)


def _value_counts(connection: Any, q: Any, name: str) -> Counter[str] | None:
    import sqlalchemy as sa

    x = _x(q, name)
    statement = (
        sa.select(x.label("v"), sa.func.count().label("n"))
        .select_from(q)
        .where(_finite(x))
        .group_by(x)
        .limit(MAX_CURRENT_CATEGORIES + 1)
    )
    rows = connection.execute(statement).all()
    if len(rows) > MAX_CURRENT_CATEGORIES:
        return None  # too many distinct values to be treated as categories (as streaming decides)
    return Counter({value_key(float(v)): int(n) for v, n in rows})


def _kept(connection: Any, q: Any, name: str, count: int, keep_rows: int) -> list[np.ndarray] | None:
    if count > keep_rows:
        return None
    import sqlalchemy as sa

    x = _x(q, name)
    values = [float(v) for (v,) in connection.execute(sa.select(x).select_from(q).where(_finite(x)))]
    return [np.asarray(values, dtype=float)] if values else []


def _category_counts(connection: Any, q: Any, name: str, boolean: bool) -> list[tuple[str, int]]:
    import sqlalchemy as sa

    column = q.c[name]
    label = sa.cast(column, sa.Text)
    statement = (
        sa.select(label.label("v"), sa.func.count().label("n"))
        .select_from(q)
        .where(column.is_not(None))
        .group_by(label)
        .order_by(sa.desc("n"), label.collate("C"))  # ties by code point, as Python sorts
        .limit(MAX_CURRENT_CATEGORIES * 10)
    )
    out = []
    for value, n in connection.execute(statement).all():
        text = str(value)
        if boolean:  # pandas writes booleans as True/False, PostgreSQL as true/false
            text = pandas_bool_label(text)
        out.append((text, int(n)))
    return out


def profile_sql(
    engine: Any,
    query: str,
    *,
    is_table: bool = False,
    target: str | None = None,
    bins: int = 20,
    max_categories: int = 100,
    fine_bins: int = FINE_BINS,
    sample_limit: int = SAMPLE_LIMIT,
    value_limit: int = VALUE_LIMIT,
) -> ReferenceProfile:
    """A reference profile of the data, computed by the database (edges by ``percentile_cont``)."""
    import sqlalchemy as sa

    with engine.connect() as connection:
        rel = relation(connection, query, is_table)
        q = rel.subquery
        rows = int(connection.execute(sa.select(sa.func.count()).select_from(q)).scalar_one())
        columns: dict[str, NumericProfile | CategoricalProfile] = {}
        for name, kind in rel.columns.items():
            if kind == "temporal":
                continue
            if kind == "numeric":
                columns[name] = _numeric_profile(connection, q, name, rows, bins, fine_bins, sample_limit, value_limit)
            else:
                columns[name] = _categorical_profile(connection, q, name, kind == "boolean", max_categories)
    return ReferenceProfile(rows=rows, columns=columns, target=target, bins=bins)


def _numeric_profile(
    connection: Any, q: Any, name: str, rows: int, bins: int, fine_bins: int, sample_limit: int, value_limit: int
) -> NumericProfile:
    import sqlalchemy as sa
    from sqlalchemy.dialects.postgresql import ARRAY, DOUBLE_PRECISION

    x = _x(q, name)
    finite = sa.select(x.label("x")).select_from(q).where(_finite(x)).subquery("finite")
    fx = finite.c.x
    coarse_q = [float(v) for v in np.linspace(0.0, 1.0, bins + 1)]
    fine_q = [float(v) for v in np.linspace(0.0, 1.0, fine_bins + 1)]
    stats = connection.execute(
        sa.select(
            sa.func.count(),
            sa.func.avg(fx),
            sa.func.stddev_samp(fx),
            sa.func.min(fx),
            sa.func.max(fx),
            sa.func.count(sa.distinct(fx)),
            sa.func.percentile_cont(sa.literal(coarse_q, ARRAY(DOUBLE_PRECISION))).within_group(fx),
            sa.func.percentile_cont(sa.literal(fine_q, ARRAY(DOUBLE_PRECISION))).within_group(fx),
        ).select_from(finite)
    ).one()
    count, mean, std, low, high, distinct, coarse, fine = stats
    nulls = rows - int(count)
    if not count:
        return NumericProfile(
            count=0, nulls=nulls, mean=None, std=None, min=None, max=None, edges=[], counts=[], distinct=0
        )
    edges = np.unique(np.asarray(coarse, dtype=float))
    fine_edges = np.unique(
        np.concatenate([np.asarray(fine, dtype=float), np.linspace(float(low), float(high), fine_bins + 1)])
    )
    sample = None
    values = None
    if count <= sample_limit or distinct <= value_limit:
        ordered = np.sort(np.asarray([float(v) for (v,) in connection.execute(sa.select(fx))], dtype=float))
        if count <= sample_limit:
            sample = [float(v) for v in ordered]
        if distinct <= value_limit:
            uniques, counts = np.unique(ordered, return_counts=True)
            values = {value_key(v): int(c) for v, c in zip(uniques, counts, strict=True)}
        from airflow_robust.drift.profile import bin_counts

        coarse_counts, fine_counts = bin_counts(edges, ordered), bin_counts(fine_edges, ordered)
    else:
        profile_stub = NumericProfile(
            count=int(count), nulls=nulls, mean=None, std=None, min=None, max=None,
            edges=[float(e) for e in edges], counts=[], fine_edges=[float(e) for e in fine_edges],
        )  # fmt: skip
        acc = NumericAccumulator(profile_stub, keep_rows=0)
        points = thresholds_for(profile_stub)
        buckets = _bucket_counts(connection, q, {name: points}).get(name, {})
        totals = {"count": int(count), "sum": 0.0, "min": low, "max": high}
        totals.update({"coarse_below": 0.0, "coarse_above": 0.0, "fine_below": 0.0, "fine_above": 0.0})
        fill_numeric(acc, rows, totals, points, buckets)
        coarse_counts, fine_counts = acc.coarse.with_outer(), acc.fine.with_outer()
    return NumericProfile(
        count=int(count),
        nulls=nulls,
        mean=_f(mean),
        std=_f(std if std is not None else 0.0),
        min=_f(low),
        max=_f(high),
        edges=[float(e) for e in edges],
        counts=[int(c) for c in coarse_counts],
        fine_edges=[float(e) for e in fine_edges],
        fine_counts=[int(c) for c in fine_counts],
        sample=sample,
        values=values,
        distinct=int(distinct),
    )


def _categorical_profile(connection: Any, q: Any, name: str, boolean: bool, max_categories: int) -> CategoricalProfile:
    counts = _category_counts(connection, q, name, boolean)
    top = counts[:max_categories]
    frequencies = dict(top)
    rest = sum(n for _, n in counts[max_categories:])
    if rest:
        frequencies[OTHER] = rest
    import sqlalchemy as sa

    total, nulls = connection.execute(
        sa.select(sa.func.count(q.c[name]), sa.func.count() - sa.func.count(q.c[name])).select_from(q)
    ).one()
    return CategoricalProfile(count=int(total), nulls=int(nulls), frequencies=frequencies, distinct=len(counts))


def _f(value: Any) -> float | None:
    if value is None:
        return None
    out = float(value)
    return out if math.isfinite(out) else None
