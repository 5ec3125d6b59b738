"""Robustness figures on real bundled data (breast cancer, wine, diabetes): pure domain code, no MLflow."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from airflow_robust.robustness.checks import DEFAULT_THRESHOLDS, run_checks
from airflow_robust.robustness.evaluate import RobustnessSpec, audc, evaluate
from airflow_robust.robustness.perturbations import BUILTIN, default_perturbations
from airflow_robust.robustness.scoring import brier_score, expected_calibration_error
from tests.helpers import breast_cancer_frame, wine_frame


def split(frame: pd.DataFrame, target: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    x = frame.drop(columns=[target])
    return train_test_split(x, frame[target], test_size=0.3, random_state=0)  # type: ignore[return-value]


def spec_for(x: pd.DataFrame, task: str, metric: str, **kw: object) -> RobustnessSpec:
    return RobustnessSpec(task=task, metric=metric, perturbations=default_perturbations(x, task), **kw)  # type: ignore[arg-type]


def robust_classifier() -> object:
    return make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))


def test_fragile_one_nearest_neighbour_fails_where_regularised_model_passes() -> None:
    xtr, xte, ytr, yte = split(breast_cancer_frame(), "target")
    fragile = make_pipeline(SimpleImputer(), KNeighborsClassifier(n_neighbors=1)).fit(xtr, ytr)
    robust = robust_classifier().fit(xtr, ytr)  # type: ignore[attr-defined]
    thresholds = DEFAULT_THRESHOLDS["classification"]
    fragile_report = evaluate(fragile, xte, yte, spec_for(xte, "classification", "f1_macro"))
    robust_report = evaluate(robust, xte, yte, spec_for(xte, "classification", "f1_macro"))
    fragile_checks = run_checks(fragile_report.figures(), thresholds, fragile_report.errors)
    robust_checks = run_checks(robust_report.figures(), thresholds, robust_report.errors)
    assert not fragile_checks["flip_rate"]["passed"]
    assert fragile_report.flip_rate is not None and fragile_report.flip_rate > 0.05
    assert all(c["passed"] for c in robust_checks.values()), robust_checks
    assert fragile_report.audc_by["noise"] < robust_report.audc_by["noise"]


def test_planted_weak_slice_is_found() -> None:
    xtr, xte, ytr, yte = split(breast_cancer_frame(), "target")
    model = robust_classifier().fit(xtr, ytr)  # type: ignore[attr-defined]
    weak = xte["mean texture"] > xte["mean texture"].quantile(0.75)  # plant: corrupt labels in one quartile
    rng = np.random.default_rng(0)
    flip = weak & (rng.random(len(yte)) < 0.5)
    labels = yte.where(~flip, yte.map({"benign": "malignant", "malignant": "benign"}))
    report = evaluate(
        model, xte, labels, spec_for(xte, "classification", "f1_macro", slice_columns=["mean texture", "mean radius"])
    )
    worst = report.slices[0]
    assert worst["column"] == "mean texture" and worst["ratio"] < 0.8
    assert report.worst_slice_ratio == worst["ratio"]
    assert all(s["rows"] >= 30 for s in report.slices)


def test_multiclass_and_calibration_figures() -> None:
    xtr, xte, ytr, yte = split(wine_frame(), "target")
    model = robust_classifier().fit(xtr, ytr)  # type: ignore[attr-defined]
    report = evaluate(model, xte, yte, spec_for(xte, "classification", "accuracy"))
    assert report.clean_metric > 0.9
    assert report.ece is not None and 0 <= report.ece < 0.2
    assert report.brier is not None and 0 <= report.brier < 0.3
    assert set(report.audc_by) == {"noise", "missing", "scaling", "outliers", "prior_shift"}
    assert report.dummy_gain is not None and report.dummy_gain > 0.5


def test_regression_on_diabetes() -> None:
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True).frame
    xtr, xte, ytr, yte = split(frame, "target")
    model = make_pipeline(SimpleImputer(), Ridge(alpha=1.0)).fit(xtr, ytr)
    report = evaluate(model, xte, yte, spec_for(xte, "regression", "rmse"))
    assert report.ece is None and "prior_shift" not in report.audc_by
    assert 0.0 <= (report.flip_rate or 0.0) <= 1.0
    assert 0.5 < report.audc <= 1.0
    assert report.dummy_gain is not None and report.dummy_gain > 0  # lower RMSE than predicting the mean
    checks = run_checks(report.figures(), {"ece": {"max": 0.1}}, report.errors)
    assert checks["ece"]["passed"] is False and "could not be computed" in checks["ece"]["reason"]


def test_model_that_rejects_nan_fails_a_check_instead_of_crashing() -> None:
    xtr, xte, ytr, yte = split(breast_cancer_frame(), "target")
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(xtr, ytr)
    report = evaluate(model, xte, yte, spec_for(xte, "classification", "f1_macro"))
    assert "missing" in report.errors and "NaN" in report.errors["missing"]
    assert math.isnan(report.audc)
    checks = run_checks(report.figures(), DEFAULT_THRESHOLDS["classification"], report.errors)
    assert not checks["perturbations"]["passed"] and "missing" in checks["perturbations"]["reason"]
    assert not checks["audc"]["passed"]


def test_same_seed_same_figures_other_seed_other_figures() -> None:
    xtr, xte, ytr, yte = split(breast_cancer_frame(), "target")
    model = make_pipeline(SimpleImputer(), KNeighborsClassifier(n_neighbors=3)).fit(xtr, ytr)
    first = evaluate(model, xte, yte, spec_for(xte, "classification", "f1_macro", seed=7)).to_dict()
    second = evaluate(model, xte, yte, spec_for(xte, "classification", "f1_macro", seed=7)).to_dict()
    third = evaluate(model, xte, yte, spec_for(xte, "classification", "f1_macro", seed=8)).to_dict()
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert first["curves"] != third["curves"]


def test_predictions_are_batched_one_call_per_perturbation() -> None:
    xtr, xte, ytr, yte = split(breast_cancer_frame(), "target")
    model = robust_classifier().fit(xtr, ytr)  # type: ignore[attr-defined]
    report = evaluate(model, xte, yte, spec_for(xte, "classification", "f1_macro"))
    # clean + noise, missing, scaling, outliers (prior_shift reuses the clean predictions)
    assert report.predict_calls == 5
    assert report.predict_rows == len(xte) * (1 + 4 * 4)


def test_audc_and_calibration_formulas() -> None:
    assert audc([0.1, 0.2], [1.0, 1.0]) == 1.0
    assert audc([0.5, 1.0], [0.5, 0.5]) == pytest.approx((0.5 * 0.75 + 0.5 * 0.5) / 1.0)
    assert audc([1.0], [1.3]) == 1.0  # improvement does not offset degradation elsewhere
    assert math.isnan(audc([1.0], [float("nan")]))
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    y = np.array(["a", "b", "b"])
    assert expected_calibration_error(proba, y, ["a", "b"], bins=10) == pytest.approx(
        (abs(1 - 0.9) + abs(1 - 0.8) + abs(0 - 0.6)) / 3
    )
    assert brier_score(proba, y, ["a", "b"]) == pytest.approx((0.02 + 0.08 + 0.72) / 3)
    assert BUILTIN["prior_shift"].weights_only


@pytest.mark.parametrize("metric", ["accuracy", "balanced_accuracy", "f1_macro"])
def test_code_scoring_equals_scikit_learn(metric: str) -> None:
    """The confusion-matrix fast path gives scikit-learn's values, with weights, unseen and unknown (-1) labels."""
    from sklearn import metrics as m

    from airflow_robust.robustness.scoring import score

    sk = {
        "accuracy": m.accuracy_score,
        "balanced_accuracy": m.balanced_accuracy_score,
        "f1_macro": lambda a, b, sample_weight=None: m.f1_score(
            a, b, average="macro", sample_weight=sample_weight, zero_division=0
        ),
    }[metric]
    rng = np.random.default_rng(7)
    for trial in range(60):
        n = int(rng.integers(5, 400))
        y = rng.integers(0, 5, n)
        predicted = np.where(rng.random(n) < 0.7, y, rng.integers(-1, 7, n))  # -1: a label outside the classes
        weights = None if trial % 2 else rng.random(n) * (rng.random(n) > 0.2)
        if weights is not None and weights.sum() == 0:
            continue
        expected = float(sk(y.astype(str), predicted.astype(str), sample_weight=weights))
        assert score(metric, y, predicted, weights) == pytest.approx(expected, abs=1e-12), (trial, metric)
