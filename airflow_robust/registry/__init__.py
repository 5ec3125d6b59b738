"""The MLflow model registry: versions, aliases, promotion decisions (Airflow-free)."""
