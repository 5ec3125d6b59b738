"""DAG-parse cost of airflow-robust, measured against baselines in the same run.

Each figure is the median of N fresh interpreters (default 5):
- ``airflow.sdk``:     ``import airflow.sdk`` alone (the baseline every DAG file pays)
- ``+ airflow_robust``: the extra time to import every operator/sensor/hook module after it
- ``great_expectations`` and ``mlflow``: what a module-level import of either would add

Usage: ``python bench/parse_cost.py [--repeat N] [--json PATH]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time


def _fresh(code: str) -> float:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    return float(out.stdout.strip().splitlines()[-1])


TIMED = "import time; t=time.perf_counter(); {stmt}; print(time.perf_counter()-t)"


def measure(repeat: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {
        "airflow.sdk": [],
        "+ airflow_robust": [],
        "great_expectations": [],
        "mlflow": [],
    }
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-m", "airflow_robust._parse_cost"],
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        samples["airflow.sdk"].append(result["sdk_seconds"])
        samples["+ airflow_robust"].append(result["added_seconds"])
        samples["great_expectations"].append(_fresh(TIMED.format(stmt="import great_expectations")))
        samples["mlflow"].append(_fresh(TIMED.format(stmt="import mlflow")))
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    started = time.time()
    medians = measure(args.repeat)
    base = medians["airflow.sdk"]
    print(f"DAG-parse import cost, median of {args.repeat} fresh interpreters ({sys.version.split()[0]})")
    print(f"{'import':<40}{'seconds':>10}{'x airflow.sdk':>16}")
    for name, label in (
        ("airflow.sdk", "airflow.sdk (baseline)"),
        ("+ airflow_robust", "+ all airflow_robust DAG-facing modules"),
        ("great_expectations", "great_expectations (for comparison)"),
        ("mlflow", "mlflow (for comparison)"),
    ):
        print(f"{label:<40}{medians[name]:>10.3f}{medians[name] / base:>16.3f}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"medians": medians, "repeat": args.repeat, "took_seconds": time.time() - started}, handle)


if __name__ == "__main__":
    main()
