"""The MLflow boundary: the ModelStore Protocol, its errors, the robust.* tag names, versions, aliases, the
alias history and the promotion lease (Airflow-free)."""
