"""Drift monitoring speed and memory: airflow-robust vs Evidently and vs scipy per column, in one run.

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
- ``evidently``: Evidently's ``DataDriftPreset`` (reads reference + current, same defaults: normalised
  Wasserstein / Jensen-Shannon distance >= 0.1 above 1,000 rows), run by ``bench/evidently_drift.py``
  in ``.bench/evidently`` (Evidently does not import with pandas 3; ``make bench`` installs it there
  with pandas 2.3). Per-column verdicts are compared with ours.
- ``wide``: the same at ``--wide-columns`` (default 200: 160 numeric, 40 categorical).
- ``sql``: the current data as a PostgreSQL table of ``--big-rows`` rows, monitored with the counts
  computed inside the database (``airflow_robust.drift.sql``), and at ``--rows`` for the memory
  comparison; the worker's peak RSS is measured.

At ``--big-rows`` (default 10M) only the current data changes size: it is streamed from Parquet.

Usage: ``python bench/drift.py [--rows 1000000] [--big-rows 10000000] [--repeat 3] [--json PATH]
[--evidently-python .bench/evidently/bin/python] [--pg postgresql+psycopg2://postgres@127.0.0.1/postgres]``
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
NUMERIC = 20
CATEGORICAL = 5


def make_part(rows: int, seed: int, drifted: bool, numeric: int = NUMERIC, categorical: int = CATEGORICAL):  # type: ignore[no-untyped-def]
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    columns: dict[str, object] = {}
    for i in range(numeric):
        shift = 0.3 if drifted and i % 3 == 0 and i < int(numeric * 0.9) else 0.0
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
    for j in range(categorical):
        size = sizes[j % len(sizes)]
        weights = np.linspace(1, 3, size)
        if drifted and j % 5 in (1, 4):
            weights = weights[::-1]
        columns[f"cat_{j}"] = pd.Categorical.from_codes(
            rng.choice(size, rows, p=weights / weights.sum()), [f"c{k}" for k in range(size)]
        ).astype(str)
    return pd.DataFrame(columns)


def write(
    path: Path,
    rows: int,
    seed: int,
    drifted: bool,
    chunk: int = 1_000_000,
    numeric: int = NUMERIC,
    categorical: int = CATEGORICAL,
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    for start in range(0, rows, chunk):
        part = make_part(min(chunk, rows - start), seed + start, drifted, numeric, categorical)
        table = pa.Table.from_pandas(part, preserve_index=False)
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
    verdicts = {name: bool(column.drifted) for name, column in result.report.columns.items()}
    return {
        "seconds": time.perf_counter() - started,
        "drifted": float(len(result.report.drifted_columns)),
        "columns": verdicts,
    }  # type: ignore[dict-item]


def sql(profile_path: str, url: str, table: str) -> dict[str, float]:
    import scipy.stats  # noqa: F401 - imported before timing, as in the other paths
    import sqlalchemy as sa

    from airflow_robust.drift.detect import compare
    from airflow_robust.drift.profile import ReferenceProfile
    from airflow_robust.drift.sql import accumulate_sql

    engine = sa.create_engine(url)
    started = time.perf_counter()
    with open(profile_path) as handle:
        profile = ReferenceProfile.from_dict(json.load(handle))
    current = accumulate_sql(engine, table, profile, list(profile.columns), is_table=True)
    report = compare(profile, current)
    verdicts = {name: bool(column.drifted) for name, column in report.columns.items()}
    return {
        "seconds": time.perf_counter() - started,
        "drifted": float(len(report.drifted_columns)),
        "columns": verdicts,
    }  # type: ignore[dict-item]


def profile(reference: str, out: str) -> dict[str, float]:
    import pandas as pd

    from airflow_robust.drift.profile import build_profile

    started = time.perf_counter()
    built = build_profile(pd.read_parquet(reference))
    with open(out, "w") as handle:
        json.dump(built.to_dict(), handle)
    return {"seconds": time.perf_counter() - started, "drifted": 0.0}


def child(path: str, *args: str) -> dict[str, float]:
    functions = {"baseline": baseline, "ours": ours, "profile": profile, "sql": sql}
    result = functions[path](*args)
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def measure(path: str, *args: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", path, *args], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def evidently(python: str, reference: str, current: str) -> dict[str, object]:
    script = str(ROOT / "bench" / "evidently_drift.py")
    done = subprocess.run([python, script, reference, current], capture_output=True, text=True, check=True, cwd=ROOT)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    columns = result["columns"]
    assert isinstance(columns, dict)
    result["drifted"] = float(sum(1 for c in columns.values() if c["drifted"]))
    return result


def agreement(ours_result: dict[str, object], theirs: dict[str, object]) -> float:
    mine, other = ours_result["columns"], theirs["columns"]
    assert isinstance(mine, dict) and isinstance(other, dict)
    shared = [c for c in mine if c in other]
    return sum(1 for c in shared if bool(mine[c]) == bool(other[c]["drifted"])) / max(len(shared), 1)


def load_postgres(url: str, table: str, parquet: Path) -> None:
    """COPY a Parquet file into a new PostgreSQL table (double precision / text columns), batch by batch."""
    import io

    import pyarrow.parquet as pq
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    source = pq.ParquetFile(parquet)
    names = source.schema_arrow.names
    types = ["double precision" if n.startswith("num_") else "text" for n in names]
    with engine.begin() as connection:
        connection.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
        columns = ", ".join(f"{n} {t}" for n, t in zip(names, types, strict=True))
        connection.execute(sa.text(f"CREATE UNLOGGED TABLE {table} ({columns})"))
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for batch in source.iter_batches(batch_size=500_000):
            buffer = io.StringIO()
            batch.to_pandas().to_csv(buffer, index=False, header=False)
            buffer.seek(0)
            cursor.copy_expert(f"COPY {table} FROM STDIN WITH (FORMAT csv)", buffer)
        raw.commit()
        cursor.execute(f"ANALYZE {table}")
        raw.commit()
    finally:
        raw.close()
    engine.dispose()


def run(
    rows: int, big_rows: int, repeat: int, evidently_python: str | None, pg: str | None, wide_columns: int
) -> dict[str, object]:
    results: dict[str, object] = {"rows": rows, "big_rows": big_rows, "repeat": repeat, "wide_columns": wide_columns}
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
        ours_runs = [measure("ours", profile_json, str(current)) for _ in range(1)]
        results["ours_columns"] = ours_runs[0]["columns"]
        if evidently_python:
            runs_e = [evidently(evidently_python, str(reference), str(current)) for _ in range(repeat)]
            results["evidently"] = {
                "seconds": statistics.median(float(r["seconds"]) for r in runs_e),  # type: ignore[arg-type]
                "peak_rss_mb": max(float(r["peak_rss_mb"]) for r in runs_e),  # type: ignore[arg-type]
                "drifted": runs_e[0]["drifted"],
                "agreement": agreement(ours_runs[0], runs_e[0]),  # type: ignore[arg-type]
            }
            wide_ref, wide_cur = Path(tmp, "wide_ref.parquet"), Path(tmp, "wide_cur.parquet")
            wide_profile = str(Path(tmp, "wide_profile.json"))
            numeric = int(wide_columns * 0.8)
            write(wide_ref, rows, 11, drifted=False, numeric=numeric, categorical=wide_columns - numeric)
            write(wide_cur, rows, 12, drifted=True, numeric=numeric, categorical=wide_columns - numeric)
            results["wide_profile"] = measure("profile", str(wide_ref), wide_profile)
            wide_ours = measure("ours", wide_profile, str(wide_cur))
            wide_e = evidently(evidently_python, str(wide_ref), str(wide_cur))
            results["wide_ours"] = {k: v for k, v in wide_ours.items() if k != "columns"}
            results["wide_evidently"] = {k: v for k, v in wide_e.items() if k != "columns"}
            results["wide_evidently"]["agreement"] = agreement(wide_ours, wide_e)  # type: ignore[arg-type,index]
        if big_rows:
            write(big, big_rows, 3, drifted=True)
            results["big_file_mb"] = big.stat().st_size / 1e6
            results["big_ours"] = {k: v for k, v in measure("ours", profile_json, str(big)).items() if k != "columns"}
            results["big_baseline"] = measure("baseline", str(reference), str(big))
            if pg:
                database_url = create_database(pg, "airflow_robust_bench")
                load_postgres(database_url, "bench_small", current)
                small = measure("sql", profile_json, database_url, "bench_small")
                results["sql_small"] = {k: v for k, v in small.items() if k != "columns"}
                results["sql_small"]["agreement_with_streamed"] = agreement(
                    small, {"columns": {k: {"drifted": v} for k, v in ours_runs[0]["columns"].items()}}
                )  # type: ignore[index,union-attr]
                started = time.perf_counter()
                load_postgres(database_url, "bench_big", big)
                results["sql_load_seconds"] = time.perf_counter() - started
                results["sql_big"] = {
                    k: v for k, v in measure("sql", profile_json, database_url, "bench_big").items() if k != "columns"
                }
                drop_database(pg, "airflow_robust_bench")
    return results


def run_sql_only(rows: int, big_rows: int, pg: str) -> dict[str, object]:
    """The SQL rows of :func:`run` alone (same data, seeds and profile), for re-measuring the pushdown."""
    results: dict[str, object] = {"rows": rows, "big_rows": big_rows}
    with tempfile.TemporaryDirectory(prefix="bench-drift-sql-") as tmp:
        reference, current, big = Path(tmp, "reference.parquet"), Path(tmp, "current.parquet"), Path(tmp, "big.parquet")
        profile_json = str(Path(tmp, "profile.json"))
        write(reference, rows, 1, drifted=False)
        write(current, rows, 2, drifted=True)
        write(big, big_rows, 3, drifted=True)
        measure("profile", str(reference), profile_json)
        streamed = measure("ours", profile_json, str(current))
        database_url = create_database(pg, "airflow_robust_bench")
        try:
            load_postgres(database_url, "bench_small", current)
            small = measure("sql", profile_json, database_url, "bench_small")
            results["sql_small"] = {k: v for k, v in small.items() if k != "columns"}
            mine, theirs = small["columns"], streamed["columns"]
            assert isinstance(mine, dict) and isinstance(theirs, dict)
            results["agreement_with_streamed"] = sum(bool(mine[c]) == bool(theirs[c]) for c in theirs) / len(theirs)
            load_postgres(database_url, "bench_big", big)
            sql_big = measure("sql", profile_json, database_url, "bench_big")
            results["sql_big"] = {k: v for k, v in sql_big.items() if k != "columns"}
        finally:
            drop_database(pg, "airflow_robust_bench")
    return results


def create_database(admin_url: str, name: str) -> str:
    import sqlalchemy as sa

    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(admin_url: str, name: str) -> None:
    import sqlalchemy as sa

    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


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
    e, we, wo = results.get("evidently"), results.get("wide_evidently"), results.get("wide_ours")
    if isinstance(e, dict) and isinstance(we, dict) and isinstance(wo, dict):
        wide = results["wide_columns"]
        lines += [
            "",
            "| path | data | seconds | peak RSS MB | drifted columns | verdicts equal to Evidently's |",
            "|---|---|---|---|---|---|",
            _row("Evidently DataDriftPreset", f"{rows:,} x 25", e, ""),
            _row("airflow-robust", f"{rows:,} x 25", o, f"{e['agreement']:.0%}"),
            _row("Evidently DataDriftPreset", f"{rows:,} x {wide}", we, ""),
            _row("airflow-robust", f"{rows:,} x {wide}", wo, f"{we['agreement']:.0%}"),
            "",
            f"Speed-up over Evidently: {e['seconds'] / o['seconds']:.1f}x at {rows:,} x 25, "
            f"{we['seconds'] / wo['seconds']:.1f}x at {rows:,} x {wide}; peak RSS {o['peak_rss_mb']:.0f} vs "
            f"{e['peak_rss_mb']:.0f} MB and {wo['peak_rss_mb']:.0f} vs {we['peak_rss_mb']:.0f} MB.",
        ]
    small, sql_big = results.get("sql_small"), results.get("sql_big")
    if isinstance(small, dict) and isinstance(sql_big, dict):
        lines += [
            "",
            "| path (PostgreSQL table, counts computed in the database) | rows | seconds | worker peak RSS MB |",
            "|---|---|---|---|",
            f"| airflow-robust SQL pushdown | {rows:,} | {small['seconds']:.2f} | {small['peak_rss_mb']:.0f} |",
            f"| airflow-robust SQL pushdown | {big:,} | {sql_big['seconds']:.2f} | {sql_big['peak_rss_mb']:.0f} |",
            "",
            f"Verdicts of the SQL path equal the streamed path's on {small['agreement_with_streamed']:.0%} of columns; "
            f"loading {big:,} rows into PostgreSQL (COPY, not timed above) took {results['sql_load_seconds']:.0f} s.",
        ]
    return "\n".join(lines)


def _row(label: str, data: str, r: dict[str, float], agree: str) -> str:
    return f"| {label} | {data} | {r['seconds']:.2f} | {r['peak_rss_mb']:.0f} | {r['drifted']:.0f} | {agree} |"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs="+")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--big-rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "drift.json"))
    parser.add_argument("--wide-columns", type=int, default=200)
    default_python = ROOT / ".bench" / "evidently" / "bin" / "python"
    parser.add_argument("--evidently-python", default=str(default_python) if default_python.exists() else None)
    parser.add_argument("--pg", default=os.environ.get("AIRFLOW_ROBUST_BENCH_PG"))
    parser.add_argument("--sql-only", action="store_true", help="only the PostgreSQL pushdown rows (needs --pg)")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    if args.sql_only:
        print(json.dumps(run_sql_only(args.rows, args.big_rows, args.pg), indent=2))
        return
    results = run(args.rows, args.big_rows, args.repeat, args.evidently_python, args.pg, args.wide_columns)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=2))
    print(table(results))


if __name__ == "__main__":
    main()
