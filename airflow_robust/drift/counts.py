"""Counts from a database or a cluster, turned into the accumulators streaming would have built.

An engine that cannot stream rows to us (PostgreSQL, Spark) counts the finite values of a column in
the right-closed intervals between :func:`thresholds_for` (every edge, stored sample value and the
float just below each, so that ``x < t`` is ``x <= nextafter(t, -inf)`` exactly); :func:`fill_numeric`
turns those counts into exactly the counts :class:`~airflow_robust.drift.current.NumericAccumulator`
keeps. Buckets are numbered as ``width_bucket`` numbers them on the negated, reversed thresholds:
``m`` is ``x <= t[0]``, ``k`` in ``1..m-1`` is ``t[m-k-1] < x <= t[m-k]``, ``0`` is ``x > t[-1]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from airflow_robust.drift.current import (
    Accumulator,
    CategoricalAccumulator,
    CurrentData,
    NumericAccumulator,
    empty_accumulator,
)
from airflow_robust.drift.profile import CategoricalProfile, NumericProfile, ReferenceProfile


def pandas_bool_label(text: str) -> str:
    """A boolean category as pandas writes it (``True``/``False``); databases and Spark say ``true``/``false``."""
    return {"true": "True", "false": "False"}.get(text, text)


def thresholds_for(reference: NumericProfile) -> np.ndarray:
    """Every value a count is needed at, and the float just below each (so ``<`` is exact)."""
    points: list[float] = [*reference.edges, *(reference.fine_edges or [])]
    if reference.sample is not None:
        points += list(reference.sample)
    if not points:
        return np.zeros(0)
    values = np.unique(np.asarray(points, dtype=float))
    below = np.nextafter(values, -np.inf)
    return np.unique(np.concatenate([values, below]))


def fill_numeric(
    acc: NumericAccumulator, rows: int, totals: dict[str, Any], points: np.ndarray, buckets: dict[int, int]
) -> None:
    count = int(totals["count"])
    acc.rows, acc.count, acc.nulls = rows, count, rows - count
    if count == 0:
        return
    acc.total = totals["sum"]
    acc.minimum, acc.maximum = float(totals["min"]), float(totals["max"])
    m = len(points)
    # bucket k (of width_bucket on the negated, reversed points): m -> x <= points[0];
    # k in 1..m-1 -> points[m-k-1] < x <= points[m-k]; 0 -> x > points[-1]
    per_interval = np.zeros(m, dtype=np.int64)  # per_interval[j]: points[j-1] < x <= points[j] (j=0: x <= points[0])
    for bucket, n in buckets.items():
        if bucket >= 1:
            per_interval[m - bucket] += n
    at_most = np.cumsum(per_interval)  # at_most[j] = #(x <= points[j])
    position = {float(p): j for j, p in enumerate(points)}

    def le(value: float) -> int:
        return int(at_most[position[float(value)]])

    def lt(value: float) -> int:
        return int(at_most[position[float(np.nextafter(value, -np.inf))]])

    for edges, tag in ((acc.coarse, "coarse"), (acc.fine, "fine")):
        if len(edges.edges) == 0:
            continue
        below, not_above = lt(edges.edges[0]), le(edges.edges[-1])
        edges.below, edges.above = below, count - not_above
        edges.below_distance, edges.above_distance = totals[f"{tag}_below"], totals[f"{tag}_above"]
        if len(edges.edges) == 1:
            edges.counts[0] = not_above - below
            continue
        cumulative = np.asarray([le(e) for e in edges.edges[1:]], dtype=np.int64)
        edges.counts = np.diff(np.concatenate([[below], cumulative]))
    if acc.ref_values is not None and acc.le is not None and acc.lt is not None:
        acc.le = np.asarray([le(v) for v in acc.ref_values], dtype=np.int64)
        acc.lt = np.asarray([lt(v) for v in acc.ref_values], dtype=np.int64)


# One aggregation per monitored column, the same for every engine: what to compute and how to read it back.
#: an aggregate's kind: count of all rows, of finite values, of non-null values; sum, min, max of the
#: finite values; the total distance of finite values below / above a bound
AggregateKind = Literal["rows", "finite", "present", "sum", "min", "max", "below", "above"]


@dataclass(frozen=True)
class Aggregate:
    label: str
    kind: AggregateKind
    column: str | None = None
    bound: float | None = None


_EXCESS = (("coarse_below", "c", "b"), ("coarse_above", "c", "a"), ("fine_below", "f", "b"), ("fine_above", "f", "a"))


def totals_plan(profile: ReferenceProfile, numeric: Sequence[str], categorical: Sequence[str]) -> list[Aggregate]:
    """The aggregates of one scan: row count; per numeric column count, sum, min, max of finite values and
    the distances beyond the outer coarse and fine edges; per categorical column its non-null count."""
    plan = [Aggregate("rows", "rows")]
    for index, name in enumerate(numeric):
        plan += [Aggregate(f"{label}{index}", kind, name) for label, kind in _NUMERIC_TOTALS]
        reference = profile.columns[name]
        assert isinstance(reference, NumericProfile)
        for tag, edges in (("c", reference.edges), ("f", reference.fine_edges or reference.edges)):
            if edges:
                plan += [
                    Aggregate(f"{tag}b{index}", "below", name, float(edges[0])),
                    Aggregate(f"{tag}a{index}", "above", name, float(edges[-1])),
                ]
    plan += [Aggregate(f"k{index}", "present", name) for index, name in enumerate(categorical)]
    return plan


_NUMERIC_TOTALS: tuple[tuple[str, AggregateKind], ...] = (("n", "finite"), ("s", "sum"), ("lo", "min"), ("hi", "max"))


def read_totals(
    row: Mapping[str, Any], numeric: Sequence[str], categorical: Sequence[str]
) -> tuple[dict[str, dict[str, Any]], int]:
    """The result row of :func:`totals_plan` as per-column totals (what :func:`fill_numeric` takes), and the rows."""
    out: dict[str, dict[str, Any]] = {}
    for index, name in enumerate(numeric):
        out[name] = {
            "count": row[f"n{index}"] or 0,
            "sum": float(row[f"s{index}"] or 0.0),
            "min": row[f"lo{index}"],
            "max": row[f"hi{index}"],
            **{key: float(row.get(f"{tag}{side}{index}") or 0.0) for key, tag, side in _EXCESS},
        }
    for index, name in enumerate(categorical):
        out[name] = {"count": row[f"k{index}"] or 0}
    return out, int(row["rows"])


# What every counting engine does with its counts: split the columns, build the accumulators, finish.
@dataclass(frozen=True)
class Split:
    """The monitored columns of an engine's data: counted as numbers, counted as categories, or absent."""

    numeric: list[str]
    categorical: list[str]
    missing: list[str]


def split_columns(profile: ReferenceProfile, columns: Sequence[str], available: Sequence[str]) -> Split:
    present = [c for c in columns if c in available]
    numeric = [c for c in present if isinstance(profile.columns[c], NumericProfile)]
    return Split(
        numeric=numeric,
        categorical=[c for c in present if c not in numeric],
        missing=[c for c in columns if c not in available],
    )


def numeric_accumulators(
    profile: ReferenceProfile,
    numeric: Sequence[str],
    rows: int,
    totals: Mapping[str, dict[str, Any]],
    thresholds: Mapping[str, np.ndarray],
    buckets: Mapping[str, dict[int, int]],
    keep_rows: int,
) -> dict[str, NumericAccumulator]:
    """One accumulator per numeric column, filled from its totals and bucket counts (:func:`fill_numeric`)."""
    out: dict[str, NumericAccumulator] = {}
    for name in numeric:
        reference = profile.columns[name]
        assert isinstance(reference, NumericProfile)
        out[name] = NumericAccumulator(reference, keep_rows)
        fill_numeric(out[name], rows, totals[name], thresholds[name], buckets.get(name, {}))
    return out


def categorical_accumulator(
    reference: CategoricalProfile | NumericProfile, rows: int, non_null: int, counts: Any
) -> CategoricalAccumulator:
    """A categorical column's accumulator from its non-null count and its ``(value, count)`` pairs."""
    assert isinstance(reference, CategoricalProfile)
    acc = CategoricalAccumulator(reference)
    acc.rows, acc.nulls = rows, rows - int(non_null)
    acc.add_counts(counts)
    return acc


def current_data(
    profile: ReferenceProfile,
    columns: Sequence[str],
    rows: int,
    accumulators: Mapping[str, Accumulator],
    split: Split,
    keep_rows: int,
) -> CurrentData:
    """The engine's accumulators in ``columns`` order; an absent column gets one that saw nothing (as streaming)."""
    found = dict(accumulators)
    for name in split.missing:
        found[name] = empty_accumulator(profile.columns[name], keep_rows)
    return CurrentData(rows=rows, columns={c: found[c] for c in columns}, missing=split.missing)
