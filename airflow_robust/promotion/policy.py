"""The promotion decision: champion/challenger rules, evaluated fail-closed. Pure: no MLflow, no Airflow.

A rule is a dict::

    {"metric": "f1_macro", "direction": "higher",   # required; "lower" for losses/errors
     "min": 0.8, "max": None,                       # bounds on the candidate's value (inclusive)
     "max_regression": 0.01,                        # improvement over the champion >= -0.01
     "min_improvement": 0.0,                        # improvement over the champion >= 0.0
     "relative": False,                             # changes divided by |champion value|
     "require_significant": False}                  # bootstrap lower bound of improvement > 0

``improvement`` is ``candidate - champion`` for ``higher`` and ``champion - candidate`` for
``lower`` (so positive always means better), divided by ``|champion|`` when ``relative``.

Decision table (each check is PASS, FAIL, NO_BASELINE or ERROR):

================================================ ========================================
situation                                        outcome
================================================ ========================================
no rules                                         rejected (nothing to decide on)
candidate metric missing, NaN or inf             FAIL
value outside ``min``/``max``                    FAIL (bounds inclusive)
a rule without any threshold                     ERROR (``parse_rules`` refuses it too)
no champion, change rule                         NO_BASELINE; promoted as a *rubber stamp*
                                                 unless ``on_missing_champion="fail"``
champion metric missing, NaN or inf              FAIL
``relative`` against a champion value of 0       FAIL
champion exists but could not be loaded/scored   ERROR (never a rubber stamp)
tie                                              passes ``max_regression``; fails
                                                 ``min_improvement > 0``
``require_significant`` without a bootstrap      ERROR
any FAIL or ERROR, or a required gate not passed rejected
================================================ ========================================
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_robust.exceptions import ConfigurationError

PASS, FAIL, NO_BASELINE, ERROR = "PASS", "FAIL", "NO_BASELINE", "ERROR"
_NUMBERS = ("min", "max", "max_regression", "min_improvement")
_FLAGS = ("relative", "require_significant")
RULE_KEYS = {"metric", "direction", *_NUMBERS, *_FLAGS}
_TOLERANCE = 1e-12


@dataclass(frozen=True)
class Rule:
    metric: str
    direction: str
    min: float | None = None
    max: float | None = None
    max_regression: float | None = None
    min_improvement: float | None = None
    relative: bool = False
    require_significant: bool = False

    @property
    def compares(self) -> bool:
        return self.max_regression is not None or self.min_improvement is not None or self.require_significant


@dataclass
class Check:
    name: str
    metric: str
    outcome: str
    reason: str
    candidate: float | None = None
    champion: float | None = None
    improvement: float | None = None
    threshold: dict[str, Any] = field(default_factory=dict)


@dataclass
class Decision:
    promotable: bool
    rubber_stamp: bool
    reason: str
    checks: list[Check]


def parse_rules(rules: Any) -> list[Rule]:
    """Rules from their dict form; a ``ConfigurationError`` names the rule and the problem."""
    if not isinstance(rules, Sequence) or isinstance(rules, (str, bytes)):
        raise ConfigurationError(f"rules must be a list of dicts, got {type(rules).__name__}")
    out = []
    for index, raw in enumerate(rules):
        where = f"rule {index}"
        if not isinstance(raw, Mapping):
            raise ConfigurationError(f"{where} must be a dict, got {raw!r}")
        unknown = set(raw) - RULE_KEYS
        if unknown:
            raise ConfigurationError(f"{where} has unknown keys {sorted(unknown)}; allowed: {sorted(RULE_KEYS)}")
        metric = raw.get("metric")
        if not isinstance(metric, str) or not metric:
            raise ConfigurationError(f"{where} needs 'metric' (a metric name), got {metric!r}")
        where = f"rule {index} ({metric})"
        direction = raw.get("direction")
        if direction not in ("higher", "lower"):
            raise ConfigurationError(f"{where} needs 'direction': 'higher' or 'lower', got {direction!r}")
        numbers = _rule_numbers(raw, where)
        flags = _rule_flags(raw, where)
        rule = Rule(
            metric=metric,
            direction=direction,
            min=numbers["min"],
            max=numbers["max"],
            max_regression=numbers["max_regression"],
            min_improvement=numbers["min_improvement"],
            relative=flags["relative"],
            require_significant=flags["require_significant"],
        )
        if rule.min is None and rule.max is None and not rule.compares:
            raise ConfigurationError(
                f"{where} sets no bound: give 'min'/'max' and/or "
                "'max_regression'/'min_improvement'/'require_significant'"
            )
        out.append(rule)
    return out


def _rule_numbers(raw: Mapping[str, Any], where: str) -> dict[str, float | None]:
    numbers: dict[str, float | None] = {}
    for key in _NUMBERS:
        value = raw.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
        ):
            raise ConfigurationError(f"{where}: {key!r} must be a finite number, got {value!r}")
        numbers[key] = None if value is None else float(value)
    if numbers["max_regression"] is not None and numbers["max_regression"] < 0:
        raise ConfigurationError(f"{where}: 'max_regression' must be >= 0, got {numbers['max_regression']!r}")
    low, high = numbers["min"], numbers["max"]
    if low is not None and high is not None and low > high:
        raise ConfigurationError(f"{where}: 'min' {low} is above 'max' {high}")
    return numbers


def _rule_flags(raw: Mapping[str, Any], where: str) -> dict[str, bool]:
    flags = {}
    for key in _FLAGS:
        value = raw.get(key, False)
        if not isinstance(value, bool):
            raise ConfigurationError(f"{where}: {key!r} must be true or false, got {value!r}")
        flags[key] = value
    return flags


def decide(
    rules: Sequence[Rule],
    candidate: Mapping[str, float | None],
    champion: Mapping[str, float | None] | None,
    *,
    champion_error: str | None = None,
    candidate_error: str | None = None,
    already_champion: bool = False,
    on_missing_champion: str = "promote",
    intervals: Mapping[str, tuple[float, float]] | None = None,
    gates: Mapping[str, str] | None = None,
) -> Decision:
    """Evaluate ``rules`` for ``candidate`` against ``champion`` (``None``: there is no champion).

    ``champion_error`` says the champion exists but could not be scored, ``candidate_error`` that
    the candidate could not (an ERROR check); ``already_champion`` is a FAIL. ``intervals`` maps a
    metric to the bootstrap confidence interval of its improvement. ``gates`` maps a required
    upstream gate to the candidate's recorded status (anything but ``"passed"`` fails).
    """
    checks: list[Check] = []
    if candidate_error is not None:
        checks.append(Check("candidate", "", ERROR, f"candidate could not be scored: {candidate_error}"))
    if already_champion:
        checks.append(Check("candidate", "", FAIL, "the candidate already is the champion"))
    for gate, status in (gates or {}).items():
        ok = status == "passed"
        checks.append(
            Check(
                name=f"gate:{gate}",
                metric=gate,
                outcome=PASS if ok else FAIL,
                reason=f"{gate} gate {status}" if status else f"no {gate} gate result on this version",
                threshold={"status": "passed"},
            )
        )
    for rule in rules:
        checks.extend(_rule_checks(rule, candidate, champion, champion_error, (intervals or {}).get(rule.metric)))
    if not rules:
        checks.append(Check("rules", "", ERROR, "no promotion rules configured: nothing to decide on (refused)"))
    failing = [c for c in checks if c.outcome in (FAIL, ERROR)]
    no_baseline = [c for c in checks if c.outcome == NO_BASELINE]
    if no_baseline and on_missing_champion == "fail":
        failing += no_baseline
    rubber_stamp = bool(no_baseline) and not failing
    if failing:
        reason = "; ".join(f"{c.name}: {c.reason}" for c in failing)
    elif rubber_stamp:
        reason = "no champion to compare with: value bounds and gates passed (rubber stamp)"
    else:
        reason = "every rule and gate passed"
    return Decision(promotable=not failing, rubber_stamp=rubber_stamp, reason=reason, checks=checks)


def improvement(rule: Rule, candidate: float, champion: float) -> float:
    delta = candidate - champion if rule.direction == "higher" else champion - candidate
    return delta / abs(champion) if rule.relative else delta


def _finite(value: float | None) -> bool:
    return value is not None and isinstance(value, (int, float)) and math.isfinite(value)


def _rule_checks(
    rule: Rule,
    candidate: Mapping[str, float | None],
    champion: Mapping[str, float | None] | None,
    champion_error: str | None,
    interval: tuple[float, float] | None,
) -> list[Check]:
    value = candidate.get(rule.metric)
    out: list[Check] = []
    if rule.min is None and rule.max is None and not rule.compares:
        return [Check(f"{rule.metric}:rule", rule.metric, ERROR, "the rule sets no threshold: nothing to decide on")]
    if rule.min is not None or rule.max is not None:
        out.append(_bounds_check(rule, value))
    if rule.compares:
        out.append(_change_check(rule, value, champion, champion_error, interval))
    return out


def _bounds_check(rule: Rule, value: float | None) -> Check:
    name = f"{rule.metric}:bounds"
    bounds = {k: v for k, v in (("min", rule.min), ("max", rule.max)) if v is not None}
    if value is None or not _finite(value):
        return Check(name, rule.metric, FAIL, f"candidate {rule.metric} is {value!r}", threshold=bounds)
    inside = (rule.min is None or value >= rule.min - _TOLERANCE) and (
        rule.max is None or value <= rule.max + _TOLERANCE
    )
    reason = f"{value:.6g} {'within' if inside else 'outside'} {bounds}"
    return Check(name, rule.metric, PASS if inside else FAIL, reason, candidate=value, threshold=bounds)


def _change_check(
    rule: Rule,
    value: float | None,
    champion: Mapping[str, float | None] | None,
    champion_error: str | None,
    interval: tuple[float, float] | None,
) -> Check:
    name = f"{rule.metric}:vs_champion"
    threshold: dict[str, Any] = {
        k: v
        for k, v in (
            ("max_regression", rule.max_regression),
            ("min_improvement", rule.min_improvement),
            ("relative", rule.relative),
            ("require_significant", rule.require_significant),
        )
        if v is not None and v is not False  # 0.0 == False: a max_regression of 0.0 must stay in the record
    }
    if not _finite(value):
        return Check(name, rule.metric, FAIL, f"candidate {rule.metric} is {value!r}", threshold=threshold)
    if champion_error is not None:
        return Check(name, rule.metric, ERROR, f"champion could not be scored: {champion_error}", value)
    if champion is None:
        return Check(name, rule.metric, NO_BASELINE, "no champion to compare with", value, threshold=threshold)
    base = champion.get(rule.metric)
    if base is None or not _finite(base):
        return Check(name, rule.metric, FAIL, f"champion {rule.metric} is {base!r}", threshold=threshold)
    assert value is not None
    return _judge_change(rule, name, float(value), float(base), interval, threshold)


def _judge_change(
    rule: Rule, name: str, value: float, base: float, interval: tuple[float, float] | None, threshold: dict[str, Any]
) -> Check:
    """The change check once both values are finite."""
    if rule.relative and base == 0:
        return Check(name, rule.metric, FAIL, "relative change against a champion value of 0 is undefined", value, base)
    gain = improvement(rule, value, base)
    problems = []
    if rule.max_regression is not None and gain < -rule.max_regression - _TOLERANCE:
        problems.append(f"regresses by {-gain:.6g} > max_regression {rule.max_regression:g}")
    if rule.min_improvement is not None and gain < rule.min_improvement - _TOLERANCE:
        problems.append(f"improves by {gain:.6g} < min_improvement {rule.min_improvement:g}")
    if rule.require_significant:
        if interval is None or not all(math.isfinite(x) for x in interval):
            return Check(name, rule.metric, ERROR, "require_significant needs a bootstrap interval", value, base, gain)
        threshold["interval"] = list(interval)
        if interval[0] <= 0:
            problems.append(f"bootstrap lower bound of the improvement {interval[0]:.6g} is not above 0")
    reason = "; ".join(problems) if problems else f"improvement {gain:+.6g} over champion {base:.6g}"
    return Check(name, rule.metric, FAIL if problems else PASS, reason, value, base, gain, threshold)
