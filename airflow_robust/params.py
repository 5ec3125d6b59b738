"""Parameter constraints declared as data, checked at execute time.

Each operator declares ``PARAMETERS: dict[str, Constraint]``; :func:`validate` checks the
(rendered) values and raises :class:`~airflow_robust.exceptions.InvalidParameterError` with
the fixed message shape. Declaring constraints as data lets one test feed bad values to every
public operator. Pure Python: imports nothing heavy.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_robust.exceptions import InvalidParameterError

_IMPORT_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*[:.][A-Za-z_]\w*$")
_UNRENDERED = re.compile(r"\{\{.*\}\}|\{%.*%\}", re.DOTALL)
_IDENTIFIER_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")


@dataclass(frozen=True)
class Constraint:
    """A named check: ``expected`` is the phrase used in the error message."""

    expected: str
    check: Callable[[Any], bool]
    optional: bool = False
    #: a value that makes the check raise counts as invalid
    example_bad: tuple[Any, ...] = ()

    def accepts(self, value: Any) -> bool:
        if value is None:
            return self.optional
        try:
            return bool(self.check(value))
        except Exception:  # noqa: BLE001 - a check that raises means the value is invalid
            return False

    def or_none(self) -> Constraint:
        return Constraint(f"{self.expected} or None", self.check, optional=True, example_bad=self.example_bad)


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def non_empty_str() -> Constraint:
    return Constraint("a non-empty string", lambda v: _is_str(v) and v.strip() != "", example_bad=("", 3))


def model_name() -> Constraint:
    """A registered model name: no quotes, backslashes or newlines (it goes into MLflow search filters)."""
    return Constraint(
        "a non-empty model name without quotes",
        lambda v: _is_str(v) and v.strip() != "" and len(v) <= 256 and not any(c in v for c in "'\"\\`\n\r"),
        example_bad=("", "bad'name", "x' OR '1'='1"),
    )


_ALIAS = re.compile(r"^[A-Za-z_][\w-]{0,255}$")


def alias_name() -> Constraint:
    """An MLflow alias: letters, digits, ``_`` and ``-``; not ``latest`` nor ``v<digits>`` (reserved)."""
    return Constraint(
        "an alias of letters, digits, '_' or '-' (not 'latest' or 'v<number>')",
        lambda v: _is_str(v) and bool(_ALIAS.match(v)) and v.lower() != "latest" and not re.match(r"^[vV]\d+$", v),
        example_bad=("champ ion", "latest", "v3", ""),
    )


def one_of(*choices: str) -> Constraint:
    listed = ", ".join(repr(c) for c in choices)
    return Constraint(f"one of {listed}", lambda v: _is_str(v) and v in choices, example_bad=("bogus",))


def number_in(low: float, high: float, *, integer: bool = False, low_open: bool = False) -> Constraint:
    kind = "an int" if integer else "a float"
    bracket = "(" if low_open else "["

    def check(v: Any) -> bool:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return False
        if integer and not isinstance(v, int):
            return False
        if not math.isfinite(v):
            return False
        return (v > low if low_open else v >= low) and v <= high

    high_s = "inf)" if math.isinf(high) else f"{_fmt(high)}]"
    return Constraint(f"{kind} in {bracket}{_fmt(low)}, {high_s}", check, example_bad=("x", float("nan"), -1e18))


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else str(x)


def import_path() -> Constraint:
    return Constraint(
        "an import path such as 'package.module:Name'",
        lambda v: _is_str(v) and bool(_IMPORT_PATH.match(v.strip())),
        example_bad=("not a path", 7),
    )


def str_mapping() -> Constraint:
    return Constraint(
        "a dict with string keys",
        lambda v: isinstance(v, Mapping) and all(isinstance(k, str) for k in v),
        example_bad=([1, 2], "x"),
    )


def str_list() -> Constraint:
    return Constraint(
        "a list of non-empty strings",
        lambda v: isinstance(v, Sequence) and not isinstance(v, str) and all(isinstance(x, str) and x != "" for x in v),
        example_bad=("col", [1]),
    )


def boolean() -> Constraint:
    return Constraint("a bool", lambda v: isinstance(v, bool), example_bad=("yes", 1))


def looks_like_callable_path(value: str) -> bool:
    """``package.module:function`` (no slashes): an import-path callable, not a file."""
    return bool(_IDENTIFIER_PATH.match(value.strip()))


def validate(owner: str, constraints: Mapping[str, Constraint], values: Mapping[str, Any]) -> None:
    """Raise :class:`InvalidParameterError` for the first value that breaks its constraint."""
    for name, constraint in constraints.items():
        value = values.get(name)
        if not constraint.accepts(value):
            raise InvalidParameterError(name, owner, constraint.expected, value)
        if isinstance(value, str) and _UNRENDERED.search(value):
            raise InvalidParameterError(
                name,
                owner,
                "a rendered value",
                value,
                detail="It still holds a Jinja template: the field is not templated here, or it was rendered twice.",
            )


#: a registered model version number (``3`` or ``"3"``)
VERSION = Constraint(
    "a registered model version number such as 3 or '3'",
    lambda v: (isinstance(v, int) and not isinstance(v, bool) and v > 0) or (isinstance(v, str) and v.isdigit()),
    example_bad=("latest", 0),
)
