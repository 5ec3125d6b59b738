"""Pieces of "any model, any training code" that need no store: flavors, templated monitors, named slices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from airflow_robust.operators.monitor import MonitorDriftOperator
from airflow_robust.registry.flavors import PyfuncClassifier, PyfuncModel, _labels, no_probabilities
from airflow_robust.robustness.checks import run_checks
from airflow_robust.training.estimators import estimator_task


class _Signature:
    def __init__(self, inputs: list[tuple[str, str]], outputs: list[tuple[str, str]]) -> None:
        self.inputs = _Schema(inputs)
        self.outputs = _Schema(outputs)


class _Schema:
    def __init__(self, columns: list[tuple[str, str]]) -> None:
        self.inputs = [type("Spec", (), {"name": n, "type": f"DataType.{t}"})() for n, t in columns]

    def has_input_names(self) -> bool:
        return bool(self.inputs)

    def input_names(self) -> list[str]:
        return [s.name for s in self.inputs]


class _Probabilities:
    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        p = np.clip(frame["x"].to_numpy(dtype=float), 0, 1)
        return pd.DataFrame({"proba_0": 1 - p, "proba_1": p})


class _Labels:
    def predict(self, frame: pd.DataFrame) -> pd.Series:
        return pd.Series(np.where(frame["x"] > 0.5, "yes", "no"))


def test_a_pyfunc_with_probability_columns_is_a_classifier() -> None:
    signature = _Signature([("x", "double")], [("proba_0", "double"), ("proba_1", "double")])
    model = PyfuncModel.wrap(_Probabilities(), signature)
    assert isinstance(model, PyfuncClassifier) and list(model.classes_) == [0, 1]
    frame = pd.DataFrame({"x": [0.1, 0.9, 0.6]})
    assert model.predict(frame).tolist() == [0, 1, 1]
    assert model.predict_proba(frame).shape == (3, 2) and no_probabilities(model) is None
    assert list(model.feature_names_in_) == ["x"] and estimator_task(model) == "classification"


def test_a_pyfunc_with_labels_only_says_why_it_has_no_probabilities() -> None:
    model = PyfuncModel.wrap(_Labels(), _Signature([("x", "double")], [("prediction", "string")]))
    assert not hasattr(model, "predict_proba") and estimator_task(model) is None
    assert model.predict(pd.DataFrame({"x": [0.2, 0.7]})).tolist() == ["no", "yes"]
    reason = no_probabilities(model)
    assert reason is not None and "no class probabilities" in reason and "pyfunc" in reason


def test_probability_column_names_become_labels() -> None:
    assert _labels(["proba_0", "proba_1"]) == [0, 1]
    assert _labels(["probability_cat", "prob_dog", "bird"]) == ["cat", "dog", "bird"]


def test_a_threshold_on_a_skipped_figure_fails_closed_naming_why() -> None:
    checks = run_checks({"ece": None}, {"ece": {"max": 0.1}}, {}, {"ece": "the model gives no class probabilities"})
    assert checks["ece"]["passed"] is False and "no class probabilities" in checks["ece"]["reason"]


def test_a_templated_reference_finds_its_retrain_asset_when_rendered() -> None:
    op = MonitorDriftOperator(task_id="m", reference="{{ params.reference }}", current="/d.csv", on_drift="trigger")
    assert op.retrain_asset is None and [o.name for o in op.outlets] == ["airflow-robust-retrain"]
    op.reference = "models:/churn@champion"  # what rendering gives
    op.check_parameters()
    assert op.retrain_asset == "x-airflow-robust://retrain/churn"
    op.reference = "s3://bucket/reference.parquet"
    op.retrain_asset = None
    with pytest.raises(Exception, match="retrain_asset"):
        op.check_parameters()


def test_the_worst_slice_is_named() -> None:
    from types import SimpleNamespace

    from airflow_robust.robustness.stage import _checks

    report = SimpleNamespace(
        skipped={},
        errors={},
        slices=[
            {"column": "month", "slice": "12", "rows": 45, "metric_name": "accuracy", "metric": 0.51, "overall": 0.66}
        ],
    )
    op = SimpleNamespace(thresholds={"worst_slice_ratio": 0.8})
    checks = _checks(op, report, {"worst_slice_ratio": 0.769}, {"worst_slice_ratio": {"min": 0.8}})  # type: ignore[arg-type]
    assert checks["worst_slice_ratio"]["slice"] == "month=12 (45 rows): accuracy 0.5100 vs 0.6600 overall"
