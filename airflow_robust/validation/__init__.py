"""Data validation with Great Expectations 1.x: specs, reference suites, running, quarantine (Airflow-free)."""
