"""Robustness evaluation: perturbations, degradation curves, slices, calibration (Airflow-free)."""
