"""Evidently's DataDriftPreset on the bench data, run by ``bench/drift.py`` in an interpreter of its own.

Evidently 0.7.23 (the newest on PyPI on 2026-12-01) does not import with pandas 3
(``ImportError: cannot import name 'infer_dtype_from_object'``), so ``make bench`` installs it with
pandas 2.3 in ``.bench/evidently`` and this script runs there. It reads the same Parquet files and
prints one JSON object: seconds (reading included, as for every path), peak RSS, per-column verdicts.

Usage: ``python bench/evidently_drift.py REFERENCE.parquet CURRENT.parquet``
"""

from __future__ import annotations

import json
import sys
import time

from peak_rss import peak_rss_mb


def main(reference: str, current: str) -> None:
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    started = time.perf_counter()
    ref, cur = pd.read_parquet(reference), pd.read_parquet(current)
    numeric = [c for c in ref.columns if c.startswith("num_")]
    categorical = [c for c in ref.columns if c.startswith("cat_")]
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    snapshot = Report([DataDriftPreset()]).run(
        Dataset.from_pandas(cur, data_definition=definition), Dataset.from_pandas(ref, data_definition=definition)
    )
    columns: dict[str, dict[str, object]] = {}
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if not str(config.get("type", "")).endswith("ValueDrift"):
            continue
        method, threshold, value = config["method"], float(config["threshold"]), float(metric["value"])
        is_test = "p_value" in method.lower() or "test" in method.lower()
        columns[config["column"]] = {
            "method": method,
            "value": value,
            "drifted": value < threshold if is_test else value >= threshold,
        }
    seconds = time.perf_counter() - started
    peak = peak_rss_mb()
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak, "columns": columns}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
