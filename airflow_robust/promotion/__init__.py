"""Promotion: score a candidate against the champion on the same data, decide by rules and verified gates,
record the decision for review (Airflow-free)."""
