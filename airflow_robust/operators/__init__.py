"""Airflow operators of airflow-robust (cheap to import: no heavy library at module level)."""
