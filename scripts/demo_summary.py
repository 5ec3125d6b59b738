"""Print what the demo produced: the registered version, its gates, the champion, and where to look."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from airflow_robust.tracking.config import embedded_config


def main() -> int:
    from mlflow import MlflowClient

    name = os.environ.get("AIRFLOW_ROBUST_EXAMPLE_MODEL", "seattle_weather")
    config = embedded_config()
    client = MlflowClient(tracking_uri=config.tracking_uri)
    versions = client.search_model_versions(f"name = '{name}'", order_by=["version_number DESC"], max_results=1)
    if not versions:
        print(f"No version of {name!r} is registered in {config.tracking_uri}: see $AIRFLOW_HOME/demo.log")
        return 1
    version = versions[0]
    run = client.get_run(version.run_id)
    metrics = ", ".join(f"{k}={v:.3f}" for k, v in sorted(run.data.metrics.items()))
    print()
    print(f"Registered model version: {name} version {version.version}  (models:/{name}/{version.version})")
    print(f"  trained in MLflow run {version.run_id} of DAG run {version.tags.get('airflow.run_id')}")
    print(f"  holdout metrics: {metrics}")
    print(f"  data: {version.tags.get('robust.data.uri')} (digest {version.tags.get('robust.data.digest')})")
    tags = version.tags
    gates = ", ".join(
        f"{gate} {tags.get(f'robust.{gate}.status', '(none)')}" for gate in ("validation", "robustness", "promotion")
    )
    print(f"  gates: {gates}; deploy {tags.get('robust.deploy.status', '(not deployed)')}")
    try:
        champion = client.get_model_version_by_alias(name, "champion").version
    except Exception:  # noqa: BLE001 - no alias yet is a normal outcome to report
        champion = None
    print(f"  @champion -> version {champion}" if champion else "  @champion is not set (the promotion gate said no)")
    print()
    print("Where to look:")
    print(f"  MLflow store:  {config.tracking_uri} (artifacts in {config.artifact_root})")
    print("  MLflow UI:     make ui   then open " + config.model_version_url(name, version.version))
    print("  Airflow UI:    make airflow-ui   then open http://127.0.0.1:8080/dags/robust_promotion_auto")
    print("  Full log:      .airflow/demo.log")
    home = Path(os.environ.get("AIRFLOW_HOME", ".airflow"))
    written = split_task_logs(home / "demo.log", home / "demo-task-logs")
    if written:
        print(f"  Task logs:     {home.name}/demo-task-logs/<task>.log ({', '.join(written)})")
        print("                 `airflow dags test` runs the tasks in-process and writes no Airflow task log files,")
        print("                 so the Airflow UI's Logs tab stays empty for this demo run: read these instead.")
    return 0


START = re.compile(r"\[DAG TEST\] starting task_id=(\S+)")
END = re.compile(r"\[DAG TEST\] end task task_id=(\S+)")


def split_task_logs(log: Path, out: Path) -> list[str]:
    """Each task's lines of the `airflow dags test` output, one file per task; the task ids written."""
    if not log.exists():
        return []
    out.mkdir(parents=True, exist_ok=True)
    tasks: dict[str, list[str]] = {}
    current = None
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        started = START.search(line)
        if started:
            current = started.group(1)
        if current is not None:
            tasks.setdefault(current, []).append(line)
        if END.search(line):
            current = None
    for task, lines in tasks.items():
        (out / f"{task}.log").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return list(tasks)


if __name__ == "__main__":
    sys.exit(main())
