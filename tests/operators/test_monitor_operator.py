"""MonitorDriftOperator on a real MLflow store with the real seattle-weather data.

A random forest is trained (TrainModelOperator) on 2012-2013 and becomes ``@champion``; the
monitor reads the reference profile its training run stored. 2014 and 2015 carry the dataset's
known label shift (fog/sun labelling): target drift and the performance loss must show. Two
random halves of 2012-2013 must not show dataset drift (false-positive control).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from airflow_robust.exceptions import DriftDetected, InvalidParameterError
from airflow_robust.operators.monitor import MonitorDriftOperator
from airflow_robust.operators.train import TrainModelOperator
from airflow_robust.registry.aliases import resolve
from tests.helpers import seattle_weather, write_csv
from tests.operators.test_promotion_operators import run

FEATURES = ["month", "precipitation", "temp_max", "temp_min", "wind"]


@pytest.fixture
def weather(mlflow_store: dict[str, str], tmp_path: Path) -> dict[str, Any]:
    frame = seattle_weather()
    years = {year: frame[frame.date.dt.year.isin(year)] for year in [(2012, 2013), (2014,), (2015,)]}
    paths = {"train": write_csv(years[(2012, 2013)], tmp_path / "2012_2013.csv")}
    for year in (2014, 2015):
        paths[str(year)] = write_csv(years[(year,)], tmp_path / f"{year}.csv")
    result, err = run(
        TrainModelOperator(
            task_id="train",
            estimator="sklearn.ensemble:RandomForestClassifier",
            params={"n_estimators": 100, "max_depth": 8},
            data=paths["train"],
            target="weather",
            features=FEATURES,
            registered_model_name="weather",
        ),
        "train-run",
    )
    assert err is None and result is not None
    client = MlflowClient(tracking_uri=mlflow_store["tracking_uri"])
    client.set_registered_model_alias("weather", "champion", result["version"])
    return {"paths": paths, "version": result["version"], "client": client, "frame": years[(2012, 2013)]}


@pytest.mark.parametrize("year", ["2014", "2015"])
def test_label_shift_of_later_years_is_detected(weather: dict[str, Any], year: str) -> None:
    result, err = run(
        MonitorDriftOperator(
            task_id="monitor",
            reference="models:/weather@champion",
            current=weather["paths"][year],
            on_drift="warn",
            drift_signals=["dataset", "target", "performance"],
        ),
        f"monitor-{year}",
    )
    assert err is None and result is not None
    assert result["target_drift"]["drifted"] and result["target_drift"]["method"] == "chi2"
    assert result["target_drift"]["p_value"] < 1e-6
    assert result["performance"]["loss"] and result["performance"]["metric"] == "f1_macro"
    assert result["drift"] is True and result["status"] == "warned"
    assert set(result["columns"]) == set(FEATURES)
    assert {c["method"] for c in result["columns"].values()} == {"ks"}  # 731 reference rows: Evidently's KS
    client = weather["client"]
    tags = client.get_model_version("weather", weather["version"]).tags
    assert tags["robust.monitor.status"] == "drift" and tags["robust.monitor.run"].startswith("http")
    artifacts = {a.path for a in client.list_artifacts(result["run_id"])}
    assert {"drift_report.html", "worst_columns.png", "drift.json", "decision.json"} <= artifacts
    metrics = client.get_run(result["run_id"]).data.metrics
    assert metrics["target_drift.drifted"] == 1.0 and "drift.temp_max.p_value" in metrics


def test_random_halves_of_the_training_years_show_no_dataset_drift(weather: dict[str, Any], tmp_path: Path) -> None:
    frame = weather["frame"]
    order = np.random.default_rng(7).permutation(len(frame))
    first, second = frame.iloc[order[: len(frame) // 2]], frame.iloc[order[len(frame) // 2 :]]
    result, err = run(
        MonitorDriftOperator(
            task_id="monitor",
            reference=write_csv(first, tmp_path / "first.csv"),
            current=write_csv(second, tmp_path / "second.csv"),
            target="weather",
            columns=FEATURES,
            on_drift="fail",
        ),
        "monitor-halves",
    )
    assert err is None, err
    assert result is not None and result["dataset_drift"] is False and result["drift"] is False
    assert result["drift_share"] < 0.5 and not result["target_drift"]["drifted"]


def test_fail_mode_raises_and_trigger_mode_continues(weather: dict[str, Any]) -> None:
    args = {"reference": "models:/weather@champion", "current": weather["paths"]["2015"], "drift_signals": ["target"]}
    summary, err = run(MonitorDriftOperator(task_id="monitor", on_drift="fail", **args), "monitor-fail")
    assert isinstance(err, DriftDetected) and summary is not None and summary["status"] == "failed"
    assert "target" in str(err)
    summary, err = run(MonitorDriftOperator(task_id="monitor", on_drift="trigger", **args), "monitor-trigger")
    assert err is None and summary is not None and summary["retrain_asset"] == "x-airflow-robust://retrain/weather"
    op = MonitorDriftOperator(task_id="m", on_drift="trigger", **args)
    assert [type(o).__name__ for o in op.outlets] == ["AssetAlias"]  # events only when drift is found


def test_rollback_on_measured_performance_loss(weather: dict[str, Any]) -> None:
    client = weather["client"]
    current = weather["version"]
    second, err = run(
        TrainModelOperator(
            task_id="train",
            estimator="sklearn.ensemble:RandomForestClassifier",
            params={"n_estimators": 50, "max_depth": 6},
            data=weather["paths"]["train"],
            target="weather",
            features=FEATURES,
            registered_model_name="weather",
        ),
        "train-run-2",
    )
    assert err is None and second is not None
    client.set_registered_model_alias("weather", "champion", second["version"])
    client.set_registered_model_alias("weather", "previous_champion", current)
    summary, err = run(
        MonitorDriftOperator(
            task_id="monitor",
            reference="models:/weather@champion",
            current=weather["paths"]["2014"],
            rollback_on_performance_loss=True,
        ),
        "monitor-rollback",
    )
    assert err is None and summary is not None
    assert summary["rollback"] == {"action": "rollback", "version": current, "from": second["version"]}
    assert resolve(client, "weather", "champion") == current


def test_bad_inputs_are_named(weather: dict[str, Any], tmp_path: Path) -> None:
    good = {"reference": "models:/weather@champion", "current": weather["paths"]["2014"]}
    empty = tmp_path / "empty.csv"
    pd.DataFrame(columns=FEATURES).to_csv(empty, index=False)
    cases = [
        ({"reference": "models:/weather@nobody"}, "'reference'"),
        ({"reference": str(tmp_path / "missing.json")}, "'reference'"),
        ({"current": str(tmp_path / "nothing.csv")}, "nothing.csv"),
        ({"columns": ["no_such_column"]}, "'columns'"),
        ({"thresholds": {"ks": 5e9}}, "'thresholds'"),
        ({"method": "magic"}, "'method'"),
        ({"on_drift": "trigger", "reference": write_csv(weather["frame"], tmp_path / "r.csv")}, "'retrain_asset'"),
        ({"current": str(empty)}, "no rows"),
    ]
    for change, expected in cases:
        _, err = run(MonitorDriftOperator(task_id="monitor", **{**good, **change}), "monitor-bad")
        assert err is not None and expected in str(err), (change, err)
        assert not isinstance(err, DriftDetected)
    _, err = run(MonitorDriftOperator(task_id="monitor", **{**good, "drift_share": 0}), "monitor-bad")
    assert isinstance(err, InvalidParameterError)
