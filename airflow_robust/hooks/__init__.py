"""Airflow hooks of airflow-robust."""
