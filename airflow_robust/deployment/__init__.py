"""Deployment: the serving check, the compare-and-set alias move, rollback (Airflow-free)."""
