"""Load a DataFrame from a URI, SQL or an import-path callable (Airflow-free)."""
