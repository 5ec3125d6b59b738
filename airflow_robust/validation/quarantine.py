"""Split rows by row-level expectation failures: quarantined rows (with the reasons) and clean rows."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from airflow_robust.validation.engine import ExpectationOutcome

REASON_COLUMN = "_failed_expectations"


def split_rows(frame: pd.DataFrame, outcomes: Sequence[ExpectationOutcome]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(quarantined, clean)``: quarantined rows failed at least one row-level expectation.

    ``quarantined`` gets a column ``_failed_expectations`` naming them (``; ``-separated); the
    input frame is not modified.
    """
    reasons: dict[object, list[str]] = {}
    for outcome in outcomes:
        if outcome.success or not outcome.unexpected_index_list:
            continue
        for index in outcome.unexpected_index_list:
            key = index if not isinstance(index, dict) else next(iter(index.values()))
            reasons.setdefault(key, []).append(outcome.spec.label)
    bad = frame.index.isin(list(reasons))
    quarantined = frame.loc[bad].copy()
    quarantined[REASON_COLUMN] = ["; ".join(reasons[i]) for i in quarantined.index]
    return quarantined, frame.loc[~bad].copy()
