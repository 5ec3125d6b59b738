"""Stream current data, chunk by chunk, into the counts the drift statistics need.

For each monitored column the accumulator keeps only fixed-size state shaped by the reference
profile: counts on the reference's coarse and fine bins (plus the count and summed distance of
values beyond its outer edges), counts ``<=``/``<`` each stored reference value (exact KS), value
frequencies for low-cardinality columns, nulls, min/max/sum. Memory does not grow with the
number of current rows, except the raw values kept while the current data is small
(``keep_rows``), which make the Wasserstein distance exact.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from airflow_robust.drift.profile import (
    OTHER,
    CategoricalProfile,
    NumericProfile,
    ReferenceProfile,
    numeric_values,
    value_key,
)

MAX_CURRENT_CATEGORIES = 10_000


@dataclass
class Edges:
    """Counts of current values on one set of reference edges."""

    edges: np.ndarray
    counts: np.ndarray
    below: int = 0
    above: int = 0
    below_distance: float = 0.0
    above_distance: float = 0.0

    @classmethod
    def on(cls, edges: Sequence[float]) -> Edges:
        array = np.asarray(edges, dtype=float)
        return cls(array, np.zeros(max(len(array) - 1, 1), dtype=np.int64))

    def add(self, ordered: np.ndarray) -> None:
        """Count ``ordered`` (sorted, finite): one binary search per edge, not per value."""
        if len(self.edges) == 0:
            return
        n = len(ordered)
        low, high = self.edges[0], self.edges[-1]
        below = int(np.searchsorted(ordered, low, side="left"))
        not_above = int(np.searchsorted(ordered, high, side="right"))
        self.below += below
        self.above += n - not_above
        if below:
            self.below_distance += float(low * below - ordered[:below].sum())
        if n - not_above:
            self.above_distance += float(ordered[not_above:].sum() - high * (n - not_above))
        if len(self.edges) == 1:
            self.counts[0] += not_above - below
            return
        at_most = np.searchsorted(ordered, self.edges[1:], side="right")  # values <= each inner/right edge
        counts = np.diff(np.concatenate([[below], at_most]))  # right-closed bins; the first includes its left edge
        self.counts += counts

    def with_outer(self) -> np.ndarray:
        """Counts with open outer bins: values below the range join the first bin, above the last."""
        out = self.counts.copy()
        out[0] += self.below
        out[-1] += self.above
        return out


@dataclass
class NumericAccumulator:
    reference: NumericProfile
    keep_rows: int
    rows: int = 0
    nulls: int = 0
    count: int = 0
    total: float = 0.0
    minimum: float = np.inf
    maximum: float = -np.inf
    coarse: Edges = field(init=False)
    fine: Edges = field(init=False)
    ref_values: np.ndarray | None = field(init=False, default=None)
    ref_value_counts: np.ndarray | None = field(init=False, default=None)
    le: np.ndarray | None = field(init=False, default=None)
    lt: np.ndarray | None = field(init=False, default=None)
    frequencies: Counter[str] | None = field(init=False, default=None)
    kept: list[np.ndarray] | None = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.coarse = Edges.on(self.reference.edges)
        self.fine = Edges.on(self.reference.fine_edges or self.reference.edges)
        if self.reference.sample is not None:
            values, counts = np.unique(np.asarray(self.reference.sample, dtype=float), return_counts=True)
            self.ref_values, self.ref_value_counts = values, counts
            self.le = np.zeros(len(values), dtype=np.int64)
            self.lt = np.zeros(len(values), dtype=np.int64)
        if self.reference.values is not None:
            self.frequencies = Counter()

    def add(self, series: pd.Series) -> None:
        values = numeric_values(series)
        finite = values[np.isfinite(values)]
        self.rows += len(values)
        self.nulls += len(values) - len(finite)
        self.count += len(finite)
        if len(finite) == 0:
            return
        ordered = np.sort(finite)  # one sort serves every count below
        self.total += float(ordered.sum())
        self.minimum = min(self.minimum, float(ordered[0]))
        self.maximum = max(self.maximum, float(ordered[-1]))
        self.coarse.add(ordered)
        self.fine.add(ordered)
        if self.ref_values is not None and self.le is not None and self.lt is not None:
            self.le += np.searchsorted(ordered, self.ref_values, side="right")
            self.lt += np.searchsorted(ordered, self.ref_values, side="left")
        if self.frequencies is not None:
            starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
            uniques, counts = ordered[starts], np.diff(np.append(starts, len(ordered)))
            if len(self.frequencies) + len(uniques) <= MAX_CURRENT_CATEGORIES:
                self.frequencies.update({value_key(v): int(c) for v, c in zip(uniques, counts, strict=True)})
            else:
                self.frequencies = None  # too many distinct values to be treated as categories
        if self.kept is not None:
            if self.count <= self.keep_rows:
                self.kept.append(finite)
            else:
                self.kept = None

    @property
    def values(self) -> np.ndarray | None:
        """All finite current values when the data was small enough to keep them, else ``None``."""
        if self.kept is None:
            return None
        return np.concatenate(self.kept) if self.kept else np.zeros(0)

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None


@dataclass
class CategoricalAccumulator:
    reference: CategoricalProfile
    rows: int = 0
    nulls: int = 0
    frequencies: Counter[str] = field(default_factory=Counter)

    def add(self, series: pd.Series) -> None:
        self.rows += len(series)
        present = series.dropna()
        self.nulls += len(series) - len(present)
        counts = present.astype(str).value_counts()
        self.add_counts((str(key), int(count)) for key, count in counts.items())

    def add_counts(self, counts: Iterable[tuple[str, int]]) -> None:
        """Add category counts (from a chunk, a database, another partition), pooling like the reference."""
        pooled = OTHER in self.reference.frequencies
        for key, count in counts:
            rare = pooled and key not in self.reference.frequencies  # the reference pooled it: pool the same way
            full = key not in self.frequencies and len(self.frequencies) >= MAX_CURRENT_CATEGORIES
            self.frequencies[OTHER if rare or full else key] += count

    @property
    def count(self) -> int:
        return self.rows - self.nulls


Accumulator = NumericAccumulator | CategoricalAccumulator


@dataclass
class CurrentData:
    """What the current data looked like, per monitored column; ``missing`` lists absent columns."""

    rows: int
    columns: dict[str, Accumulator]
    missing: list[str]


def empty_accumulator(reference: NumericProfile | CategoricalProfile, keep_rows: int) -> Accumulator:
    """The accumulator of a column that has seen nothing yet (every engine starts, or reports a missing column, so)."""
    if isinstance(reference, NumericProfile):
        return NumericAccumulator(reference, keep_rows)
    return CategoricalAccumulator(reference)


def accumulate(
    chunks: Iterable[pd.DataFrame], profile: ReferenceProfile, columns: Sequence[str], *, keep_rows: int = 100_000
) -> CurrentData:
    """Stream ``chunks`` into one accumulator per column of ``columns`` that the profile describes."""
    accumulators = {name: empty_accumulator(profile.columns[name], keep_rows) for name in columns}
    rows = 0
    seen: set[str] = set()
    for chunk in chunks:
        rows += len(chunk)
        for name, accumulator in accumulators.items():
            if name in chunk.columns:
                seen.add(name)
                accumulator.add(chunk[name])
    missing = [name for name in columns if name not in seen]
    return CurrentData(rows=rows, columns=accumulators, missing=missing)


def merge(first: CurrentData, second: CurrentData) -> CurrentData:
    """Accumulators of two partitions of the current data, merged exactly (counts and sums add up).

    Both must have been accumulated against the same reference profile. Raw values kept for an
    exact Wasserstein distance stay only while the merged count is within ``keep_rows``.
    """
    columns: dict[str, NumericAccumulator | CategoricalAccumulator] = {}
    for name, left in first.columns.items():
        right = second.columns.get(name)
        if right is None:
            columns[name] = left
            continue
        columns[name] = _merge_numeric(left, right) if isinstance(left, NumericAccumulator) else _merge_cat(left, right)  # type: ignore[arg-type]
    for name, right in second.columns.items():
        columns.setdefault(name, right)
    missing = [c for c in first.missing if c in second.missing]
    return CurrentData(rows=first.rows + second.rows, columns=columns, missing=missing)


def _merge_numeric(left: NumericAccumulator, right: NumericAccumulator) -> NumericAccumulator:
    out = NumericAccumulator(left.reference, left.keep_rows)
    out.rows, out.nulls, out.count = left.rows + right.rows, left.nulls + right.nulls, left.count + right.count
    out.total = left.total + right.total
    out.minimum, out.maximum = min(left.minimum, right.minimum), max(left.maximum, right.maximum)
    for name in ("coarse", "fine"):
        a, b, target = getattr(left, name), getattr(right, name), getattr(out, name)
        if list(a.edges) != list(b.edges):
            raise ValueError("cannot merge accumulators of different reference profiles")
        target.counts = a.counts + b.counts
        target.below, target.above = a.below + b.below, a.above + b.above
        target.below_distance = a.below_distance + b.below_distance
        target.above_distance = a.above_distance + b.above_distance
    if left.le is not None and right.le is not None and left.lt is not None and right.lt is not None:
        out.le, out.lt = left.le + right.le, left.lt + right.lt
    if left.frequencies is not None and right.frequencies is not None:
        merged = left.frequencies + right.frequencies
        out.frequencies = merged if len(merged) <= MAX_CURRENT_CATEGORIES else None
    else:
        out.frequencies = None
    if left.kept is not None and right.kept is not None and out.count <= out.keep_rows:
        out.kept = [*left.kept, *right.kept]
    else:
        out.kept = None
    return out


def _merge_cat(left: CategoricalAccumulator, right: CategoricalAccumulator) -> CategoricalAccumulator:
    out = CategoricalAccumulator(left.reference)
    out.rows, out.nulls = left.rows + right.rows, left.nulls + right.nulls
    out.add_counts([*left.frequencies.items(), *right.frequencies.items()])
    return out
