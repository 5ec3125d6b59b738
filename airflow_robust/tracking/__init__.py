"""MLflow stage runs: one parent run per DAG run, one child run per stage task (Airflow-free)."""
