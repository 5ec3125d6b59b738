"""Task start on a Celery worker, with and without ``airflow_robust.celery``'s preload, in one run.

A Celery worker runs each Airflow task in a fork of its pool process. This bench builds that shape
with real processes: a "worker" interpreter that has imported what Airflow preloads itself
(numpy, Airflow's operators) forks a "task" that imports the modules a gate task imports
(``airflow_robust.celery.PRELOAD`` plus the stage modules) and reports how long that took.

- baseline: the worker as Airflow configures it
- preload:  the same worker after ``airflow_robust.celery.preload()`` (what the
  ``import_modules`` signal runs), so the task finds the modules loaded

Each figure is the median over N workers (default 3) of the task's import time; the ratio is
baseline / preload. Usage: ``python bench/task_start.py [--repeat N] [--json PATH]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

#: the stage modules a gate task imports besides the libraries
STAGES = (
    "airflow_robust.validation.stage",
    "airflow_robust.training.stage",
    "airflow_robust.robustness.stage",
    "airflow_robust.promotion.gate",
)

WORKER = """
import importlib, os, sys, time
import numpy, airflow.providers.standard.operators.python  # what Airflow's worker preloads
from airflow_robust.celery import PRELOAD, preload
if {preload}:
    preload()
read, write = os.pipe()
pid = os.fork()
if pid == 0:  # the task process
    os.close(read)
    t = time.perf_counter()
    for name in PRELOAD + {stages!r}:
        importlib.import_module(name)
    os.write(write, repr(time.perf_counter() - t).encode())
    os._exit(0)
os.close(write)
os.waitpid(pid, 0)
print(os.read(read, 100).decode())
"""


def _task_start(preload: bool) -> float:
    code = WORKER.format(preload=preload, stages=STAGES)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=600)
    return float(out.stdout.strip().splitlines()[-1])


def measure(repeat: int) -> dict[str, float]:
    baseline, preloaded = [], []
    for _ in range(repeat):  # interleaved, so drift in the machine's load hits both alike
        baseline.append(_task_start(preload=False))
        preloaded.append(_task_start(preload=True))
    return {"baseline_s": statistics.median(baseline), "preload_s": statistics.median(preloaded)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    figures = measure(args.repeat)
    ratio = figures["baseline_s"] / max(figures["preload_s"], 1e-6)
    print(f"task import time, baseline (Airflow's preload only): {figures['baseline_s']:.2f} s")
    print(f"task import time, with airflow_robust.celery preload: {figures['preload_s']:.3f} s")
    print(f"ratio baseline / preload: {ratio:.0f}x")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({**figures, "ratio": ratio}, handle, indent=2)


if __name__ == "__main__":
    main()
