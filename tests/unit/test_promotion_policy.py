"""The promotion decision table, one row per test (pure logic: no MLflow, no Airflow)."""

from __future__ import annotations

import math

import pytest

from airflow_robust.exceptions import ConfigurationError
from airflow_robust.promotion.policy import ERROR, FAIL, NO_BASELINE, PASS, decide, parse_rules

F1_NO_REGRESSION = {"metric": "f1", "direction": "higher", "max_regression": 0.0}
F1_IMPROVES = {"metric": "f1", "direction": "higher", "min_improvement": 0.01}


def outcomes(decision: object) -> dict[str, str]:
    return {c.name: c.outcome for c in decision.checks}  # type: ignore[attr-defined]


def test_no_rules_refuses() -> None:
    d = decide([], {"f1": 0.9}, {"f1": 0.5})
    assert not d.promotable and "no promotion rules" in d.reason
    assert outcomes(d) == {"rules": ERROR}


def test_better_candidate_passes() -> None:
    d = decide(parse_rules([F1_IMPROVES]), {"f1": 0.90}, {"f1": 0.85})
    assert d.promotable and not d.rubber_stamp
    assert outcomes(d) == {"f1:vs_champion": PASS}
    assert d.checks[0].improvement == pytest.approx(0.05)


def test_worse_candidate_fails() -> None:
    d = decide(parse_rules([F1_NO_REGRESSION]), {"f1": 0.80}, {"f1": 0.85})
    assert not d.promotable and "regresses" in d.reason


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, None])
def test_nan_inf_or_missing_candidate_metric_fails(value: float | None) -> None:
    rules = parse_rules([{"metric": "f1", "direction": "higher", "min": 0.0, "max_regression": 1.0}])
    candidate = {} if value is None else {"f1": value}
    d = decide(rules, candidate, {"f1": 0.5})
    assert not d.promotable
    assert outcomes(d) == {"f1:bounds": FAIL, "f1:vs_champion": FAIL}


@pytest.mark.parametrize("value", [math.nan, math.inf, None])
def test_nan_inf_or_missing_champion_metric_fails(value: float | None) -> None:
    champion = {} if value is None else {"f1": value}
    d = decide(parse_rules([F1_NO_REGRESSION]), {"f1": 0.9}, champion)
    assert not d.promotable and outcomes(d) == {"f1:vs_champion": FAIL}
    assert "champion f1" in d.reason


def test_no_champion_bounds_apply_and_change_rules_are_no_baseline_rubber_stamp() -> None:
    rules = parse_rules([{"metric": "f1", "direction": "higher", "min": 0.7, "min_improvement": 0.01}])
    d = decide(rules, {"f1": 0.75}, None)
    assert d.promotable and d.rubber_stamp and "rubber stamp" in d.reason
    assert outcomes(d) == {"f1:bounds": PASS, "f1:vs_champion": NO_BASELINE}
    low = decide(rules, {"f1": 0.65}, None)
    assert not low.promotable and not low.rubber_stamp


def test_no_champion_with_on_missing_champion_fail_rejects() -> None:
    d = decide(parse_rules([F1_IMPROVES]), {"f1": 0.99}, None, on_missing_champion="fail")
    assert not d.promotable and not d.rubber_stamp and "no champion" in d.reason


def test_relative_rule_against_zero_champion_fails() -> None:
    rules = parse_rules([{"metric": "r2", "direction": "higher", "min_improvement": 0.05, "relative": True}])
    d = decide(rules, {"r2": 0.5}, {"r2": 0.0})
    assert not d.promotable and "undefined" in d.reason


def test_relative_change_is_divided_by_absolute_champion() -> None:
    rules = parse_rules([{"metric": "rmse", "direction": "lower", "min_improvement": 0.1, "relative": True}])
    assert decide(rules, {"rmse": 8.9}, {"rmse": 10.0}).promotable  # 11% better
    assert not decide(rules, {"rmse": 9.5}, {"rmse": 10.0}).promotable  # 5% better
    negative = parse_rules([{"metric": "score", "direction": "higher", "min_improvement": 0.1, "relative": True}])
    assert decide(negative, {"score": -0.85}, {"score": -1.0}).promotable  # +0.15 / |-1.0|


def test_unscorable_champion_is_error_never_rubber_stamp() -> None:
    d = decide(parse_rules([F1_NO_REGRESSION]), {"f1": 0.99}, None, champion_error="OSError: model.skops missing")
    assert not d.promotable and not d.rubber_stamp
    assert outcomes(d) == {"f1:vs_champion": ERROR} and "model.skops missing" in d.reason


def test_tie_passes_non_regression_and_fails_min_improvement() -> None:
    assert decide(parse_rules([F1_NO_REGRESSION]), {"f1": 0.85}, {"f1": 0.85}).promotable
    assert not decide(parse_rules([F1_IMPROVES]), {"f1": 0.85}, {"f1": 0.85}).promotable


def test_bounds_are_inclusive() -> None:
    rules = parse_rules([{"metric": "f1", "direction": "higher", "min": 0.8, "max": 0.95}])
    assert decide(rules, {"f1": 0.8}, None).promotable
    assert decide(rules, {"f1": 0.95}, None).promotable
    assert not decide(rules, {"f1": 0.7999}, None).promotable
    improvement = parse_rules([{"metric": "f1", "direction": "higher", "min_improvement": 0.01}])
    assert decide(improvement, {"f1": 0.9}, {"f1": 0.89}).promotable  # exactly 0.01 despite float error


def test_lower_is_better_direction() -> None:
    rules = parse_rules([{"metric": "rmse", "direction": "lower", "max_regression": 0.0, "max": 5.0}])
    assert decide(rules, {"rmse": 3.0}, {"rmse": 3.5}).promotable
    assert not decide(rules, {"rmse": 3.6}, {"rmse": 3.5}).promotable
    assert not decide(rules, {"rmse": 5.1}, None).promotable


def test_significance_needs_the_lower_bound_above_zero() -> None:
    rules = parse_rules([{"metric": "f1", "direction": "higher", "min_improvement": 0.0, "require_significant": True}])
    assert decide(rules, {"f1": 0.9}, {"f1": 0.85}, intervals={"f1": (0.01, 0.09)}).promotable
    d = decide(rules, {"f1": 0.9}, {"f1": 0.85}, intervals={"f1": (-0.02, 0.09)})
    assert not d.promotable and "lower bound" in d.reason
    missing = decide(rules, {"f1": 0.9}, {"f1": 0.85})
    assert not missing.promotable and outcomes(missing) == {"f1:vs_champion": ERROR}


def test_required_gate_not_passed_rejects_even_a_better_model() -> None:
    rules = parse_rules([F1_IMPROVES])
    for status in ("failed", "warned", "", "skipped"):
        d = decide(rules, {"f1": 0.99}, {"f1": 0.5}, gates={"validation": "passed", "robustness": status})
        assert not d.promotable and outcomes(d)["gate:robustness"] == FAIL
    assert decide(rules, {"f1": 0.99}, {"f1": 0.5}, gates={"validation": "passed", "robustness": "passed"}).promotable


def test_one_failing_rule_among_passing_ones_rejects() -> None:
    rules = parse_rules([F1_NO_REGRESSION, {"metric": "log_loss", "direction": "lower", "max": 0.5}])
    d = decide(rules, {"f1": 0.9, "log_loss": 0.7}, {"f1": 0.8})
    assert not d.promotable and outcomes(d) == {"f1:vs_champion": PASS, "log_loss:bounds": FAIL}


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ("f1 > 0.8", "list of dicts"),
        ([{"metric": "f1", "min": 0.8}], "direction"),
        ([{"metric": "f1", "direction": "up", "min": 0.8}], "direction"),
        ([{"direction": "higher", "min": 0.8}], "metric"),
        ([{"metric": "f1", "direction": "higher"}], "sets no bound"),
        ([{"metric": "f1", "direction": "higher", "min": "0.8"}], "'min' must be a finite number"),
        ([{"metric": "f1", "direction": "higher", "min": math.nan}], "'min' must be a finite number"),
        ([{"metric": "f1", "direction": "higher", "min": 0.9, "max": 0.1}], "above 'max'"),
        ([{"metric": "f1", "direction": "higher", "max_regression": -0.1}], "max_regression"),
        ([{"metric": "f1", "direction": "higher", "min": 0.5, "treshold": 1}], "unknown keys"),
        ([{"metric": "f1", "direction": "higher", "min": 0.5, "relative": "yes"}], "'relative' must be true"),
        (["f1"], "must be a dict"),
    ],
)
def test_bad_rules_are_named(rules: object, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        parse_rules(rules)


def test_unscorable_candidate_or_candidate_already_champion_rejects() -> None:
    rules = parse_rules([F1_NO_REGRESSION])
    broken = decide(rules, {}, {"f1": 0.8}, candidate_error="OSError: model.skops missing")
    assert not broken.promotable and outcomes(broken)["candidate"] == ERROR and "model.skops missing" in broken.reason
    again = decide(rules, {"f1": 0.8}, {"f1": 0.8}, already_champion=True)
    assert not again.promotable and not again.rubber_stamp and outcomes(again)["candidate"] == FAIL


def test_a_zero_threshold_is_kept_in_the_record() -> None:
    rules = parse_rules([{"metric": "f1_macro", "direction": "higher", "max_regression": 0.0, "min_improvement": 0}])
    decision = decide(rules, {"f1_macro": 0.8}, {"f1_macro": 0.8})
    change = next(c for c in decision.checks if c.name == "f1_macro:vs_champion")
    assert change.threshold == {"max_regression": 0.0, "min_improvement": 0}
