"""Batch scoring with a registered model, pinned to one version (Airflow-free)."""
