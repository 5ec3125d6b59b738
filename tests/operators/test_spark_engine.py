"""Spark as the engine (a local session): the same data validates, monitors and scores as with pandas.

The operators choose Spark from the data reference (``spark:/path/data.parquet``). Validation runs
through GX's Spark data source, drift counts are Spark aggregations, batch scoring is
``mlflow.pyfunc.spark_udf``; each result is compared with the pandas path on the same files.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from airflow_robust.drift.current import accumulate
from airflow_robust.drift.profile import build_profile
from airflow_robust.operators.batch_predict import BatchPredictOperator
from airflow_robust.operators.monitor import MonitorDriftOperator
from airflow_robust.operators.train import TrainModelOperator
from airflow_robust.operators.validate import ValidateDataOperator
from tests.helpers import TaskInstanceStandIn, cancer_split, context_for, seattle_weather
from tests.operators.test_drift_sql import assert_same

SUITE = str(Path(__file__).resolve().parents[2] / "dags" / "suites" / "seattle_weather.json")


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    import shutil

    if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("a Java runtime is required under CI=true (make installs Debian's default-jre-headless)")
        pytest.skip("no Java runtime")
    from airflow_robust.spark.session import spark_session

    session = spark_session()
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def weather(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("spark-weather")
    frame = seattle_weather()
    frame["date"] = frame["date"].dt.strftime("%Y-%m-%d")
    early, late = frame[frame["date"] < "2014"], frame[frame["date"] >= "2014"]
    paths = {"all": root / "all.parquet", "early": root / "early.csv", "late": root / "late.parquet"}
    frame.to_parquet(paths["all"], index=False)
    early.to_csv(paths["early"], index=False)
    late.to_parquet(paths["late"], index=False)
    return {k: str(v) for k, v in paths.items()}


def execute(op: Any, run_id: str = "spark") -> Any:
    return op.execute(context_for(TaskInstanceStandIn(task_id=op.task_id, run_id=run_id)))


def test_validation_through_gx_spark_equals_pandas(
    spark: Any, weather: dict[str, str], mlflow_store: dict[str, str]
) -> None:
    expectations = [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "temp_max"}},
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "temp_max", "min_value": -5, "max_value": 30},
        },
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "weather", "value_set": ["rain", "sun"]}},
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1000}},
    ]
    results = {}
    for engine, data in (("pandas", weather["all"]), ("spark", f"spark:{weather['all']}")):
        op = ValidateDataOperator(task_id=f"validate_{engine}", data=data, expectations=expectations, on_failure="warn")
        results[engine] = execute(op)
    pandas_result, spark_result = results["pandas"], results["spark"]
    assert spark_result["success"] is pandas_result["success"] is False
    assert spark_result["rows"] == pandas_result["rows"] == 1461
    assert spark_result["statistics"] == pandas_result["statistics"]
    failed = {f["expectation"]: f.get("unexpected_count") for f in pandas_result["failed_expectations"]}
    assert {f["expectation"]: f.get("unexpected_count") for f in spark_result["failed_expectations"]} == failed
    assert len(failed) == 2 and all(count and count > 0 for count in failed.values())

    # the example's suite passes on both engines
    for data in (weather["all"], f"spark:{weather['all']}"):
        assert execute(ValidateDataOperator(task_id="validate_suite", data=data, expectations=SUITE))["success"]


def test_drift_counted_by_spark_equals_streamed(
    spark: Any, weather: dict[str, str], mlflow_store: dict[str, str]
) -> None:
    late = pd.read_parquet(weather["late"])
    profile = build_profile(pd.read_csv(weather["early"]).drop(columns=["date"]), target="weather")
    columns = list(profile.columns)
    from airflow_robust.spark.drift import accumulate_spark

    assert_same(
        accumulate([late], profile, columns), accumulate_spark(spark.read.parquet(weather["late"]), profile, columns)
    )

    summaries = {}
    for engine, current in (("streamed", weather["late"]), ("spark", f"spark:{weather['late']}")):
        op = MonitorDriftOperator(
            task_id=f"monitor_{engine}", reference=weather["early"], current=current, target="weather", on_drift="warn"
        )
        summaries[engine] = execute(op)
    assert summaries["spark"]["engine"] == "spark" and summaries["streamed"]["engine"] == "streamed"
    for key in ("drift", "dataset_drift", "drifted_columns", "drift_share", "current_rows"):
        assert summaries["spark"][key] == summaries["streamed"][key], key
    assert summaries["spark"]["target_drift"]["drifted"] is True


def test_batch_scoring_with_spark_udf_equals_pandas(spark: Any, tmp_path: Path, mlflow_store: dict[str, str]) -> None:
    data = cancer_split(tmp_path)
    test = pd.read_csv(data["test"])
    test_parquet = tmp_path / "test.parquet"
    test.to_parquet(test_parquet, index=False)
    trained = execute(
        TrainModelOperator(
            task_id="train",
            estimator="sklearn.linear_model:LogisticRegression",
            params={"max_iter": 5000},
            data=data["train"],
            target="target",
            registered_model_name="cancer_spark",
        )
    )
    outputs = {"pandas": tmp_path / "pandas.parquet", "spark": tmp_path / "spark_out.parquet"}
    for engine, source in (("pandas", str(test_parquet)), ("spark", f"spark:{test_parquet}")):
        summary = execute(
            BatchPredictOperator(
                task_id=f"score_{engine}",
                model_uri=trained["model_uri"],
                data=source,
                output_uri=str(outputs[engine]),
                passthrough_columns=["mean radius", "target"],
            )
        )
        assert summary["rows"] == len(test)
    pandas_out = pd.read_parquet(outputs["pandas"]).sort_values(["mean radius", "target"]).reset_index(drop=True)
    spark_out = pd.read_parquet(outputs["spark"]).sort_values(["mean radius", "target"]).reset_index(drop=True)
    assert spark_out["prediction"].astype(str).tolist() == pandas_out["prediction"].astype(str).tolist()
    assert set(spark_out["model_version"].astype(str)) == {str(trained["version"])}
