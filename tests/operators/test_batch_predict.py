"""BatchPredictOperator on a real MLflow store: alias resolved once, chunked scoring, predictions match the model."""

from __future__ import annotations

import os
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from airflow_robust.exceptions import InvalidParameterError
from airflow_robust.operators.batch_predict import BatchPredictOperator
from tests.helpers import wine_frame, write_csv
from tests.operators.test_promotion_operators import run


def _train_wine(tmp_path: Path, client: MlflowClient) -> tuple[str, pd.DataFrame]:
    from airflow_robust.operators.train import TrainModelOperator

    frame = wine_frame()
    frame["target"] = frame["target"].map({0: "barolo", 1: "grignolino", 2: "barbera"})
    data = write_csv(frame, tmp_path / "wine.csv")
    result, err = run(
        TrainModelOperator(
            task_id="train",
            estimator="sklearn.linear_model:LogisticRegression",
            params={"max_iter": 5000},
            data=data,
            target="target",
            registered_model_name="wine",
        ),
        "train-run",
    )
    assert err is None and result is not None
    client.set_registered_model_alias("wine", "champion", result["version"])
    return str(result["version"]), frame


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_scores_in_chunks_with_the_pinned_version(mlflow_store: dict[str, str], tmp_path: Path, suffix: str) -> None:
    client = MlflowClient(tracking_uri=mlflow_store["tracking_uri"])
    version, frame = _train_wine(tmp_path, client)
    batch = frame.drop(columns=["target"]).reset_index(names="row_id")
    source = tmp_path / f"batch.{suffix}"
    if suffix == "parquet":
        batch.to_parquet(source, index=False, row_group_size=40)  # several row groups
    else:
        batch.to_csv(source, index=False)
    output = tmp_path / "out" / f"predictions.{suffix}"
    result, err = run(
        BatchPredictOperator(
            task_id="score",
            model_uri="models:/wine@champion",
            data=str(source),
            output_uri=str(output),
            passthrough_columns=["row_id"],
            chunk_rows=50,
        ),
        "score-run",
    )
    assert err is None and result is not None
    assert result["model_uri"] == f"models:/wine/{version}" and result["alias"] == "champion"
    assert result["rows"] == len(frame) == 178 and result["chunks"] == 4
    written = pd.read_parquet(output) if suffix == "parquet" else pd.read_csv(output)
    assert list(written.columns) == [
        "row_id",
        "prediction",
        "proba_barbera",
        "proba_barolo",
        "proba_grignolino",
        "model_name",
        "model_version",
    ]
    assert written["row_id"].tolist() == list(range(178))
    assert set(written["model_version"].astype(str)) == {version}
    model = mlflow.sklearn.load_model(f"models:/wine/{version}")
    features = frame.drop(columns=["target"])
    assert (written["prediction"].to_numpy() == model.predict(features)).all()
    np.testing.assert_allclose(
        written[["proba_barbera", "proba_barolo", "proba_grignolino"]].to_numpy(),
        model.predict_proba(features),
        rtol=1e-9,
    )
    assert sum(result["prediction_counts"].values()) == 178
    assert not os.path.exists(f"{output}.partial")
    # the batch's child run records the pinned version
    tags = client.get_run(result["run_id"]).data.tags
    assert tags["robust.batch_predict.model_uri"] == f"models:/wine/{version}"


def test_bad_inputs_name_the_parameter_and_write_nothing(mlflow_store: dict[str, str], tmp_path: Path) -> None:
    client = MlflowClient(tracking_uri=mlflow_store["tracking_uri"])
    _, frame = _train_wine(tmp_path, client)
    data = write_csv(frame.drop(columns=["target", "alcohol"]), tmp_path / "short.csv")
    output = tmp_path / "predictions.parquet"
    cases = [
        ({"model_uri": "models:/wine@nobody"}, "'model_uri'"),
        ({"model_uri": "models:/unknown/1"}, "'model_uri'"),
        ({"model_uri": "wine"}, "'model_uri'"),
        ({"output_uri": str(tmp_path / "p.xlsx")}, "'output_uri'"),
        ({"data": data}, "'data'"),  # a feature column is missing
        ({"passthrough_columns": ["no_such"]}, "'passthrough_columns'"),
        ({"chunk_rows": 0}, "'chunk_rows'"),
    ]
    good = write_csv(frame.drop(columns=["target"]), tmp_path / "good.csv")
    for change, parameter in cases:
        args = {"model_uri": "models:/wine@champion", "data": good, "output_uri": str(output), **change}
        _, err = run(BatchPredictOperator(task_id="score", **args), "bad-run")
        assert isinstance(err, InvalidParameterError), (change, err)
        assert parameter in str(err), (change, str(err))
        assert not output.exists() and not Path(f"{output}.partial").exists()
