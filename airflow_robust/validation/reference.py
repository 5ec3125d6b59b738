"""Build a baseline suite from a reference dataset, to be reviewed and pinned.

From the reference frame: the column set; per column its type family; null rate (a column
with no nulls must stay null-free, others may have up to the reference rate plus ``tolerance``);
numeric ranges widened by ``tolerance`` times the observed range; category sets for columns
with at most ``max_categories`` distinct values; and the row count within
``[rows * (1 - row_tolerance), rows * (1 + row_tolerance)]``.
"""

from __future__ import annotations

import math

import pandas as pd

from airflow_robust.validation.spec import ExpectationSpec


def build_reference_suite(
    frame: pd.DataFrame, *, tolerance: float = 0.1, row_tolerance: float = 0.5, max_categories: int = 20
) -> list[ExpectationSpec]:
    specs = [
        ExpectationSpec(
            "expect_table_columns_to_match_set", {"column_set": [str(c) for c in frame.columns], "exact_match": True}
        ),
        ExpectationSpec(
            "expect_table_row_count_to_be_between",
            {
                "min_value": math.floor(len(frame) * (1 - row_tolerance)),
                "max_value": math.ceil(len(frame) * (1 + row_tolerance)),
            },
            severity="warning",
        ),
    ]
    for name in frame.columns:
        column = str(name)
        series = frame[name]
        null_rate = float(series.isna().mean()) if len(series) else 0.0
        if null_rate == 0.0:
            specs.append(ExpectationSpec("expect_column_values_to_not_be_null", {"column": column}))
        else:
            mostly = max(0.0, 1.0 - null_rate - tolerance)
            specs.append(ExpectationSpec("expect_column_values_to_not_be_null", {"column": column, "mostly": mostly}))
        if pd.api.types.is_bool_dtype(series):
            specs.append(
                ExpectationSpec("expect_column_values_to_be_in_set", {"column": column, "value_set": [True, False]})
            )
        elif pd.api.types.is_numeric_dtype(series):
            specs.extend(_numeric(column, series, tolerance))
        elif pd.api.types.is_datetime64_any_dtype(series):
            continue
        else:
            values = series.dropna().astype(str).unique()
            if 0 < len(values) <= max_categories:
                specs.append(
                    ExpectationSpec(
                        "expect_column_values_to_be_in_set", {"column": column, "value_set": sorted(values.tolist())}
                    )
                )
    return specs


def _numeric(column: str, series: pd.Series, tolerance: float) -> list[ExpectationSpec]:
    values = pd.to_numeric(series, errors="coerce").dropna()
    if values.empty:
        return []
    low, high = float(values.min()), float(values.max())
    margin = (high - low) * tolerance or abs(low) * tolerance or tolerance
    return [
        ExpectationSpec(
            "expect_column_values_to_be_between",
            {"column": column, "min_value": low - margin, "max_value": high + margin},
        ),
    ]
