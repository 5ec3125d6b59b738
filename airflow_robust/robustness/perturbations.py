"""Perturbations of evaluation data, each applied at several severities.

Every perturbation is deterministic given its ``numpy.random.Generator``. Built-ins (chosen by
column type; ``applies`` says whether one fits the data):

============== ==================================================== =========================
name           what it does at severity ``s``                       default severities
============== ==================================================== =========================
noise          numeric x += N(0, s * std(x))                        0.05, 0.1, 0.25, 0.5
missing        a share ``s`` of feature cells set missing (MCAR)    0.05, 0.1, 0.2, 0.3
categories     a share ``s`` of categorical values resampled from   0.1, 0.2, 0.3, 0.5
               their observed frequencies
scaling        numeric x *= (1 + s) (a unit / calibration shift)    0.05, 0.1, 0.2, 0.5
outliers       a share ``s`` of rows get one numeric feature set    0.01, 0.02, 0.05, 0.1
               to mean +- 5 std
prior_shift    classification: sample weights move a share ``s``   0.1, 0.2, 0.3, 0.5
               of the majority class's mass to the other classes
============== ==================================================== =========================

A user perturbation is ``{"name": ..., "function": "pkg.mod:fn", "severities": [...]}`` with
``fn(features: DataFrame, severity: float, rng: Generator) -> DataFrame``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

Apply = Callable[[pd.DataFrame, Any, float, np.random.Generator], tuple[pd.DataFrame, np.ndarray | None]]


@dataclass(frozen=True)
class Perturbation:
    name: str
    severities: tuple[float, ...]
    apply: Apply
    #: True when only sample weights change (predictions of clean data are reused)
    weights_only: bool = False


def numeric_columns(frame: pd.DataFrame) -> list[str]:
    return [
        c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    ]


def categorical_columns(frame: pd.DataFrame) -> list[str]:
    numeric = set(numeric_columns(frame))
    return [c for c in frame.columns if c not in numeric and not pd.api.types.is_datetime64_any_dtype(frame[c])]


def _noise(x: pd.DataFrame, y: Any, s: float, rng: np.random.Generator) -> tuple[pd.DataFrame, None]:
    out = x.copy()
    for column in numeric_columns(x):
        values = out[column].astype(float)
        std = float(np.nanstd(values.to_numpy()))
        out[column] = values + rng.normal(0.0, s * std if std > 0 else 0.0, len(out))
    return out, None


def _missing(x: pd.DataFrame, y: Any, s: float, rng: np.random.Generator) -> tuple[pd.DataFrame, None]:
    out = x.copy()
    mask = rng.random(out.shape) < s
    for index, column in enumerate(out.columns):
        if pd.api.types.is_integer_dtype(out[column]) or pd.api.types.is_bool_dtype(out[column]):
            out[column] = out[column].astype(float if column in numeric_columns(x) else object)
        out.loc[mask[:, index], column] = np.nan
    return out, None


def _categories(x: pd.DataFrame, y: Any, s: float, rng: np.random.Generator) -> tuple[pd.DataFrame, None]:
    out = x.copy()
    for column in categorical_columns(x):
        freq = x[column].value_counts(normalize=True, dropna=True)
        if freq.empty:
            continue
        chosen = rng.random(len(out)) < s
        out.loc[chosen, column] = rng.choice(freq.index.to_numpy(), size=int(chosen.sum()), p=freq.to_numpy())
    return out, None


def _scaling(x: pd.DataFrame, y: Any, s: float, rng: np.random.Generator) -> tuple[pd.DataFrame, None]:
    out = x.copy()
    for column in numeric_columns(x):
        out[column] = out[column].astype(float) * (1.0 + s)
    return out, None


def _outliers(x: pd.DataFrame, y: Any, s: float, rng: np.random.Generator) -> tuple[pd.DataFrame, None]:
    out = x.copy()
    columns = numeric_columns(x)
    if not columns:
        return out, None
    rows = np.flatnonzero(rng.random(len(out)) < s)
    which = rng.integers(len(columns), size=len(rows))
    signs = np.where(rng.random(len(rows)) < 0.5, 1.0, -1.0)
    for index, column in enumerate(columns):
        values = x[column].astype(float)
        hit = which == index
        extreme = values.to_numpy(copy=True)
        extreme[rows[hit]] = float(values.mean()) + signs[hit] * 5.0 * float(values.std())
        out[column] = extreme
    return out, None


def _prior_shift(x: pd.DataFrame, y: Any, s: float, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    labels = pd.Series(np.asarray(y))
    prior = labels.value_counts(normalize=True)
    majority = prior.index[0]
    shifted = prior.copy()
    moved = prior[majority] * s
    shifted[majority] -= moved
    others = prior.drop(majority)
    if others.sum() > 0:
        shifted[others.index] += moved * others / others.sum()
    weights = labels.map(shifted / prior).to_numpy(dtype=float)
    return x, weights


BUILTIN: dict[str, Perturbation] = {
    "noise": Perturbation("noise", (0.05, 0.1, 0.25, 0.5), _noise),
    "missing": Perturbation("missing", (0.05, 0.1, 0.2, 0.3), _missing),
    "categories": Perturbation("categories", (0.1, 0.2, 0.3, 0.5), _categories),
    "scaling": Perturbation("scaling", (0.05, 0.1, 0.2, 0.5), _scaling),
    "outliers": Perturbation("outliers", (0.01, 0.02, 0.05, 0.1), _outliers),
    "prior_shift": Perturbation("prior_shift", (0.1, 0.2, 0.3, 0.5), _prior_shift, weights_only=True),
}


def default_perturbations(features: pd.DataFrame, task: str) -> list[Perturbation]:
    """The built-ins that fit ``features`` (numeric ones need numeric columns, and so on)."""
    chosen = ["missing"]
    if numeric_columns(features):
        chosen[:0] = ["noise"]
        chosen += ["scaling", "outliers"]
    if categorical_columns(features):
        chosen.append("categories")
    if task == "classification":
        chosen.append("prior_shift")
    return [BUILTIN[name] for name in chosen]


def user_perturbation(name: str, function: Callable[..., pd.DataFrame], severities: Sequence[float]) -> Perturbation:
    def apply(x: pd.DataFrame, y: Any, s: float, rng: np.random.Generator) -> tuple[pd.DataFrame, None]:
        out = function(x.copy(), s, rng)
        if not isinstance(out, pd.DataFrame) or list(out.columns) != list(x.columns) or len(out) != len(x):
            raise ValueError(f"perturbation {name!r} must return a DataFrame with the same rows and columns")
        return out, None

    return Perturbation(name, tuple(float(s) for s in severities), apply)
