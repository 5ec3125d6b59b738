"""A JSON-serialisable reference profile of a dataset, logged at training time.

Per numeric column: quantile bin edges (``bins`` equal-frequency bins, duplicates collapsed)
with the reference counts in each bin, plus count, nulls, mean, std, min and max; a finer
grid, the union of ``fine_bins`` quantile bins and ``fine_bins`` equal-width bins, so that no
bin is both wide and heavy (Wasserstein distance and its error bound); the sorted values themselves when
there are at most ``sample_limit`` of them (exact Kolmogorov-Smirnov); and the frequency of each
value when there are at most ``value_limit`` distinct values (such columns are tested like
categories). Per categorical column: the frequency of each category (the most frequent
``max_categories``, the rest pooled under ``__other__``). Drift monitoring compares current data
against these, so the reference data itself is not needed later.

Bins are right-closed, ``(e[i], e[i+1]]``, except the first, which includes the minimum.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

PROFILE_VERSION = 2
OTHER = "__other__"
FINE_BINS = 500
SAMPLE_LIMIT = 5000
VALUE_LIMIT = 100


@dataclass
class NumericProfile:
    count: int
    nulls: int
    mean: float | None
    std: float | None
    min: float | None
    max: float | None
    edges: list[float]
    counts: list[int]
    kind: Literal["numeric"] = "numeric"
    fine_edges: list[float] = field(default_factory=list)
    fine_counts: list[int] = field(default_factory=list)
    sample: list[float] | None = None
    values: dict[str, int] | None = None
    distinct: int | None = None

    @property
    def population_std(self) -> float | None:
        """Standard deviation with ``ddof=0`` (what ``numpy.std`` gives; Evidently normalises by it)."""
        if self.std is None or self.count < 1:
            return None
        return float(self.std * math.sqrt((self.count - 1) / self.count)) if self.count > 1 else 0.0


@dataclass
class CategoricalProfile:
    count: int
    nulls: int
    frequencies: dict[str, int]
    distinct: int
    kind: Literal["categorical"] = "categorical"


@dataclass
class ReferenceProfile:
    """Row count and one entry per column; ``to_dict``/``from_dict`` round-trip through JSON."""

    rows: int
    columns: dict[str, NumericProfile | CategoricalProfile]
    target: str | None = None
    version: int = PROFILE_VERSION
    bins: int = 20
    meta: dict[str, Any] = field(default_factory=dict)
    #: what the model said on the reference holdout (see :mod:`airflow_robust.drift.model_view`)
    model: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "rows": self.rows,
            "target": self.target,
            "bins": self.bins,
            "meta": self.meta,
            "model": self.model,
            "columns": {name: asdict(col) for name, col in self.columns.items()},
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ReferenceProfile:
        columns: dict[str, NumericProfile | CategoricalProfile] = {}
        for name, col in raw["columns"].items():
            if col["kind"] == "numeric":
                columns[name] = NumericProfile(**col)
            else:
                columns[name] = CategoricalProfile(**col)
        return cls(
            rows=raw["rows"],
            columns=columns,
            target=raw.get("target"),
            version=raw.get("version", PROFILE_VERSION),
            bins=raw.get("bins", 20),
            meta=raw.get("meta", {}),
            model=raw.get("model", {}),
        )


def build_profile(
    frame: pd.DataFrame,
    *,
    target: str | None = None,
    bins: int = 20,
    max_categories: int = 100,
    fine_bins: int = FINE_BINS,
    sample_limit: int = SAMPLE_LIMIT,
    value_limit: int = VALUE_LIMIT,
) -> ReferenceProfile:
    """Profile every column of ``frame`` (numeric vs categorical by dtype; bools are categorical)."""
    columns: dict[str, NumericProfile | CategoricalProfile] = {}
    for name in frame.columns:
        series = frame[name]
        if is_numeric(series):
            columns[str(name)] = _numeric(series, bins, fine_bins, sample_limit, value_limit)
        elif pd.api.types.is_datetime64_any_dtype(series):
            continue
        else:
            columns[str(name)] = _categorical(series, max_categories)
    return ReferenceProfile(rows=len(frame), columns=columns, target=target, bins=bins)


def is_numeric(series: pd.Series) -> bool:
    """Numeric for drift purposes: a number dtype that is not bool."""
    return bool(pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series))


def numeric_values(series: pd.Series) -> np.ndarray:
    """The column as float64 with missing and non-numeric values as NaN."""
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def value_key(value: float) -> str:
    """The key of a numeric value in ``values`` frequency tables (``repr`` of the float; -0.0 is 0.0)."""
    return repr(float(value) + 0.0)


def quantile_bins(finite: np.ndarray, bins: int) -> tuple[np.ndarray, list[int]]:
    """Equal-frequency edges (duplicates collapsed) and the count in each right-closed bin."""
    edges = np.unique(np.quantile(finite, np.linspace(0.0, 1.0, bins + 1)))
    return edges, bin_counts(edges, finite).tolist()


def bin_counts(edges: np.ndarray, finite: np.ndarray) -> np.ndarray:
    """Counts of ``finite`` values in the bins of ``edges`` (values outside are clipped into the outer bins)."""
    if len(edges) <= 1:
        return np.asarray([len(finite)], dtype=np.int64)
    index = np.clip(np.searchsorted(edges, finite, side="left") - 1, 0, len(edges) - 2)
    return np.bincount(index, minlength=len(edges) - 1).astype(np.int64)


def _numeric(series: pd.Series, bins: int, fine_bins: int, sample_limit: int, value_limit: int) -> NumericProfile:
    values = numeric_values(series)
    finite = values[np.isfinite(values)]
    nulls = int(len(values) - len(finite))
    if len(finite) == 0:
        return NumericProfile(
            count=0, nulls=nulls, mean=None, std=None, min=None, max=None, edges=[], counts=[], distinct=0
        )
    ordered = np.sort(finite)
    edges, counts = quantile_bins(ordered, bins)
    fine_edges = np.unique(
        np.concatenate(
            [
                np.quantile(ordered, np.linspace(0.0, 1.0, fine_bins + 1)),
                np.linspace(ordered[0], ordered[-1], fine_bins + 1),
            ]
        )
    )
    fine_counts = bin_counts(fine_edges, ordered).tolist()
    uniques, unique_counts = np.unique(ordered, return_counts=True)
    frequencies = None
    if len(uniques) <= value_limit:
        frequencies = {value_key(v): int(c) for v, c in zip(uniques, unique_counts, strict=True)}
    return NumericProfile(
        count=len(finite),
        nulls=nulls,
        mean=_f(finite.mean()),
        std=_f(finite.std(ddof=1) if len(finite) > 1 else 0.0),
        min=_f(finite.min()),
        max=_f(finite.max()),
        edges=[float(e) for e in edges],
        counts=[int(c) for c in counts],
        fine_edges=[float(e) for e in fine_edges],
        fine_counts=[int(c) for c in fine_counts],
        sample=[float(v) for v in ordered] if len(ordered) <= sample_limit else None,
        values=frequencies,
        distinct=len(uniques),
    )


def _categorical(series: pd.Series, max_categories: int) -> CategoricalProfile:
    counts = series.dropna().astype(str).value_counts()
    # most frequent first, ties by label: the same categories are kept wherever the profile is built
    counts = counts.iloc[sorted(range(len(counts)), key=lambda i: (-int(counts.iloc[i]), str(counts.index[i])))]
    top = counts.iloc[:max_categories]
    frequencies = {str(k): int(v) for k, v in top.items()}
    rest = int(counts.iloc[max_categories:].sum())
    if rest:
        frequencies[OTHER] = rest
    return CategoricalProfile(
        count=int(counts.sum()), nulls=int(series.isna().sum()), frequencies=frequencies, distinct=len(counts)
    )


def _f(value: Any) -> float | None:
    out = float(value)
    return out if math.isfinite(out) else None
