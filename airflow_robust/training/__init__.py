"""Fit a scikit-learn estimator on a DataFrame and score it on a holdout (Airflow-free)."""
