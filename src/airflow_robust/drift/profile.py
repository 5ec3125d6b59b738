"""A small, JSON-serialisable reference profile of a dataset, logged at training time.

Per numeric column: quantile bin edges (``bins`` equal-frequency bins, duplicates collapsed)
with the reference counts in each bin, plus count, nulls, mean, std, min and max.
Per categorical column: the frequency of each category (the most frequent ``max_categories``,
the rest pooled under ``__other__``). Drift monitoring compares current data against these
histograms, so the reference data itself is not needed later.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

PROFILE_VERSION = 1
OTHER = "__other__"


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "rows": self.rows,
            "target": self.target,
            "bins": self.bins,
            "meta": self.meta,
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
        )


def build_profile(
    frame: pd.DataFrame, *, target: str | None = None, bins: int = 20, max_categories: int = 100
) -> ReferenceProfile:
    """Profile every column of ``frame`` (numeric vs categorical by dtype; bools are categorical)."""
    columns: dict[str, NumericProfile | CategoricalProfile] = {}
    for name in frame.columns:
        series = frame[name]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            columns[str(name)] = _numeric(series, bins)
        elif pd.api.types.is_datetime64_any_dtype(series):
            continue
        else:
            columns[str(name)] = _categorical(series, max_categories)
    return ReferenceProfile(rows=len(frame), columns=columns, target=target, bins=bins)


def _numeric(series: pd.Series, bins: int) -> NumericProfile:
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    finite = values[np.isfinite(values)]
    nulls = int(len(values) - len(finite))
    if len(finite) == 0:
        return NumericProfile(count=0, nulls=nulls, mean=None, std=None, min=None, max=None, edges=[], counts=[])
    edges = np.unique(np.quantile(finite, np.linspace(0.0, 1.0, bins + 1)))
    if len(edges) == 1:
        counts = [len(finite)]
    else:
        # right-closed inner bins; the first bin includes the minimum
        index = np.clip(np.searchsorted(edges, finite, side="left") - 1, 0, len(edges) - 2)
        counts = np.bincount(index, minlength=len(edges) - 1).tolist()
    return NumericProfile(
        count=len(finite),
        nulls=nulls,
        mean=_f(finite.mean()),
        std=_f(finite.std(ddof=1) if len(finite) > 1 else 0.0),
        min=_f(finite.min()),
        max=_f(finite.max()),
        edges=[float(e) for e in edges],
        counts=[int(c) for c in counts],
    )


def _categorical(series: pd.Series, max_categories: int) -> CategoricalProfile:
    counts = series.dropna().astype(str).value_counts()
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
