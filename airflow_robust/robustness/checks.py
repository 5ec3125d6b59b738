"""Thresholds on robustness figures, and the fail-closed verdict.

``thresholds`` maps a figure name to a bound: a number (the default direction of that figure:
a minimum for ``audc``, ``audc.<p>``, ``worst_slice_ratio``, ``dummy_gain``, ``clean_metric``,
``rr.<p>@<s>``; a maximum for ``flip_rate``, ``ece``, ``brier``) or ``{"min": .., "max": ..}``.
A configured figure that is missing, NaN or inf fails its check. Perturbations that crashed the
model always fail the ``perturbations`` check.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from airflow_robust.exceptions import ConfigurationError

DEFAULT_THRESHOLDS: dict[str, dict[str, dict[str, float]]] = {
    "classification": {
        "audc": {"min": 0.9},
        "flip_rate": {"max": 0.05},
        "worst_slice_ratio": {"min": 0.8},
        "ece": {"max": 0.1},
    },
    "regression": {"audc": {"min": 0.9}, "flip_rate": {"max": 0.05}, "worst_slice_ratio": {"min": 0.8}},
}
MAXIMUM_BY_DEFAULT = ("flip_rate", "ece", "brier")
#: figures computed from class probabilities (skipped, with the reason, for a model without them)
NEEDS_PROBABILITIES = ("ece", "brier")
#: figures that are fractions: a bound outside [0, 1] can never be what was meant
FRACTIONS = ("audc", "flip_rate", "worst_slice_ratio", "ece")
_FIGURE = re.compile(
    r"^(clean_metric|audc|flip_rate|worst_slice_ratio|ece|brier|dummy_gain|audc\.[\w.-]+|rr\.[\w.-]+@[\d.e+-]+)$"
)


def _check_figure(name: str, bound: dict[str, float]) -> None:
    if not _FIGURE.match(name):
        raise ConfigurationError(
            f"unknown figure {name!r}; known: clean_metric, audc, audc.<perturbation>, flip_rate, "
            "worst_slice_ratio, ece, brier, dummy_gain, rr.<perturbation>@<severity>"
        )
    if name.split(".", maxsplit=1)[0] in FRACTIONS and not all(0.0 <= v <= 1.0 for v in bound.values()):
        raise ConfigurationError(f"threshold {name!r} is a fraction: its bounds must lie in [0, 1], got {bound!r}")


def normalise(thresholds: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for name, bound in thresholds.items():
        if isinstance(bound, bool):
            raise ConfigurationError(f"threshold {name!r} must be a number or {{'min': .., 'max': ..}}")
        if isinstance(bound, (int, float)):
            if not math.isfinite(bound):
                raise ConfigurationError(f"threshold {name!r} must be a finite number, got {bound!r}")
            out[name] = {"max" if name in MAXIMUM_BY_DEFAULT else "min": float(bound)}
        elif isinstance(bound, Mapping) and bound and set(bound) <= {"min", "max"}:
            if not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in bound.values()
            ):
                raise ConfigurationError(f"threshold {name!r} bounds must be finite numbers, got {dict(bound)!r}")
            out[name] = {k: float(v) for k, v in bound.items()}
        else:
            raise ConfigurationError(f"threshold {name!r} must be a number or {{'min': .., 'max': ..}}, got {bound!r}")
        _check_figure(name, out[name])
    return out


def run_checks(
    figures: Mapping[str, float | None],
    thresholds: Mapping[str, Mapping[str, float]],
    errors: Mapping[str, str],
    skipped: Mapping[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    """One check per configured figure (fail closed on a missing figure, saying why it is missing)."""
    checks: dict[str, dict[str, Any]] = {}
    for name, bound in thresholds.items():
        value = figures.get(name)
        entry: dict[str, Any] = {"value": value, "threshold": dict(bound)}
        if value is None or not math.isfinite(value):
            entry["passed"] = False
            why = (skipped or {}).get(name)
            entry["reason"] = f"{name} could not be computed" + (
                f" ({'; '.join(errors.values())})"
                if errors and name.startswith("audc")
                else (f" ({why})" if why else "")
            )
        else:
            entry["passed"] = bound.get("min", -math.inf) <= value <= bound.get("max", math.inf)
        checks[name] = entry
    checks["perturbations"] = {
        "value": sorted(errors),
        "threshold": "every perturbation evaluates",
        "passed": not errors,
        **({"reason": "; ".join(f"{k}: {v}" for k, v in errors.items())} if errors else {}),
    }
    return checks
