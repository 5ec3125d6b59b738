"""Print what the demo produced: the registered version, its gates, the champion, and where to look."""

from __future__ import annotations

import os
import sys

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
    return 0


if __name__ == "__main__":
    sys.exit(main())
