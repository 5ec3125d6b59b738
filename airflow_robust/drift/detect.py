"""Per-column drift tests and the dataset verdict.

``method="auto"`` follows Evidently's widely used defaults. With a reference of at most 1,000
rows: two-proportion z-test for binary columns, Kolmogorov-Smirnov for numeric columns with more
than 5 distinct values, chi-square otherwise (drift when p <= 0.05). With more rows: Wasserstein
distance normalised by the reference standard deviation for numeric columns with more than 5
distinct values, Jensen-Shannon distance otherwise (drift when the distance >= 0.1).
Explicit methods: ``psi`` (reference quantile bins with open outer edges, empty bins floored;
drift when >= 0.1), ``ks``, ``chi2``, ``ztest``, ``jensenshannon``, ``wasserstein``,
``hellinger`` (>= 0.1). The dataset drifts when the share of drifted columns >= ``drift_share``.

Fail closed: a column that cannot be tested (absent from the current data, no non-null values on
either side, a statistic that comes out NaN) counts as drifted, and says why.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from airflow_robust.drift import stats
from airflow_robust.drift.current import CategoricalAccumulator, CurrentData, NumericAccumulator
from airflow_robust.drift.profile import OTHER, CategoricalProfile, NumericProfile, ReferenceProfile
from airflow_robust.exceptions import ConfigurationError

METHODS = ("auto", "ks", "chi2", "ztest", "psi", "jensenshannon", "wasserstein", "hellinger")
P_VALUE_METHODS = ("ks", "chi2", "ztest")
DEFAULT_THRESHOLDS = {
    "ks": 0.05,
    "chi2": 0.05,
    "ztest": 0.05,
    "psi": 0.1,
    "jensenshannon": 0.1,
    "wasserstein": 0.1,
    "hellinger": 0.1,
}
SMALL_REFERENCE = 1000


@dataclass
class ColumnDrift:
    """The test of one column. For p-value methods ``drifted`` means ``p_value <= threshold``."""

    column: str
    kind: str
    method: str
    threshold: float
    drifted: bool
    statistic: float | None = None
    p_value: float | None = None
    exact: bool = True
    error_bound: float | None = None
    reference_rows: int = 0
    current_rows: int = 0
    current_nulls: int = 0
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in asdict(self).items()}


@dataclass
class DriftReport:
    columns: dict[str, ColumnDrift]
    drift_share_threshold: float
    reference_rows: int
    current_rows: int
    unmonitored: list[str] = field(default_factory=list)

    @property
    def drifted_columns(self) -> list[str]:
        return [name for name, col in self.columns.items() if col.drifted]

    @property
    def share(self) -> float:
        return len(self.drifted_columns) / len(self.columns) if self.columns else 1.0

    @property
    def dataset_drift(self) -> bool:
        return not self.columns or self.share >= self.drift_share_threshold


def compare(
    profile: ReferenceProfile,
    current: CurrentData,
    *,
    method: str = "auto",
    column_methods: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    drift_share: float = 0.5,
) -> DriftReport:
    """Test every column of ``current`` against ``profile``."""
    column_methods = dict(column_methods or {})
    for name, chosen in [("method", method), *column_methods.items()]:
        if chosen not in METHODS:
            raise ConfigurationError(f"Unknown drift method {chosen!r} for {name}; use one of {list(METHODS)}")
    limits = {**DEFAULT_THRESHOLDS, **dict(thresholds or {})}
    results: dict[str, ColumnDrift] = {}
    for name, accumulator in current.columns.items():
        chosen = column_methods.get(name, method)
        if name in current.missing:
            results[name] = _undecided(name, accumulator, chosen, limits, "column missing from the current data")
            continue
        results[name] = check_column(name, profile, accumulator, chosen, limits)
    return DriftReport(
        columns=results, drift_share_threshold=drift_share, reference_rows=profile.rows, current_rows=current.rows
    )


def choose_method(profile: ReferenceProfile, accumulator: NumericAccumulator | CategoricalAccumulator) -> str:
    """Evidently's default test for a column (see module docstring)."""
    reference = accumulator.reference
    distinct = _distinct(accumulator)
    numeric = isinstance(reference, NumericProfile) and distinct > 5
    if profile.rows <= SMALL_REFERENCE:
        if distinct <= 2:
            return "ztest"
        return "ks" if numeric else "chi2"
    return "wasserstein" if numeric else "jensenshannon"


def _distinct(accumulator: NumericAccumulator | CategoricalAccumulator) -> int:
    """Distinct non-null values over reference and current (large when not tracked)."""
    if isinstance(accumulator, CategoricalAccumulator):
        return len(set(accumulator.reference.frequencies) | set(accumulator.frequencies))
    if accumulator.reference.values is None or accumulator.frequencies is None:
        return max(accumulator.reference.distinct or 0, 6)
    return len(set(accumulator.reference.values) | set(accumulator.frequencies))


def check_column(
    name: str,
    profile: ReferenceProfile,
    accumulator: NumericAccumulator | CategoricalAccumulator,
    method: str,
    limits: Mapping[str, float],
) -> ColumnDrift:
    chosen = choose_method(profile, accumulator) if method == "auto" else method
    reference = accumulator.reference
    if reference.count == 0:
        return _undecided(name, accumulator, chosen, limits, "no non-null values in the reference")
    if accumulator.count == 0:
        return _undecided(name, accumulator, chosen, limits, "no non-null values in the current data")
    try:
        statistic, p_value, exact, bound = _statistic(chosen, accumulator)
    except _NotApplicable as err:
        return _undecided(name, accumulator, chosen, limits, str(err))
    threshold = float(limits[chosen])
    value = p_value if chosen in P_VALUE_METHODS else statistic
    if value is None or not math.isfinite(value):
        if chosen in P_VALUE_METHODS and p_value == 0.0:
            value = 0.0
        else:
            return _undecided(name, accumulator, chosen, limits, f"{chosen} could not be computed (NaN)")
    drifted = value <= threshold if chosen in P_VALUE_METHODS else value >= threshold
    return ColumnDrift(
        column=name,
        kind=reference.kind,
        method=chosen,
        threshold=threshold,
        drifted=bool(drifted),
        statistic=statistic,
        p_value=p_value,
        exact=exact,
        error_bound=bound,
        reference_rows=reference.count,
        current_rows=accumulator.count,
        current_nulls=accumulator.nulls,
    )


class _NotApplicable(Exception):
    pass


def _statistic(
    method: str, acc: NumericAccumulator | CategoricalAccumulator
) -> tuple[float, float | None, bool, float | None]:
    """(statistic, p-value, exact, error bound)."""
    if method in ("ks", "wasserstein"):
        if not isinstance(acc, NumericAccumulator):
            raise _NotApplicable(f"{method} needs a numeric column")
        if method == "wasserstein":
            return _wasserstein(acc)
        if acc.ref_values is None or acc.le is None or acc.lt is None or acc.ref_value_counts is None:
            raise _NotApplicable("ks needs the reference values (a profile of at most sample_limit rows)")
        d, p = stats.ks_from_counts(acc.ref_values, acc.ref_value_counts, acc.le, acc.lt, acc.count)
        return d, p, True, None
    as_categories = isinstance(acc, CategoricalAccumulator) or method in ("chi2", "ztest") or _distinct(acc) <= 5
    if not as_categories and isinstance(acc, NumericAccumulator):
        reference = acc.reference
        return _binned(method, np.asarray(reference.counts, dtype=float), acc.coarse.with_outer()), None, True, None
    ref, cur = _frequencies(acc)
    if method == "chi2":
        stat, p = stats.chi_square(ref, cur)
        return stat, p, True, None
    if method == "ztest":
        if len(set(ref) | set(cur)) > 2:
            raise _NotApplicable("ztest needs a binary column; use chi2")
        stat, p = stats.z_test(ref, cur)
        return stat, p, True, None
    keys = sorted(set(ref) | set(cur))
    r = np.asarray([ref.get(k, 0) for k in keys], dtype=float)
    c = np.asarray([cur.get(k, 0) for k in keys], dtype=float)
    return _binned(method, r, c), None, True, None


def _binned(method: str, ref: np.ndarray, cur: np.ndarray) -> float:
    if method == "psi":
        return stats.psi(ref, cur)
    if method == "jensenshannon":
        return stats.jensenshannon(ref, cur)
    if method == "hellinger":
        return stats.hellinger(ref, cur)
    raise _NotApplicable(f"{method} does not apply to this column")


def _wasserstein(acc: NumericAccumulator) -> tuple[float, float | None, bool, float | None]:
    """W1 normalised by the reference's population std (exact when both raw samples are at hand)."""
    from scipy.stats import wasserstein_distance

    reference = acc.reference
    std = reference.population_std
    if not std:
        raise _NotApplicable("wasserstein needs a reference with a non-zero standard deviation")
    values = acc.values
    if reference.sample is not None and values is not None:
        return float(wasserstein_distance(reference.sample, values) / std), None, True, None
    fine = acc.fine
    ref_counts = np.asarray(reference.fine_counts or reference.counts, dtype=float)
    distance, bound = stats.wasserstein_binned(
        fine.edges,
        ref_counts,
        fine.counts,
        below=fine.below,
        above=fine.above,
        below_distance=fine.below_distance,
        above_distance=fine.above_distance,
    )
    return distance / std, None, False, bound / std


def _frequencies(acc: NumericAccumulator | CategoricalAccumulator) -> tuple[dict[str, int], dict[str, int]]:
    if isinstance(acc, CategoricalAccumulator):
        return dict(acc.reference.frequencies), dict(acc.frequencies)
    if acc.reference.values is None or acc.frequencies is None:
        raise _NotApplicable("too many distinct values to test as categories; use a numeric method")
    return dict(acc.reference.values), dict(acc.frequencies)


def _undecided(
    name: str, acc: NumericAccumulator | CategoricalAccumulator, method: str, limits: Mapping[str, float], why: str
) -> ColumnDrift:
    reference = acc.reference
    return ColumnDrift(
        column=name,
        kind=reference.kind,
        method=method,
        threshold=float(limits.get(method, math.nan)),
        drifted=True,
        reference_rows=reference.count,
        current_rows=acc.count,
        current_nulls=acc.nulls,
        note=f"cannot decide ({why}): counted as drifted",
    )


def monitored_columns(
    profile: ReferenceProfile, columns: Sequence[str] | None, exclude: Sequence[str] = ()
) -> list[str]:
    """``columns`` (each must be in the profile), else every profiled column but ``exclude``."""
    if columns is not None:
        unknown = [c for c in columns if c not in profile.columns]
        if unknown:
            raise ConfigurationError(f"columns {unknown} are not in the reference profile ({sorted(profile.columns)})")
        return list(columns)
    return [c for c in profile.columns if c not in exclude]


__all__ = ["OTHER", "CategoricalProfile", "ColumnDrift", "DriftReport", "compare", "monitored_columns"]
