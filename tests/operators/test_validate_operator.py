"""ValidateDataOperator.execute() with real Great Expectations, real MLflow (SQLite) and real data."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
from mlflow import MlflowClient

from airflow_robust.exceptions import ConfigurationError, DataValidationFailed, InvalidParameterError
from airflow_robust.operators.validate import ValidateDataOperator
from tests.helpers import TaskInstanceStandIn, context_for, seattle_weather, write_csv

SUITE = str(Path(__file__).resolve().parents[2] / "dags" / "suites" / "seattle_weather.json")


def corrupt(frame: pd.DataFrame) -> tuple[pd.DataFrame, set[int]]:
    """Nulls in temp_max (rows 3, 10), an impossible precipitation (row 20), a 60 °C day (row 30)."""
    bad = frame.copy()
    bad.loc[[3, 10], "temp_max"] = None
    bad.loc[20, "precipitation"] = 999.0
    bad.loc[30, "temp_min"] = 60.0
    return bad, {3, 10, 20, 30}


def run(
    op: ValidateDataOperator, **ti_kwargs: Any
) -> tuple[dict[str, Any] | None, TaskInstanceStandIn, Exception | None]:
    ti = TaskInstanceStandIn(task_id=op.task_id, **ti_kwargs)
    try:
        return op.execute(context_for(ti)), ti, None
    except Exception as err:
        return ti.xcom.get("return_value"), ti, err


def sha(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_clean_data_passes_and_everything_is_in_mlflow(mlflow_store: dict[str, str], tmp_path: Path) -> None:
    data = write_csv(seattle_weather(), tmp_path / "weather.csv")
    result, _ti, err = run(ValidateDataOperator(task_id="validate", data=data, expectations=SUITE))
    assert err is None and result is not None
    assert result["success"] is True and result["status"] == "passed"
    assert result["statistics"]["evaluated_expectations"] == 9
    assert result["failed_expectations"] == [] and result["quarantined_rows"] == 0
    assert result["report_uri"].endswith("/validation_report.html")
    assert result["data_docs_uri"].endswith("data_docs/index.html")
    client = MlflowClient(tracking_uri=mlflow_store["tracking_uri"])
    stage = client.get_run(result["run_id"])
    assert stage.info.status == "FINISHED"
    assert stage.data.tags["robust.validation.status"] == "passed"
    assert stage.data.metrics["success_percent"] == 100.0 and stage.data.metrics["evaluated"] == 9
    top = {a.path for a in client.list_artifacts(result["run_id"])}
    assert {"validation_result.json", "suite.json", "decision.json", "data_docs", "validation_report.html"} <= top
    # the page for people: styled inline (MLflow's viewer serves no stylesheet), every expectation listed
    page = Path(client.download_artifacts(result["run_id"], "validation_report.html")).read_text()
    assert "<style>" in page and "stylesheet" not in page and "PASSED" in page
    assert page.count("<tr class=''>") == 9 and "temp_max" in page and f"on {result['rows']:,} rows" in page
    docs = {a.path for a in client.list_artifacts(result["run_id"], "data_docs")}
    assert "data_docs/index.html" in docs
    local = client.download_artifacts(result["run_id"], "validation_result.json")
    assert json.loads(Path(local).read_text())["success"] is True


def test_corrupted_data_fails_closed_quarantines_exactly_the_bad_rows(
    mlflow_store: dict[str, str], tmp_path: Path
) -> None:
    frame, bad_rows = corrupt(seattle_weather())
    data = write_csv(frame, tmp_path / "weather.csv")
    before = sha(data)
    op = ValidateDataOperator(
        task_id="validate",
        data=data,
        expectations=SUITE,
        quarantine_uri=str(tmp_path / "out" / "quarantine.csv"),
        clean_uri=str(tmp_path / "out" / "clean.parquet"),
    )
    summary, _ti, err = run(op)
    assert isinstance(err, DataValidationFailed) and isinstance(err, AirflowFailException)
    assert "temp_max" in str(err) and "precipitation" in str(err)
    # readable from the task log: one line per failed expectation with counts, then where to look
    lines = str(err).splitlines()
    assert lines[0] == "validation gate failed: 3 critical expectation(s) failed:", lines
    assert any(
        line.startswith("  - expect_column_values_to_not_be_null(temp_max): 2 of ") and "rows unexpected" in line
        for line in lines
    ), lines
    quarantine_line = f"Quarantined 4 row(s) (with the failed checks): {tmp_path / 'out' / 'quarantine.csv'}"
    assert quarantine_line in lines, lines
    report = next(line for line in lines if line.startswith("Report (every expectation, failures first): http"))
    assert report.endswith(f"/runs/{summary['run_id'] if summary else ''}/artifacts/validation_report.html"), report
    assert any(line.startswith("GX Data Docs: ") and line.endswith("index.html") for line in lines), lines
    assert err.summary["success"] is False
    assert summary is not None and summary["success"] is False and summary["status"] == "failed"
    assert summary["quarantined_rows"] == 4 and summary["clean_rows"] == len(frame) - 4
    assert summary["statistics"]["critical_failures"] == 3
    quarantined = pd.read_csv(tmp_path / "out" / "quarantine.csv")
    original = frame.reset_index(drop=True)
    assert set(quarantined["temp_max"].isna().to_numpy().nonzero()[0]) == {0, 1}
    assert len(quarantined) == len(bad_rows)
    assert quarantined["_failed_expectations"].str.contains("expect_").all()
    clean = pd.read_parquet(tmp_path / "out" / "clean.parquet")
    assert len(clean) + len(quarantined) == len(original)
    assert sha(data) == before  # the input is never modified
    client = MlflowClient(tracking_uri=mlflow_store["tracking_uri"])
    stage = client.get_run(summary["run_id"])
    assert stage.data.tags["robust.validation.status"] == "failed"
    assert stage.data.metrics["critical_failures"] == 3.0
    assert "decision.json" in {a.path for a in client.list_artifacts(summary["run_id"])}
    page = Path(client.download_artifacts(summary["run_id"], "validation_report.html")).read_text()
    assert "FAILED" in page and page.count("<tr class='fail'>") == 3 and "NOT MET" in page


def test_renamed_column_fails_the_gate_and_names_the_column(mlflow_store: dict[str, str], tmp_path: Path) -> None:
    data = write_csv(seattle_weather().rename(columns={"temp_max": "tmax"}), tmp_path / "weather.csv")
    summary, _, err = run(ValidateDataOperator(task_id="validate", data=data, expectations=SUITE))
    assert isinstance(err, DataValidationFailed)
    assert summary is not None
    failed = " ".join(json.dumps(f) for f in summary["failed_expectations"])
    assert "temp_max" in failed and "expect_table_columns_to_match_set" in failed
    # the message itself names the missing and the unexpected column
    assert (
        "  - expect_table_columns_to_match_set: missing column(s) 'temp_max'; unexpected column(s) 'tmax' (renamed?)"
        in str(err).splitlines()
    ), str(err)


def test_warnings_are_reported_but_do_not_close_the_gate(mlflow_store: dict[str, str], tmp_path: Path) -> None:
    frame = seattle_weather()
    frame.loc[5, "wind"] = 55.0  # only a warning-severity expectation covers wind
    data = write_csv(frame, tmp_path / "weather.csv")
    result, _, err = run(ValidateDataOperator(task_id="validate", data=data, expectations=SUITE))
    assert err is None and result is not None
    assert result["success"] is True and result["failed_expectations"] == []
    assert [w["expectation"] for w in result["warnings"]] == ["expect_column_values_to_be_between(wind)"]
    assert "1 warning" in result["reason"]


def test_skip_and_warn_modes(mlflow_store: dict[str, str], tmp_path: Path) -> None:
    frame, _ = corrupt(seattle_weather())
    data = write_csv(frame, tmp_path / "weather.csv")
    _, _, err = run(ValidateDataOperator(task_id="v_skip", data=data, expectations=SUITE, on_failure="skip"))
    assert isinstance(err, AirflowSkipException)
    result, _, err = run(ValidateDataOperator(task_id="v_warn", data=data, expectations=SUITE, on_failure="warn"))
    assert err is None and result is not None
    assert result["success"] is False and result["status"] == "warned"
    client = MlflowClient(tracking_uri=mlflow_store["tracking_uri"])
    runs = {
        r.data.tags["airflow.task_id"]: r
        for r in client.search_runs(
            [client.get_experiment_by_name("airflow/test_dag").experiment_id], "tags.`airflow_robust.kind` = 'stage'"
        )
    }
    assert runs["v_skip"].info.status == "FINISHED" and runs["v_skip"].data.tags["robust.validation.status"] == "failed"
    assert runs["v_warn"].data.tags["robust.validation.status"] == "warned"


def test_empty_data_fails_closed_unless_allowed(mlflow_store: dict[str, str], tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("date,precipitation,temp_max,temp_min,wind,weather,month\n")
    expectations = [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "temp_max"}}]
    summary, _, err = run(ValidateDataOperator(task_id="validate", data=str(empty), expectations=expectations))
    assert isinstance(err, DataValidationFailed) and "no rows" in str(err)
    assert summary is not None and summary["rows"] == 0
    result, _, err = run(
        ValidateDataOperator(task_id="validate2", data=str(empty), expectations=expectations, allow_empty=True)
    )
    assert err is None and result is not None and result["rows"] == 0


def test_suite_from_reference_accepts_next_year_and_rejects_corruption(
    mlflow_store: dict[str, str], tmp_path: Path
) -> None:
    frame = seattle_weather()
    reference = write_csv(frame[frame["date"].dt.year <= 2013], tmp_path / "reference.csv")
    current = write_csv(frame[frame["date"].dt.year == 2014], tmp_path / "current.csv")
    result, _, err = run(ValidateDataOperator(task_id="validate", data=current, suite_from_reference=reference))
    assert err is None and result is not None and result["success"] is True
    client = MlflowClient(tracking_uri=mlflow_store["tracking_uri"])
    path = client.download_artifacts(result["run_id"], "reference_suite.json")
    suite = json.loads(Path(path).read_text())
    types = {e["type"] for e in suite["expectations"]}
    assert {
        "expect_table_columns_to_match_set",
        "expect_column_values_to_be_between",
        "expect_column_values_to_be_in_set",
        "expect_table_row_count_to_be_between",
    } <= types
    bad = frame[frame["date"].dt.year == 2014].copy()
    bad["weather"] = bad["weather"].replace({"sun": "sunny"})
    _summary, _, err = run(
        ValidateDataOperator(
            task_id="validate_bad", data=write_csv(bad, tmp_path / "bad.csv"), suite_from_reference=reference
        )
    )
    assert isinstance(err, DataValidationFailed) and "weather" in str(err)
    # the logged reference suite can be pinned and used as a suite file
    pinned, _, err = run(ValidateDataOperator(task_id="validate_pinned", data=current, expectations=path))
    assert err is None and pinned is not None and pinned["statistics"] == result["statistics"]


def test_yaml_and_legacy_suite_files(mlflow_store: dict[str, str], tmp_path: Path) -> None:
    import yaml

    data = write_csv(seattle_weather(), tmp_path / "weather.csv")
    items = json.loads(Path(SUITE).read_text())["expectations"][:3]
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump({"expectations": items}))
    legacy = {
        "expectation_suite_name": "old",
        "expectations": [{"expectation_type": i["type"], "kwargs": i["kwargs"], "meta": {}} for i in items],
    }
    (tmp_path / "legacy.json").write_text(json.dumps(legacy))
    for name in ("suite.yaml", "legacy.json"):
        result, _, err = run(
            ValidateDataOperator(task_id=f"v_{name[:4]}", data=data, expectations=str(tmp_path / name))
        )
        assert err is None and result is not None and result["statistics"]["evaluated_expectations"] == 3


def test_existing_gx_project_suite_is_used_and_left_untouched(mlflow_store: dict[str, str], tmp_path: Path) -> None:
    import great_expectations as gx

    project = tmp_path / "gx_project"
    context = gx.get_context(mode="file", project_root_dir=str(project))
    suite = context.suites.add(gx.ExpectationSuite(name="weather_suite"))
    suite.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(column="temp_max"))
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(column="temp_max", min_value=-30, max_value=50))
    batch = (
        context.data_sources.add_pandas("src")
        .add_dataframe_asset("weather")
        .add_batch_definition_whole_dataframe("all")
    )
    definition = context.validation_definitions.add(gx.ValidationDefinition(name="vd", data=batch, suite=suite))
    context.checkpoints.add(gx.Checkpoint(name="nightly", validation_definitions=[definition]))
    before = sorted(p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file())
    data = write_csv(seattle_weather(), tmp_path / "weather.csv")
    result, _, err = run(
        ValidateDataOperator(task_id="validate", data=data, gx_project_dir=str(project), suite_name="weather_suite")
    )
    assert err is None and result is not None and result["statistics"]["evaluated_expectations"] == 2
    by_checkpoint, _, err = run(
        ValidateDataOperator(task_id="validate_cp", data=data, gx_project_dir=str(project), checkpoint_name="nightly")
    )
    assert err is None and by_checkpoint is not None
    assert by_checkpoint["statistics"]["evaluated_expectations"] == 2
    after = sorted(p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file())
    assert after == before


def test_model_version_gets_a_signed_validation_verdict(mlflow_store: dict[str, str], tmp_path: Path) -> None:
    import mlflow
    from sklearn.dummy import DummyClassifier

    from airflow_robust.exceptions import InvalidParameterError
    from airflow_robust.hooks.signing import signing_key
    from airflow_robust.tracking.config import resolve_config
    from airflow_robust.trust.chain import gate_verdict

    client = MlflowClient(tracking_uri=mlflow_store["tracking_uri"])
    weather = seattle_weather()
    mlflow.set_experiment("registered-by-hand")  # this test's own store: never an experiment id left by another test
    with mlflow.start_run():
        model = DummyClassifier().fit(weather[["wind"]], weather["weather"])
        info = mlflow.sklearn.log_model(model, name="model", registered_model_name="weather")
    version = str(info.registered_model_version)
    data = write_csv(weather, tmp_path / "weather.csv")
    result, _, err = run(
        ValidateDataOperator(
            task_id="validate", data=data, expectations=SUITE, model_name="weather", model_version=version
        )
    )
    assert err is None and result is not None
    record = client.get_model_version("weather", version)
    assert record.tags["robust.validation.status"] == "passed"  # for people
    assert record.tags["robust.validation.run_id"] == result["run_id"]  # the pointer deploy follows
    key = signing_key(resolve_config(None))
    digest = gate_verdict(client, key, "validation", "weather", version, "sha256:" + "0" * 64, record.tags, None)
    assert not digest.verified and "the model changed after the gate ran" in digest.problem
    from airflow_robust.trust.evidence import read_attestation

    attestation = read_attestation(client, result["run_id"], key, gate="validation")
    assert attestation.model is not None and attestation.model.version == version
    verdict = gate_verdict(client, key, "validation", "weather", version, attestation.model.digest, record.tags, None)
    assert verdict.verified, verdict.problem

    # a version without readable files cannot carry a verdict: a clear parameter error, no tag
    empty = client.create_model_version("weather", source="file:///nowhere", run_id=None).version
    _, _, err = run(
        ValidateDataOperator(
            task_id="validate", data=data, expectations=SUITE, model_name="weather", model_version=empty
        )
    )
    assert isinstance(err, InvalidParameterError) and err.parameter == "model_version"
    assert "robust.validation.run_id" not in client.get_model_version("weather", empty).tags


def test_mapped_validations_do_not_collide(mlflow_store: dict[str, str], tmp_path: Path) -> None:
    data = write_csv(seattle_weather(), tmp_path / "weather.csv")
    results = [
        run(ValidateDataOperator(task_id="validate", data=data, expectations=SUITE), map_index=i) for i in (0, 1)
    ]
    assert all(err is None for _, _, err in results)
    assert results[0][0]["run_id"] != results[1][0]["run_id"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"expectations": [{"type": "expect_column_to_be_purple", "kwargs": {"column": "wind"}}]},
            ConfigurationError,
            "expect_column_to_be_purple",
        ),
        (
            {"expectations": [{"type": "expect_column_values_to_be_between", "kwargs": {"min_value": 1}}]},
            ConfigurationError,
            "not a valid GX expectation",
        ),
        ({"expectations": [{"kwargs": {}}]}, InvalidParameterError, r"'expectations\[0\]' parameter"),
        (
            {
                "expectations": [
                    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "wind"}, "severity": "fatal"}
                ]
            },
            InvalidParameterError,
            "severity",
        ),
        ({"expectations": 42}, InvalidParameterError, "'expectations' parameter of ValidateDataOperator"),
        ({"expectations": "/no/such/suite.json"}, InvalidParameterError, "existing .json/.yaml suite file"),
        ({"on_failure": "explode"}, InvalidParameterError, "'on_failure' parameter"),
        ({"data": "/no/such/file.csv"}, Exception, "No file at /no/such/file.csv"),
        ({"model_name": "weather"}, InvalidParameterError, "'model_version' parameter"),
        ({"suite_from_reference": "/x.csv"}, InvalidParameterError, "exactly one way"),
        ({"reference_tolerance": "wide"}, InvalidParameterError, "'reference_tolerance'"),
    ],
)
def test_bad_input_is_a_clear_non_retryable_error(
    mlflow_store: dict[str, str], tmp_path: Path, kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    params: dict[str, Any] = {
        "task_id": "validate",
        "data": write_csv(seattle_weather(), tmp_path / "w.csv"),
        "expectations": SUITE,
    }
    params.update(kwargs)
    _, _, err = run(ValidateDataOperator(**params))
    assert isinstance(err, error) and isinstance(err, AirflowFailException), err
    assert re.search(match, str(err)), str(err)


def test_gx_does_not_flood_the_task_log(mlflow_store: dict[str, str], tmp_path: Path) -> None:
    import logging

    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect(level=logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        data = write_csv(seattle_weather(), tmp_path / "weather.csv")
        run(ValidateDataOperator(task_id="validate", data=data, expectations=SUITE))
    finally:
        root.removeHandler(handler)
    assert any(r.name.startswith("airflow") for r in records)  # the handler did see the task's logging
    gx_lines = [r for r in records if r.name.startswith("great_expectations") and r.levelno < logging.WARNING]
    assert gx_lines == []


def test_malformed_suite_file(mlflow_store: dict[str, str], tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"expectations": [ {"type": ')
    _, _, err = run(
        ValidateDataOperator(
            task_id="validate", data=write_csv(seattle_weather(), tmp_path / "w.csv"), expectations=str(broken)
        )
    )
    assert isinstance(err, InvalidParameterError) and "cannot be parsed" in str(err)


def test_results_stay_small_when_many_rows_fail_and_the_quarantine_keeps_them_all(
    mlflow_store: dict[str, str], tmp_path: Path
) -> None:
    import json

    import numpy as np

    rows = 60_000
    frame = pd.DataFrame({"reading": np.random.default_rng(0).normal(size=rows), "id": np.arange(rows)})
    data = write_csv(frame, tmp_path / "readings.csv")
    quarantine = str(tmp_path / "quarantine.csv")
    result, _, err = run(
        ValidateDataOperator(
            task_id="validate",
            data=data,
            expectations=[
                {
                    "type": "expect_column_values_to_be_between",
                    "kwargs": {"column": "reading", "min_value": -1, "max_value": 1},
                }
            ],
            quarantine_uri=quarantine,
            on_failure="warn",
        )
    )
    assert err is None and result is not None
    failing = int((frame["reading"].abs() > 1).sum())
    assert result["failed_expectations"][0]["unexpected_count"] == failing > 10_000
    assert len(pd.read_csv(quarantine)) == failing  # every failing row, by id
    client = MlflowClient(tracking_uri=mlflow_store["tracking_uri"])
    stored = Path(client.download_artifacts(result["run_id"], "validation_result.json", str(tmp_path)))
    assert stored.stat().st_size < 50_000, stored.stat().st_size
    truncated = json.loads(stored.read_text())["meta"]["airflow_robust_truncated"]
    assert truncated["0.unexpected_index_list"] == failing  # cut in the JSON, complete in the quarantine file
