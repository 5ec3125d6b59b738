"""Drift counts as Spark aggregations: the same accumulators streaming builds, only counts leave the cluster.

One aggregation computes counts, sums, minima, maxima and the distances beyond the outer edges of
every monitored column; one ``Bucketizer`` pass and one ``groupBy`` count every numeric column's
values between the thresholds of :func:`airflow_robust.drift.counts.thresholds_for` (splits on the
negated values, so the intervals are right-closed, numbered as ``width_bucket`` numbers them);
low-cardinality and categorical columns are ``groupBy`` counts; while a column has at most
``keep_rows`` finite values they are collected, keeping the Wasserstein distance exact.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from airflow_robust.drift.counts import (
    Aggregate,
    categorical_accumulator,
    current_data,
    numeric_accumulators,
    pandas_bool_label,
    read_totals,
    split_columns,
    thresholds_for,
    totals_plan,
)
from airflow_robust.drift.current import MAX_CURRENT_CATEGORIES, Accumulator, CurrentData
from airflow_robust.drift.profile import ReferenceProfile, value_key


def _x(name: str) -> Any:
    from pyspark.sql import functions as F  # noqa: N812 - Spark's own convention

    return F.col(f"`{name}`").cast("double")


def _finite(name: str) -> Any:
    from pyspark.sql import functions as F  # noqa: N812

    x = _x(name)
    return x.isNotNull() & ~F.isnan(x) & (F.abs(x) < float("inf"))


def accumulate_spark(
    frame: Any, profile: ReferenceProfile, columns: Sequence[str], *, keep_rows: int = 100_000
) -> CurrentData:
    """The accumulators of ``columns`` for the Spark DataFrame ``frame`` (see the module docstring)."""
    split = split_columns(profile, columns, list(frame.columns))
    kinds = dict(frame.dtypes)
    totals, rows = _totals(frame, profile, split.numeric, split.categorical)
    thresholds = {c: thresholds_for(profile.columns[c]) for c in split.numeric}  # type: ignore[arg-type]
    accumulators: dict[str, Accumulator] = {}
    numeric = numeric_accumulators(
        profile, split.numeric, rows, totals, thresholds, _buckets(frame, thresholds), keep_rows
    )
    for name, acc in numeric.items():
        if acc.frequencies is not None:
            acc.frequencies = _value_counts(frame, name)
        if acc.kept is not None:
            acc.kept = _kept(frame, name) if acc.count <= keep_rows else None
        accumulators[name] = acc
    for name in split.categorical:
        counts = _category_counts(frame, name, kinds.get(name) == "boolean")
        accumulators[name] = categorical_accumulator(profile.columns[name], rows, totals[name]["count"], counts)
    return current_data(profile, columns, rows, accumulators, split, keep_rows)


def _totals(
    frame: Any, profile: ReferenceProfile, numeric: list[str], categorical: list[str]
) -> tuple[dict[str, dict[str, Any]], int]:
    from pyspark.sql import functions as F  # noqa: N812

    def expression(aggregate: Aggregate) -> Any:
        if aggregate.kind == "rows":
            return F.count(F.lit(1))
        name = str(aggregate.column)
        if aggregate.kind == "present":
            return F.count(F.col(f"`{name}`"))
        x, ok = _x(name), _finite(name)
        if aggregate.kind == "finite":
            return F.count(F.when(ok, 1))
        if aggregate.kind in ("sum", "min", "max"):
            return getattr(F, aggregate.kind)(F.when(ok, x))
        bound = float(aggregate.bound or 0.0)
        if aggregate.kind == "below":
            return F.sum(F.when(ok & (x < bound), F.lit(bound) - x))
        return F.sum(F.when(ok & (x > bound), x - F.lit(bound)))

    plan = totals_plan(profile, numeric, categorical)
    row = frame.agg(*[expression(a).alias(a.label) for a in plan]).collect()[0].asDict()
    return read_totals(row, numeric, categorical)


def _buckets(frame: Any, thresholds: dict[str, np.ndarray]) -> dict[str, dict[int, int]]:
    from pyspark.ml.feature import Bucketizer
    from pyspark.sql import functions as F  # noqa: N812

    names = [name for name, points in thresholds.items() if len(points)]
    if not names:
        return {}
    negated = frame.select(
        *[
            F.when(_finite(name), -_x(name)).otherwise(F.lit(float("nan"))).alias(f"v{i}")
            for i, name in enumerate(names)
        ]
    )
    splits = [[-float("inf"), *[-float(t) for t in thresholds[name][::-1]], float("inf")] for name in names]
    bucketizer = Bucketizer(
        splitsArray=splits,
        inputCols=[f"v{i}" for i in range(len(names))],
        outputCols=[f"b{i}" for i in range(len(names))],
        handleInvalid="keep",  # NaN (the non-finite values) go to an extra bucket, ignored below
    )
    pairs = bucketizer.transform(negated).select(
        F.explode(
            F.array(*[F.struct(F.lit(i).alias("c"), F.col(f"b{i}").alias("b")) for i in range(len(names))])
        ).alias("p")
    )
    out: dict[str, dict[int, int]] = {name: {} for name in names}
    for row in pairs.groupBy("p.c", "p.b").count().collect():
        name, bucket = names[int(row["c"])], int(row["b"])
        if bucket <= len(thresholds[name]):  # m + 1 is the bucket of NaN
            out[name][bucket] = int(row["count"])
    return out


def _value_counts(frame: Any, name: str) -> Counter[str] | None:
    x = _x(name)
    rows = frame.where(_finite(name)).groupBy(x.alias("v")).count().limit(MAX_CURRENT_CATEGORIES + 1).collect()
    if len(rows) > MAX_CURRENT_CATEGORIES:
        return None
    return Counter({value_key(float(r["v"])): int(r["count"]) for r in rows})


def _kept(frame: Any, name: str) -> list[np.ndarray]:
    values = [float(r[0]) for r in frame.where(_finite(name)).select(_x(name)).collect()]
    return [np.asarray(values, dtype=float)] if values else []


def _category_counts(frame: Any, name: str, boolean: bool) -> list[tuple[str, int]]:
    from pyspark.sql import functions as F  # noqa: N812

    column = F.col(f"`{name}`")
    rows = frame.where(column.isNotNull()).groupBy(column.cast("string").alias("v")).count().collect()
    counts = []
    for row in rows:
        text = str(row["v"])
        if boolean:  # pandas writes booleans as True/False, Spark as true/false
            text = pandas_bool_label(text)
        counts.append((text, int(row["count"])))
    return sorted(counts, key=lambda item: (-item[1], item[0]))
