"""Reference profiles and drift statistics (Airflow-free)."""
