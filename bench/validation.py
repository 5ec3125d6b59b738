"""Validation overhead: ValidateDataOperator.execute() against calling GX directly, same data, same run.

Data: seattle-weather (vega-datasets) resampled with replacement to ROWS rows and widened to 15
columns (the real columns plus derived ones), with 25 expectations. Each path runs in a fresh
process (imports excluded from the timing) so peak RSS is measured per path:

- ``gx_direct``: read the Parquet file, an ephemeral GX context, a pandas batch,
  ``ValidationDefinition.run`` with the same expectations and result format (``COMPLETE``).
- ``gx_docs``: the same through a Checkpoint with ``UpdateDataDocsAction`` into a local site:
  GX producing the HTML report the operator also produces.
- ``operator``: ``ValidateDataOperator.execute()``: the same read and validation plus MLflow
  tracking (SQLite), ``decision.json``, result JSON, suite and Data Docs logged as artifacts.

Usage: ``python bench/validation.py [--rows 1000000] [--repeat 3] [--json PATH]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from peak_rss import peak_rss_mb

ROOT = Path(__file__).resolve().parent.parent
SUITE_SIZE = 25


def make_data(rows: int, path: Path) -> None:
    import numpy as np
    from vega_datasets import data as vega

    base = vega.seattle_weather()
    rng = np.random.default_rng(0)
    frame = base.sample(n=rows, replace=True, random_state=0).reset_index(drop=True)
    frame["month"] = frame["date"].dt.month
    frame["year"] = frame["date"].dt.year
    frame["temp_range"] = frame["temp_max"] - frame["temp_min"]
    frame["temp_mean"] = (frame["temp_max"] + frame["temp_min"]) / 2
    frame["wet"] = frame["precipitation"] > 0
    frame["wind_noise"] = frame["wind"] + rng.normal(0, 0.1, rows)
    frame["station"] = rng.choice(["SEA", "BFI", "PAE", "RNT"], rows)
    frame["quality"] = rng.integers(0, 5, rows)
    frame["date"] = frame["date"].dt.strftime("%Y-%m-%d")
    frame.to_parquet(path, index=False)


def expectations() -> list[dict[str, object]]:
    numeric = {
        "precipitation": (0, 300),
        "temp_max": (-30, 50),
        "temp_min": (-30, 50),
        "wind": (0, 40),
        "temp_range": (-5, 40),
        "temp_mean": (-30, 50),
        "wind_noise": (-5, 45),
        "quality": (0, 4),
        "month": (1, 12),
        "year": (2012, 2015),
    }
    specs: list[dict[str, object]] = [{"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}}]
    for column, (low, high) in numeric.items():
        specs.append({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": column}})
        specs.append(
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": column, "min_value": low, "max_value": high},
            }
        )
    specs.append(
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "weather", "value_set": ["drizzle", "rain", "sun", "snow", "fog"]},
        }
    )
    specs.append(
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "station", "value_set": ["SEA", "BFI", "PAE", "RNT"]},
        }
    )
    specs.append({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "date"}})
    specs.append(
        {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "date", "regex": r"^\d{4}-\d{2}-\d{2}$"}}
    )
    return specs[:SUITE_SIZE]


def run_gx_direct(data: str, specs: list[dict[str, object]], docs_dir: str | None = None) -> float:
    import pandas as pd

    from airflow_robust.validation.engine import quiet_gx

    quiet_gx()
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    quiet_gx()
    start = time.perf_counter()
    frame = pd.read_parquet(data)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch_definition = (
        context.data_sources.add_pandas("s").add_dataframe_asset("a").add_batch_definition_whole_dataframe("b")
    )
    suite = context.suites.add(gx.ExpectationSuite(name="suite"))
    for spec in specs:
        suite.add_expectation(ExpectationConfiguration(type=spec["type"], kwargs=spec["kwargs"]).to_domain_obj())
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name="v", data=batch_definition, suite=suite)
    )
    if docs_dir is None:
        result = definition.run(batch_parameters={"dataframe": frame}, result_format={"result_format": "COMPLETE"})
        assert result.success
        return time.perf_counter() - start
    context.add_data_docs_site(
        "local",
        {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": docs_dir},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name="c",
            validation_definitions=[definition],
            actions=[gx.checkpoint.actions.UpdateDataDocsAction(name="d")],
            result_format={"result_format": "COMPLETE"},
        )
    )
    assert checkpoint.run(batch_parameters={"dataframe": frame}).success
    return time.perf_counter() - start


def run_operator(data: str, specs: list[dict[str, object]], workdir: str) -> float:
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{workdir}/mlflow.db"
    sys.path.insert(0, str(ROOT))
    from airflow_robust.hooks.mlflow import MlflowHook
    from airflow_robust.operators.validate import ValidateDataOperator
    from tests.helpers import TaskInstanceStandIn, context_for

    with MlflowHook().applied():  # create the tracking store outside the timing
        pass
    import great_expectations  # noqa: F401 - import cost is not what is measured

    op = ValidateDataOperator(task_id="validate", data=data, expectations=specs)
    start = time.perf_counter()
    result = op.execute(context_for(TaskInstanceStandIn(task_id="validate")))
    elapsed = time.perf_counter() - start
    assert result["success"], result
    return elapsed


def child(mode: str, data: str, workdir: str) -> None:
    specs = expectations()
    if mode == "gx_direct":
        seconds = run_gx_direct(data, specs)
    elif mode == "gx_docs":
        seconds = run_gx_direct(data, specs, docs_dir=os.path.join(workdir, "docs"))
    else:
        seconds = run_operator(data, specs, workdir)
    peak_mb = peak_rss_mb()
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", default=None)
    parser.add_argument("--child", nargs=3, metavar=("MODE", "DATA", "WORKDIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "weather.parquet"
        make_data(args.rows, data)
        samples: dict[str, list[dict[str, float]]] = {"gx_direct": [], "gx_docs": [], "operator": []}
        for index in range(args.repeat):
            for mode, runs in samples.items():
                workdir = Path(tmp) / f"{mode}-{index}"
                workdir.mkdir()
                out = subprocess.run(
                    [sys.executable, __file__, "--child", mode, str(data), str(workdir)],
                    capture_output=True,
                    text=True,
                    check=True,
                    timeout=1800,
                )
                runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    medians = {
        mode: {key: statistics.median(s[key] for s in runs) for key in ("seconds", "peak_mb")}
        for mode, runs in samples.items()
    }
    ratio = medians["operator"]["seconds"] / medians["gx_direct"]["seconds"]
    ratio_docs = medians["operator"]["seconds"] / medians["gx_docs"]["seconds"]
    print(f"Validation of {args.rows:,} rows x 15 columns, {len(expectations())} expectations, median of {args.repeat}")
    print(f"{'path':<12}{'seconds':>10}{'peak RSS MB':>14}")
    for mode, figures in medians.items():
        print(f"{mode:<12}{figures['seconds']:>10.2f}{figures['peak_mb']:>14.0f}")
    print(f"operator / gx_direct = {ratio:.3f}   operator / gx_docs = {ratio_docs:.3f}")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"medians": medians, "ratio": ratio, "ratio_docs": ratio_docs, "rows": args.rows})
        )


if __name__ == "__main__":
    main()
