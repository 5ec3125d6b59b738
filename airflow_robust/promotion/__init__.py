"""What a reviewer of a promotion reads: each gate's key figures and links, and the decision run's plots.

Airflow-free: the promotion operator calls it with an ``MlflowClient`` and the tracking config.
"""
