"""Drift statistics from streamed counts agree with scipy on the raw data (exact ones to 1e-6),
and the binned Wasserstein distance stays within its stated error bound."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from scipy.spatial.distance import jensenshannon

from airflow_robust.drift.current import accumulate
from airflow_robust.drift.detect import check_column, compare
from airflow_robust.drift.profile import build_profile
from tests.helpers import seattle_weather


def chunks(frame: pd.DataFrame, size: int) -> list[pd.DataFrame]:
    return [frame.iloc[i : i + size] for i in range(0, len(frame), size)]


def column_result(ref: pd.DataFrame, cur: pd.DataFrame, column: str, method: str, chunk: int = 97, **kw):  # type: ignore[no-untyped-def]
    keep_rows = kw.pop("keep_rows", 100_000)
    profile = build_profile(ref, **kw)
    current = accumulate(chunks(cur, chunk), profile, [column], keep_rows=keep_rows)
    return check_column(
        column,
        profile,
        current.columns[column],
        method,
        {
            "ks": 0.05,
            "chi2": 0.05,
            "ztest": 0.05,
            "psi": 0.1,
            "jensenshannon": 0.1,
            "wasserstein": 0.1,
            "hellinger": 0.1,
        },
    )


RNG = np.random.default_rng(0)
KS_CASES = {
    "small normal, shifted": (RNG.normal(0, 1, 300), RNG.normal(0.3, 1, 500)),
    "same distribution": (RNG.normal(0, 1, 700), RNG.normal(0, 1, 900)),
    "asymptotic branch": (RNG.normal(0, 1, 800), RNG.normal(0.05, 1.1, 20_000)),
    "ties (integers)": (RNG.integers(0, 30, 600).astype(float), RNG.integers(2, 33, 750).astype(float)),
    "current outside the reference range": (RNG.uniform(0, 1, 400), RNG.uniform(-2, 3, 400)),
}


@pytest.mark.parametrize("name", list(KS_CASES))
def test_ks_equals_scipy(name: str) -> None:
    ref, cur = KS_CASES[name]
    result = column_result(pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur}), "x", "ks")
    expected = sps.ks_2samp(ref, cur)
    assert result.exact
    assert result.statistic == pytest.approx(float(expected.statistic), abs=1e-9)
    assert result.p_value == pytest.approx(float(expected.pvalue), abs=1e-6)


def test_ks_on_seattle_weather_equals_scipy() -> None:
    frame = seattle_weather()
    ref, cur = frame[frame.date.dt.year == 2012], frame[frame.date.dt.year == 2015]
    for column in ("temp_max", "temp_min", "precipitation", "wind"):
        result = column_result(ref, cur, column, "ks")
        expected = sps.ks_2samp(ref[column], cur[column])
        assert result.statistic == pytest.approx(float(expected.statistic), abs=1e-9), column
        assert result.p_value == pytest.approx(float(expected.pvalue), abs=1e-6), column


def evidently_chi2(ref: pd.Series, cur: pd.Series) -> float:
    keys = sorted(set(ref.dropna()) | set(cur.dropna()))
    r, c = ref.value_counts(), cur.value_counts()
    expected = [r.get(k, 0) * len(cur.dropna()) / len(ref.dropna()) for k in keys]
    return float(sps.chisquare([c.get(k, 0) for k in keys], expected).pvalue)


def test_chi_square_equals_scipy_on_weather_labels() -> None:
    frame = seattle_weather()
    ref, cur = frame[frame.date.dt.year <= 2013], frame[frame.date.dt.year == 2012]
    result = column_result(ref, cur, "weather", "chi2")
    assert result.p_value == pytest.approx(evidently_chi2(ref["weather"], cur["weather"]), abs=1e-6)
    assert result.drifted  # the labelling of 2012 differs from 2013 (the dataset's known label shift)


def test_z_test_equals_the_chi_square_of_the_two_by_two_table() -> None:
    ref = pd.DataFrame({"b": RNG.choice(["yes", "no"], 800, p=[0.3, 0.7])})
    cur = pd.DataFrame({"b": RNG.choice(["yes", "no"], 600, p=[0.4, 0.6])})
    result = column_result(ref, cur, "b", "ztest")
    table = [ref["b"].value_counts().sort_index().to_numpy(), cur["b"].value_counts().sort_index().to_numpy()]
    chi2, p, _, _ = sps.chi2_contingency(table, correction=False)
    assert result.statistic**2 == pytest.approx(chi2, rel=1e-9)
    assert result.p_value == pytest.approx(p, abs=1e-9)


def reference_bins(values: np.ndarray, bins: int = 20) -> np.ndarray:
    edges = np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)))
    edges[0], edges[-1] = -np.inf, np.inf  # open outer edges
    return edges


@pytest.mark.parametrize("method", ["jensenshannon", "psi", "hellinger"])
def test_binned_distances_equal_scipy_on_the_same_bins(method: str) -> None:
    frame = seattle_weather()
    ref, cur = frame[frame.date.dt.year <= 2013], frame[frame.date.dt.year == 2015]
    result = column_result(ref, cur, "temp_max", method)
    edges = reference_bins(ref["temp_max"].to_numpy())
    p = pd.cut(ref["temp_max"], edges, right=True, include_lowest=True).value_counts(sort=False).to_numpy() / len(ref)
    q = pd.cut(cur["temp_max"], edges, right=True, include_lowest=True).value_counts(sort=False).to_numpy() / len(cur)
    if method == "jensenshannon":
        expected = jensenshannon(p, q)
    elif method == "hellinger":
        expected = np.sqrt(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2)) / np.sqrt(2)
    else:
        pf, qf = np.maximum(p, 1e-4), np.maximum(q, 1e-4)
        expected = np.sum((qf - pf) * np.log(qf / pf))
    assert result.statistic == pytest.approx(float(expected), abs=1e-6)


def test_jensenshannon_on_categories_equals_scipy() -> None:
    frame = seattle_weather()
    ref, cur = frame[frame.date.dt.year <= 2013], frame[frame.date.dt.year == 2015]
    result = column_result(ref, cur, "weather", "jensenshannon")
    keys = sorted(set(ref.weather) | set(cur.weather))
    p = ref.weather.value_counts().reindex(keys, fill_value=0).to_numpy(dtype=float)
    q = cur.weather.value_counts().reindex(keys, fill_value=0).to_numpy(dtype=float)
    assert result.statistic == pytest.approx(float(jensenshannon(p / p.sum(), q / q.sum())), abs=1e-9)


def test_wasserstein_exact_when_both_samples_are_at_hand() -> None:
    ref, cur = RNG.gamma(2.0, 3.0, 3000), RNG.gamma(2.2, 3.0, 5000)
    result = column_result(pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur}), "x", "wasserstein")
    assert result.exact and result.error_bound is None
    assert result.statistic == pytest.approx(sps.wasserstein_distance(ref, cur) / np.std(ref), abs=1e-9)


WASSERSTEIN_CASES = {
    "normal shift": (RNG.normal(0, 1, 60_000), RNG.normal(0.2, 1, 80_000)),
    "heavy tail": (RNG.lognormal(0, 1, 60_000), RNG.lognormal(0.1, 1.2, 50_000)),
    "beyond the range": (RNG.uniform(0, 1, 20_000), RNG.uniform(-0.5, 2, 20_000)),
    "integers": (RNG.poisson(4, 30_000).astype(float), RNG.poisson(5, 30_000).astype(float)),
}


@pytest.mark.parametrize("name", list(WASSERSTEIN_CASES))
def test_binned_wasserstein_is_within_its_bound(name: str) -> None:
    ref, cur = WASSERSTEIN_CASES[name]
    result = column_result(
        pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur}), "x", "wasserstein", chunk=7919, keep_rows=0
    )
    exact = sps.wasserstein_distance(ref, cur) / np.std(ref)
    assert not result.exact and result.error_bound is not None
    assert abs(result.statistic - exact) <= result.error_bound + 1e-12
    if name != "integers":  # continuous data on 500 quantile bins: the bound itself is small
        assert result.error_bound < 0.02, result.error_bound


def test_seattle_weather_binned_wasserstein_within_bound() -> None:
    frame = seattle_weather()
    big_ref = pd.concat([frame[frame.date.dt.year <= 2013]] * 3, ignore_index=True)  # > 1000 rows: no raw sample
    cur = frame[frame.date.dt.year == 2015]
    for column in ("temp_max", "temp_min", "precipitation", "wind"):
        result = column_result(big_ref, cur, column, "wasserstein", keep_rows=0, sample_limit=1000)
        exact = sps.wasserstein_distance(big_ref[column], cur[column]) / np.std(big_ref[column])
        assert abs(result.statistic - exact) <= result.error_bound + 1e-12, column


def test_identical_data_shows_no_drift_and_missing_columns_fail_closed() -> None:
    frame = seattle_weather().drop(columns=["date"])
    profile = build_profile(frame)
    report = compare(profile, accumulate(chunks(frame, 200), profile, list(profile.columns)))
    assert report.drifted_columns == [] and not report.dataset_drift
    current = accumulate(chunks(frame.drop(columns=["wind"]), 200), profile, list(profile.columns))
    report = compare(profile, current)
    assert report.drifted_columns == ["wind"] and "missing" in report.columns["wind"].note
