"""Counts from a database or a cluster, turned into the accumulators streaming would have built.

An engine that cannot stream rows to us (PostgreSQL, Spark) counts the finite values of a column in
the right-closed intervals between :func:`thresholds_for` (every edge, stored sample value and the
float just below each, so that ``x < t`` is ``x <= nextafter(t, -inf)`` exactly); :func:`fill_numeric`
turns those counts into exactly the counts :class:`~airflow_robust.drift.current.NumericAccumulator`
keeps. Buckets are numbered as ``width_bucket`` numbers them on the negated, reversed thresholds:
``m`` is ``x <= t[0]``, ``k`` in ``1..m-1`` is ``t[m-k-1] < x <= t[m-k]``, ``0`` is ``x > t[-1]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from airflow_robust.drift.current import NumericAccumulator
from airflow_robust.drift.profile import NumericProfile


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
