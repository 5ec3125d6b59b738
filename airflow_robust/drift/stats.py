"""Drift statistics computed from counts, so current data can be streamed into histograms.

Exact (equal to scipy on the same inputs, tested to 1e-6):

- :func:`ks_from_counts`: two-sample Kolmogorov-Smirnov statistic and p-value from the sorted
  reference values and, for each of them, how many current values are ``<=`` and ``<`` it. Both
  CDFs are step functions, so the supremum is found among these points; the p-value follows
  ``scipy.stats.ks_2samp(method="auto")``: exact for samples of at most 10,000, else Smirnov's
  asymptotic distribution.
- :func:`chi_square` (Evidently's: expected = reference frequencies scaled to the current size),
  :func:`z_test` (two-proportion z-test), and :func:`psi`, :func:`jensenshannon`,
  :func:`hellinger` on given bin counts.

Approximate, with a bound computed from the same counts:

- :func:`wasserstein_binned`: the 1-Wasserstein distance ``integral |F_ref - F_cur| dx`` from
  counts on the reference's fine quantile grid, interpolating both CDFs linearly inside each bin.
  Outside the reference range it is exact (the sums of distances of current values beyond the
  outer edges are tracked). Inside bin ``i`` of width ``w`` the difference of the CDFs stays in
  ``[a - q, a + p]`` (``a`` its value at the bin's left edge, ``p``/``q`` the bin's reference and
  current mass), so the exact integral and the interpolation both lie between ``w*min|D|`` and
  ``w*max|D|`` over that range: the returned bound is the sum of those widths of uncertainty,
  and ``|approximation - exact| <= bound`` always holds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

FLOOR = 1e-4  # PSI: empty bins count as this share (as Evidently does)


def ks_pvalue(d: float, n1: int, n2: int) -> float:
    """Two-sided p-value of KS statistic ``d`` for sample sizes ``n1``/``n2``, as ``ks_2samp(method='auto')``."""
    from scipy.stats import distributions

    if max(n1, n2) <= 10_000:
        try:
            from scipy.stats._stats_py import _attempt_exact_2kssamp

            g = math.gcd(n1, n2)
            success, _, prob = _attempt_exact_2kssamp(n1, n2, g, d, "two-sided")
            if success:
                return float(np.clip(prob, 0.0, 1.0))
        except ImportError:  # a scipy without the private helper: asymptotic below
            pass
    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = m * n / (m + n)
    return float(np.clip(distributions.kstwo.sf(d, np.round(en)), 0.0, 1.0))


def ks_from_counts(
    ref_values: np.ndarray, ref_counts: np.ndarray, cur_le: np.ndarray, cur_lt: np.ndarray, n_cur: int
) -> tuple[float, float]:
    """(statistic, p-value) from the reference's distinct sorted values with their counts, and the
    number of current values ``<=`` and ``<`` each of them (see module docstring)."""
    n_ref = int(ref_counts.sum())
    if n_ref == 0 or n_cur == 0:
        return math.nan, math.nan
    f_ref = np.cumsum(ref_counts) / n_ref  # F_ref at each reference value (right-continuous)
    f_cur_at = cur_le / n_cur  # F_cur at each reference value
    f_cur_before = cur_lt / n_cur  # F_cur just before each reference value
    # between consecutive reference values F_ref is flat: compare with F_cur's ends of the interval
    before_next = np.append(f_cur_before[1:], 1.0)
    prev_ref = np.insert(f_ref[:-1], 0, 0.0)
    d = max(
        float(np.max(np.abs(f_ref - f_cur_at))),
        float(np.max(np.abs(f_ref - before_next))),
        float(np.max(np.abs(prev_ref - f_cur_before))),
    )
    return d, ks_pvalue(d, n_ref, n_cur)


def _aligned(ref: Mapping[str, float], cur: Mapping[str, float]) -> tuple[list[str], np.ndarray, np.ndarray]:
    keys = sorted(set(ref) | set(cur))
    return (
        keys,
        np.asarray([float(ref.get(k, 0)) for k in keys]),
        np.asarray([float(cur.get(k, 0)) for k in keys]),
    )


def chi_square(ref: Mapping[str, float], cur: Mapping[str, float]) -> tuple[float, float]:
    """Chi-square goodness of fit of current frequencies against the reference's, scaled to the current size."""
    from scipy.stats import chisquare

    _, r, c = _aligned(ref, cur)
    if r.sum() == 0 or c.sum() == 0:
        return math.nan, math.nan
    expected = r * (c.sum() / r.sum())
    if np.any((expected == 0) & (c > 0)):
        return math.inf, 0.0  # a category the reference never saw: certain change
    keep = expected > 0
    stat, p = chisquare(c[keep], expected[keep])
    return float(stat), float(p)


def z_test(ref: Mapping[str, float], cur: Mapping[str, float]) -> tuple[float, float]:
    """Two-proportion z-test on the share of the first category (binary columns)."""
    from scipy.stats import norm

    keys, r, c = _aligned(ref, cur)
    n1, n2 = r.sum(), c.sum()
    if n1 == 0 or n2 == 0:
        return math.nan, math.nan
    if len(keys) == 1:
        return 0.0, 1.0
    p1, p2 = r[0] / n1, c[0] / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    denominator = math.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
    if denominator == 0:
        return 0.0, 1.0
    z = (p1 - p2) / denominator
    return float(z), float(2 * (1 - norm.cdf(abs(z))))


def _shares(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total > 0 else np.full(len(counts), math.nan)


def psi(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """Population stability index over the same bins; empty bins floored at 1e-4."""
    p = np.maximum(_shares(np.asarray(ref_counts, dtype=float)), FLOOR)
    q = np.maximum(_shares(np.asarray(cur_counts, dtype=float)), FLOOR)
    return float(np.sum((q - p) * np.log(q / p)))


def jensenshannon(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """Jensen-Shannon distance (natural log, as ``scipy.spatial.distance.jensenshannon``)."""
    from scipy.spatial.distance import jensenshannon as js

    p, q = np.asarray(ref_counts, dtype=float), np.asarray(cur_counts, dtype=float)
    if p.sum() == 0 or q.sum() == 0:
        return math.nan
    return float(js(p / p.sum(), q / q.sum()))


def hellinger(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """Hellinger distance ``sqrt(sum((sqrt(p) - sqrt(q))^2)) / sqrt(2)`` in [0, 1]."""
    p, q = _shares(np.asarray(ref_counts, dtype=float)), _shares(np.asarray(cur_counts, dtype=float))
    return float(np.sqrt(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2)) / math.sqrt(2))


def wasserstein_binned(
    edges: np.ndarray,
    ref_counts: np.ndarray,
    cur_counts: np.ndarray,
    *,
    below: int,
    above: int,
    below_distance: float,
    above_distance: float,
) -> tuple[float, float]:
    """(approximate W1, bound on its error) from counts on ``edges`` (see module docstring).

    ``cur_counts`` are the current values inside ``[edges[0], edges[-1]]`` per bin; ``below``/``above``
    count those outside, and ``below_distance``/``above_distance`` sum their distances to the edge.
    """
    n_ref = float(np.sum(ref_counts))
    n_cur = float(np.sum(cur_counts)) + below + above
    if n_ref == 0 or n_cur == 0:
        return math.nan, math.nan
    tails = (below_distance + above_distance) / n_cur  # exact: F_ref is 0 below and 1 above the range
    if len(edges) < 2:
        return tails, 0.0
    widths = np.diff(edges)
    p = np.asarray(ref_counts, dtype=float) / n_ref
    q = np.asarray(cur_counts, dtype=float) / n_cur
    start = np.concatenate([[0.0], np.cumsum(p)[:-1]]) - (below / n_cur + np.concatenate([[0.0], np.cumsum(q)[:-1]]))
    end = start + p - q
    approx = float(np.sum(widths * _abs_linear_mean(start, end)))
    low, high = start - q, start + p
    largest = np.maximum(np.abs(low), np.abs(high))
    smallest = np.where((low < 0) & (high > 0), 0.0, np.minimum(np.abs(low), np.abs(high)))
    bound = float(np.sum(widths * (largest - smallest)))
    return tails + approx, bound


def _abs_linear_mean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean of |x| for x linear from ``a`` to ``b`` (exact, also when the sign changes)."""
    same_sign = a * b >= 0
    spread = np.abs(a) + np.abs(b)
    crossing = np.divide(a**2 + b**2, 2 * spread, out=np.zeros_like(spread), where=spread > 0)
    result: np.ndarray = np.where(same_sign, (np.abs(a) + np.abs(b)) / 2, crossing)
    return result
