"""Drift monitoring speed and memory: airflow-robust's streamed profile comparison vs scipy per column.

Data (generated with a fixed seed; nothing is downloaded): 25 columns, 20 numeric (normal,
lognormal, uniform, Poisson and bimodal mixtures) and 5 categorical (3 to 200 categories). The
current data shifts 6 numeric and 2 categorical columns. Each path runs in a fresh process, so
peak RSS is measured per path; times exclude imports.

- ``baseline`` (plain scipy per column, what a drift tool without a stored profile does on every
  run): read reference and current Parquet with pandas; for each numeric column
  ``scipy.stats.wasserstein_distance(ref, cur) / np.std(ref)``, for each categorical column value
  counts and ``scipy.spatial.distance.jensenshannon`` (Evidently's defaults above 1,000 rows).
- ``ours``: load the stored reference profile (JSON), stream the current Parquet row group by row
  group into histograms, run the same tests (``airflow_robust.drift``), no reference data read.
- ``profile``: building the reference profile once (what TrainModelOperator does at training time).

At ``--big-rows`` (default 10M) only the current data changes size: it is streamed from Parquet.

Usage: ``python bench/drift.py [--rows 1000000] [--big-rows 10000000] [--repeat 3] [--json PATH]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NUMERIC = 20
CATEGORICAL = 5


def make_part(rows: int, seed: int, drifted: bool):  # type: ignore[no-untyped-def]
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    columns: dict[str, object] = {}
    for i in range(NUMERIC):
        shift = 0.3 if drifted and i % 3 == 0 and i < 18 else 0.0
        kind = i % 5
        if kind == 0:
            values = rng.normal(10 + shift * 5, 5, rows)
        elif kind == 1:
            values = rng.lognormal(1 + shift, 0.7, rows)
        elif kind == 2:
            values = rng.uniform(0, 100 * (1 + shift), rows)
        elif kind == 3:
            values = rng.poisson(6 * (1 + shift), rows).astype(float)
        else:
            values = np.where(rng.random(rows) < 0.5 + shift / 3, rng.normal(-3, 1, rows), rng.normal(3, 1, rows))
        columns[f"num_{i:02d}"] = values
    sizes = [3, 10, 25, 60, 200]
    for j, size in enumerate(sizes):
        weights = np.linspace(1, 3, size)
        if drifted and j in (1, 4):
            weights = weights[::-1]
        columns[f"cat_{j}"] = pd.Categorical.from_codes(
            rng.choice(size, rows, p=weights / weights.sum()), [f"c{k}" for k in range(size)]
        ).astype(str)
    return pd.DataFrame(columns)


def write(path: Path, rows: int, seed: int, drifted: bool, chunk: int = 1_000_000) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    for start in range(0, rows, chunk):
        table = pa.Table.from_pandas(make_part(min(chunk, rows - start), seed + start, drifted), preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=250_000)
    assert writer is not None
    writer.close()


def baseline(reference: str, current: str) -> dict[str, float]:
    import numpy as np
    import pandas as pd
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import wasserstein_distance

    started = time.perf_counter()
    ref, cur = pd.read_parquet(reference), pd.read_parquet(current)
    drifted = 0
    for column in ref.columns:
        if column.startswith("num_"):
            r, c = ref[column].to_numpy(), cur[column].to_numpy()
            drifted += wasserstein_distance(r, c) / np.std(r) >= 0.1
        else:
            keys = sorted(set(ref[column].unique()) | set(cur[column].unique()))
            p = ref[column].value_counts().reindex(keys, fill_value=0).to_numpy(dtype=float)
            q = cur[column].value_counts().reindex(keys, fill_value=0).to_numpy(dtype=float)
            drifted += jensenshannon(p / p.sum(), q / q.sum()) >= 0.1
    return {"seconds": time.perf_counter() - started, "drifted": float(drifted)}


def ours(profile_path: str, current: str) -> dict[str, float]:
    import scipy.spatial.distance
    import scipy.stats  # noqa: F401 - imported before timing, as in the baseline

    from airflow_robust.data.chunks import iter_chunks
    from airflow_robust.data.sources import describe_source
    from airflow_robust.drift.monitor import MonitorSpec, monitor
    from airflow_robust.drift.profile import ReferenceProfile

    started = time.perf_counter()
    with open(profile_path) as handle:
        profile = ReferenceProfile.from_dict(json.load(handle))
    columns = list(profile.columns)
    chunks = iter_chunks(describe_source(current), columns=columns)
    result = monitor(chunks, profile, MonitorSpec(columns=columns))
    return {"seconds": time.perf_counter() - started, "drifted": float(len(result.report.drifted_columns))}


def profile(reference: str, out: str) -> dict[str, float]:
    import pandas as pd

    from airflow_robust.drift.profile import build_profile

    started = time.perf_counter()
    built = build_profile(pd.read_parquet(reference))
    with open(out, "w") as handle:
        json.dump(built.to_dict(), handle)
    return {"seconds": time.perf_counter() - started, "drifted": 0.0}


def child(path: str, *args: str) -> dict[str, float]:
    functions = {"baseline": baseline, "ours": ours, "profile": profile}
    result = functions[path](*args)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def measure(path: str, *args: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", path, *args], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(rows: int, big_rows: int, repeat: int) -> dict[str, object]:
    results: dict[str, object] = {"rows": rows, "big_rows": big_rows, "repeat": repeat}
    with tempfile.TemporaryDirectory(prefix="bench-drift-") as tmp:
        reference, current, big = Path(tmp, "reference.parquet"), Path(tmp, "current.parquet"), Path(tmp, "big.parquet")
        profile_json = str(Path(tmp, "profile.json"))
        write(reference, rows, 1, drifted=False)
        write(current, rows, 2, drifted=True)
        results["profile"] = measure("profile", str(reference), profile_json)
        results["profile_json_mb"] = os.path.getsize(profile_json) / 1e6
        for name, args in (("baseline", (str(reference), str(current))), ("ours", (profile_json, str(current)))):
            runs = [measure(name, *args) for _ in range(repeat)]
            results[name] = {
                "seconds": statistics.median(r["seconds"] for r in runs),
                "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
                "drifted": runs[0]["drifted"],
            }
        if big_rows:
            write(big, big_rows, 3, drifted=True)
            results["big_file_mb"] = big.stat().st_size / 1e6
            results["big_ours"] = measure("ours", profile_json, str(big))
            results["big_baseline"] = measure("baseline", str(reference), str(big))
    return results


def table(results: dict[str, object]) -> str:
    rows, big = results["rows"], results["big_rows"]
    lines = [
        "| path | rows (current) | seconds | peak RSS MB | drifted columns |",
        "|---|---|---|---|---|",
    ]
    for key, label, n in (
        ("baseline", "scipy per column (reads reference + current)", rows),
        ("ours", "airflow-robust (stored profile, streamed current)", rows),
        ("big_baseline", "scipy per column (reads reference + current)", big),
        ("big_ours", "airflow-robust (stored profile, streamed current)", big),
    ):
        r = results.get(key)
        if isinstance(r, dict):
            lines.append(f"| {label} | {n:,} | {r['seconds']:.2f} | {r['peak_rss_mb']:.0f} | {r['drifted']:.0f} |")
    b, o = results["baseline"], results["ours"]
    assert isinstance(b, dict) and isinstance(o, dict)
    lines.append("")
    lines.append(f"Speed-up at {rows:,} rows: {b['seconds'] / o['seconds']:.1f}x (baseline / ours).")
    bb, bo = results.get("big_baseline"), results.get("big_ours")
    if isinstance(bb, dict) and isinstance(bo, dict):
        lines.append(
            f"At {big:,} rows: {bb['seconds'] / bo['seconds']:.1f}x, peak RSS {bo['peak_rss_mb']:.0f} MB "
            f"vs {bb['peak_rss_mb']:.0f} MB."
        )
    p = results["profile"]
    assert isinstance(p, dict)
    lines.append(
        f"Building the reference profile once (training time): {p['seconds']:.2f} s, "
        f"{results['profile_json_mb']:.1f} MB of JSON."
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs="+")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--big-rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "drift.json"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    results = run(args.rows, args.big_rows, args.repeat)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=2))
    print(table(results))


if __name__ == "__main__":
    main()
