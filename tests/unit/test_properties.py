"""Properties (hypothesis) of the promotion decision and of the drift statistics."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from airflow_robust.drift.current import accumulate
from airflow_robust.drift.detect import compare
from airflow_robust.drift.profile import build_profile
from airflow_robust.promotion.policy import Rule, decide

METRICS = ["f1_macro", "accuracy", "rmse", "log_loss"]
finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
broken = st.sampled_from([math.nan, math.inf, -math.inf, None])


@st.composite
def rules(draw: st.DrawFn) -> list[Rule]:
    chosen = draw(st.lists(st.sampled_from(METRICS), min_size=1, max_size=4, unique=True))
    out = []
    for metric in chosen:
        out.append(
            Rule(
                metric=metric,
                direction=draw(st.sampled_from(["higher", "lower"])),
                min=draw(st.none() | finite),
                max=draw(st.none() | finite),
                max_regression=draw(st.none() | st.floats(0, 1e3)),
                # thresholds below the 1e-12 comparison tolerance are float noise, not requirements
                min_improvement=draw(st.none() | st.just(0.0) | st.floats(1e-6, 1e3)),
                relative=draw(st.booleans()),
            )
        )
    return out


@settings(max_examples=200)
@given(rules(), st.data())
def test_nan_candidate_is_never_a_rubber_stamp(rule_list: list[Rule], data: st.DataObject) -> None:
    candidate: dict[str, float | None] = {r.metric: data.draw(finite) for r in rule_list}
    candidate[data.draw(st.sampled_from(list(candidate)))] = data.draw(broken)
    assert not decide(rule_list, candidate, None).promotable


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(rules(), st.data())
def test_never_promotes_when_a_configured_metric_is_nan_or_missing(rule_list: list[Rule], data: st.DataObject) -> None:
    metrics = [r.metric for r in rule_list]
    candidate = {m: data.draw(finite) for m in metrics}
    champion = {m: data.draw(finite) for m in metrics}
    victim = data.draw(st.sampled_from(metrics))
    side = data.draw(st.sampled_from(["candidate", "champion"]))
    value = data.draw(broken)
    target = candidate if side == "candidate" else champion
    if value is None:
        del target[victim]
    else:
        target[victim] = value
    compares = any(r.compares for r in rule_list if r.metric == victim)
    assume(side == "candidate" or compares)  # a champion metric matters only to change rules
    decision = decide(rule_list, candidate, champion)
    assert not decision.promotable


@settings(max_examples=300)
@given(rules(), st.data())
def test_tie_is_symmetric_and_passes_non_regression(rule_list: list[Rule], data: st.DataObject) -> None:
    values = {r.metric: data.draw(st.floats(0.1, 1e3)) for r in rule_list}
    first = decide(rule_list, values, dict(values))
    second = decide(rule_list, dict(values), values)
    assert first.promotable == second.promotable
    assert [c.outcome for c in first.checks] == [c.outcome for c in second.checks]
    for check in first.checks:
        if check.name.endswith(":vs_champion"):
            rule = next(r for r in rule_list if check.name.startswith(r.metric + ":"))
            expect_pass = not (rule.min_improvement and rule.min_improvement > 0)
            assert (check.outcome == "PASS") == expect_pass, (rule, check)


@settings(max_examples=200)
@given(rules(), st.data())
def test_champion_that_cannot_be_scored_is_never_a_rubber_stamp(rule_list: list[Rule], data: st.DataObject) -> None:
    values = {r.metric: data.draw(finite) for r in rule_list}
    decision = decide(rule_list, values, {}, champion_error="OSError: artifact unreadable")
    if any(r.compares for r in rule_list):
        assert not decision.promotable and not decision.rubber_stamp


def _frame(data: st.DataObject, rows: int) -> pd.DataFrame:
    seed = data.draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x": rng.normal(0, 1, rows),
            "heavy": rng.lognormal(0, 2, rows),
            "ints": rng.integers(0, 4, rows).astype(float),
            "cat": rng.choice(["a", "b", "c"], rows),
        }
    )


@settings(max_examples=40, deadline=None)
@given(st.data(), st.integers(50, 3000))
def test_identical_data_shows_no_drift(data: st.DataObject, rows: int) -> None:
    frame = _frame(data, rows)
    profile = build_profile(frame)
    chunk = data.draw(st.integers(7, 500))
    current = accumulate((frame.iloc[i : i + chunk] for i in range(0, rows, chunk)), profile, list(frame.columns))
    report = compare(profile, current)
    assert report.drifted_columns == [], {c: (v.method, v.statistic, v.p_value) for c, v in report.columns.items()}


@settings(max_examples=40, deadline=None)
@given(st.data(), st.integers(50, 3000))
def test_statistics_do_not_depend_on_row_order_or_chunking(data: st.DataObject, rows: int) -> None:
    reference, current = _frame(data, rows), _frame(data, data.draw(st.integers(30, 3000)))
    profile = build_profile(reference)
    shuffled = current.sample(frac=1.0, random_state=data.draw(st.integers(0, 1000)))
    results = []
    for frame, chunk in ((current, len(current)), (shuffled, data.draw(st.integers(5, 400)))):
        acc = accumulate((frame.iloc[i : i + chunk] for i in range(0, len(frame), chunk)), profile, list(frame.columns))
        results.append(compare(profile, acc))
    for name in reference.columns:
        a, b = results[0].columns[name], results[1].columns[name]
        assert a.method == b.method and a.drifted == b.drifted
        for x, y in ((a.statistic, b.statistic), (a.p_value, b.p_value)):
            assert (x is None and y is None) or math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12), (name, x, y)
