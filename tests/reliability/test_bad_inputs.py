"""The bad-input matrix: every operator, real files, a real MLflow store, real models.

Each case runs one operator's ``execute`` on a broken input: missing, empty, truncated or corrupt
files; wrong dtypes; all-NaN, constant and infinite columns; unknown columns; thresholds of the
wrong type or range; unknown models, versions and aliases; a model that is not scikit-learn;
a very high-cardinality categorical; Unicode and spaces in column names; injection-looking
strings. Each must fail with an error of this package's tree that names the parameter and the
problem, register and promote nothing, and leave every input file byte-for-byte as it was.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from sklearn.model_selection import train_test_split

from airflow_robust.exceptions import AirflowRobustError
from airflow_robust.operators.batch_predict import BatchPredictOperator
from airflow_robust.operators.deploy import DeployModelOperator, RollbackModelOperator
from airflow_robust.operators.monitor import MonitorDriftOperator
from airflow_robust.operators.promote import PromoteModelOperator
from airflow_robust.operators.robustness import EvaluateRobustnessOperator
from airflow_robust.operators.train import TrainModelOperator
from airflow_robust.operators.validate import ValidateDataOperator
from airflow_robust.sensors.approval import ModelApprovalSensor
from tests.helpers import TaskInstanceStandIn, breast_cancer_frame, context_for

MODEL = "cancer"
RULES = [{"metric": "f1_macro", "direction": "higher", "max_regression": 0.0}]
EXPECT = [{"type": "expect_column_to_exist", "kwargs": {"column": "mean radius"}}]
LR = "sklearn.linear_model:LogisticRegression"


@dataclass
class World:
    root: Path
    client: MlflowClient

    def path(self, name: str) -> str:
        return str(self.root / name)


def _frames(root: Path) -> None:
    frame = breast_cancer_frame()
    train, test = train_test_split(frame, test_size=0.3, random_state=0, stratify=frame["target"])
    train.to_csv(root / "train.csv", index=False)
    test.to_csv(root / "test.csv", index=False)
    train.to_parquet(root / "train.parquet", index=False)
    (root / "empty.csv").write_bytes(b"")
    train.head(0).to_csv(root / "header_only.csv", index=False)
    whole = (root / "train.parquet").read_bytes()
    (root / "truncated.parquet").write_bytes(whole[: len(whole) // 2])
    (root / "corrupt.parquet").write_bytes(b"PAR1" + bytes(range(256)) * 8)
    (root / "binary.csv").write_bytes(bytes(range(256)) * 40)
    text = train.assign(**{"mean radius": "twelve"})
    text.to_csv(root / "text_feature.csv", index=False)
    train.assign(target=np.nan).to_csv(root / "nan_target.csv", index=False)
    train.assign(target="benign").to_csv(root / "constant_target.csv", index=False)
    train.assign(**{"mean radius": np.nan}).to_csv(root / "nan_feature.csv", index=False)
    test.assign(**{"mean radius": np.inf}).to_csv(root / "inf_feature.csv", index=False)
    ids = train.assign(patient=[f"patient-{i:05d}" for i in range(len(train))])
    ids.to_csv(root / "id_column.csv", index=False)
    unicode = train.rename(columns={"mean radius": "rayon moyen (µm)", "target": "diagnostic final"})
    unicode.to_csv(root / "unicode.csv", index=False)
    test.drop(columns=["mean radius", "mean texture"]).to_csv(root / "missing_features.csv", index=False)
    pd.DataFrame({"x": [1, 2, 3], "y": ["a", "b", "c"]}).to_csv(root / "unrelated.csv", index=False)
    (root / "suite.json").write_text('{"expectations": [{"type": "expect_magic", "kwargs": {}}]}')
    test.assign(**{"mean radius": "twelve"}).to_csv(root / "text_feature_test.csv", index=False)
    header = ",".join(["mean radius", *[c for c in train.columns if c != "mean radius"], "mean radius"])
    body = train.assign(extra=train["mean radius"]).to_csv(index=False, header=False)
    (root / "duplicated_header.csv").write_text(header + "\n" + body)
    train.assign(readings=[[1.0, 2.0]] * len(train)).to_parquet(root / "nested.parquet", index=False)
    test[test["target"] == "benign"].to_csv(root / "single_class.csv", index=False)
    import sqlite3

    sqlite3.connect(root / "data.db").close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("bad-inputs")
    store = root / "mlflow"
    (store / "artifacts").mkdir(parents=True)
    with pytest.MonkeyPatch.context() as patches:
        patches.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store / 'mlflow.db'}")
        patches.setenv("AIRFLOW_CONN_BAD_SQLITE", f'{{"conn_type": "sqlite", "host": "{root / "data" / "data.db"}"}}')
        patches.setenv(  # a database nobody listens for
            "AIRFLOW_CONN_DOWN_PG", '{"conn_type": "postgres", "host": "127.0.0.1", "port": 1, "schema": "x"}'
        )
        data = root / "data"
        data.mkdir()
        _frames(data)
        client = MlflowClient()
        op = TrainModelOperator(
            task_id="train", estimator=LR, params={"max_iter": 5000}, data=str(data / "train.csv"),
            target="target", registered_model_name=MODEL,
        )  # fmt: skip
        trained = op.execute(context_for(TaskInstanceStandIn(run_id="setup")))
        client.set_registered_model_alias(MODEL, "champion", trained["version"])
        import mlflow
        import mlflow.pyfunc

        class Zeros(mlflow.pyfunc.PythonModel):
            def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
                return np.zeros(len(model_input))

        with mlflow.start_run():
            mlflow.pyfunc.log_model(name="model", python_model=Zeros(), registered_model_name="zeros")
        yield World(root=data, client=client)


Case = tuple[str, Callable[[World], Any], tuple[str, ...]]


def _train(w: World, **kw: Any) -> TrainModelOperator:
    args = {"estimator": LR, "data": w.path("train.csv"), "target": "target", "registered_model_name": "fresh"}
    return TrainModelOperator(task_id="train", **{**args, **kw})


def _validate(w: World, **kw: Any) -> ValidateDataOperator:
    return ValidateDataOperator(task_id="validate", **{"data": w.path("train.csv"), "expectations": EXPECT, **kw})


def _robust(w: World, **kw: Any) -> EvaluateRobustnessOperator:
    args = {"model_uri": f"models:/{MODEL}/1", "data": w.path("test.csv"), "target": "target"}
    return EvaluateRobustnessOperator(task_id="robustness", **{**args, **kw})


def _promote(w: World, **kw: Any) -> PromoteModelOperator:
    args = {
        "model_name": MODEL,
        "candidate_version": "1",
        "rules": RULES,
        "evaluation_data": w.path("test.csv"),
        "target": "target",
        "approval": "auto",
        "required_gates": [],
    }
    return PromoteModelOperator(task_id="promote", **{**args, **kw})


def _monitor(w: World, **kw: Any) -> MonitorDriftOperator:
    args = {"reference": w.path("train.csv"), "current": w.path("test.csv"), "on_drift": "warn"}
    return MonitorDriftOperator(task_id="monitor", **{**args, **kw})


def _batch(w: World, **kw: Any) -> BatchPredictOperator:
    args = {"model_uri": f"models:/{MODEL}@champion", "data": w.path("test.csv"), "output_uri": w.path("out.parquet")}
    return BatchPredictOperator(task_id="batch", **{**args, **kw})


def _deploy(w: World, **kw: Any) -> DeployModelOperator:
    return DeployModelOperator(task_id="deploy", **{"model_name": MODEL, "version": "1", **kw})


CASES: list[Case] = [
    # -- files: missing, empty, header only, truncated, corrupt, not text --------------------
    ("train.missing_file", lambda w: _train(w, data=w.path("nope.csv")), ("'data'", "nope.csv")),
    ("train.empty_file", lambda w: _train(w, data=w.path("empty.csv")), ("'data'", "empty")),
    ("train.header_only", lambda w: _train(w, data=w.path("header_only.csv")), ("'data'", "no rows")),
    ("train.truncated_parquet", lambda w: _train(w, data=w.path("truncated.parquet")), ("'data'", "truncated")),
    ("train.corrupt_parquet", lambda w: _train(w, data=w.path("corrupt.parquet")), ("'data'", "corrupt")),
    ("validate.missing_file", lambda w: _validate(w, data=w.path("nope.csv")), ("'data'", "nope.csv")),
    ("validate.empty_file", lambda w: _validate(w, data=w.path("empty.csv")), ("'data'", "empty")),
    ("validate.binary_csv", lambda w: _validate(w, data=w.path("binary.csv")), ("'data'",)),
    ("robustness.missing_file", lambda w: _robust(w, data=w.path("nope.csv")), ("'data'", "nope.csv")),
    (
        "promote.truncated_eval",
        lambda w: _promote(w, evaluation_data=w.path("truncated.parquet")),
        ("'evaluation_data'", "truncated"),
    ),
    (
        "promote.empty_eval",
        lambda w: _promote(w, evaluation_data=w.path("header_only.csv")),
        ("'evaluation_data'", "no rows"),
    ),
    ("monitor.missing_current", lambda w: _monitor(w, current=w.path("nope.csv")), ("'current'", "nope.csv")),
    ("monitor.corrupt_current", lambda w: _monitor(w, current=w.path("corrupt.parquet")), ("'current'", "corrupt")),
    ("monitor.empty_reference", lambda w: _monitor(w, reference=w.path("header_only.csv")), ("'reference'", "no rows")),
    ("batch.missing_data", lambda w: _batch(w, data=w.path("nope.csv")), ("'data'", "nope.csv")),
    ("batch.corrupt_data", lambda w: _batch(w, data=w.path("corrupt.parquet")), ("'data'", "corrupt")),
    (
        "deploy.corrupt_sample",
        lambda w: _deploy(w, sample_data=w.path("corrupt.parquet"), require_approval=False),
        ("'sample_data'", "corrupt"),
    ),
    # -- columns: wrong dtype, all-NaN, constant, inf, unknown, high cardinality, Unicode ----
    (
        "train.text_in_numeric_feature",
        lambda w: _train(w, data=w.path("text_feature.csv"), preprocess="none"),
        ("'data'", "mean radius"),
    ),
    ("train.all_nan_target", lambda w: _train(w, data=w.path("nan_target.csv")), ("'target'", "nothing to train on")),
    ("train.constant_target", lambda w: _train(w, data=w.path("constant_target.csv")), ("'target'", "one class")),
    ("train.all_nan_feature", lambda w: _train(w, data=w.path("nan_feature.csv")), ("'data'", "mean radius", "all")),
    ("train.inf_feature", lambda w: _train(w, data=w.path("inf_feature.csv")), ("'data'", "infinite", "mean radius")),
    ("train.unknown_feature", lambda w: _train(w, features=["mean radius", "shoe size"]), ("'features'", "shoe size")),
    ("train.unknown_target", lambda w: _train(w, target="diagnosis"), ("'target'", "diagnosis")),
    (
        "train.high_cardinality_id",
        lambda w: _train(w, data=w.path("id_column.csv")),
        ("'features'", "patient", "distinct"),
    ),
    (
        "train.unicode_target_with_space",
        lambda w: _train(w, data=w.path("unicode.csv"), target="diagnostic  final"),
        ("'target'", "Did you mean 'diagnostic final'?"),
    ),
    (
        "robustness.inf_feature",
        lambda w: _robust(w, data=w.path("inf_feature.csv")),
        ("'data'", "infinite", "mean radius"),
    ),
    (
        "promote.inf_feature",
        lambda w: _promote(w, evaluation_data=w.path("inf_feature.csv")),
        ("'evaluation_data'", "infinite"),
    ),
    ("promote.unknown_target", lambda w: _promote(w, target="diagnosis"), ("'target'", "diagnosis")),
    (
        "promote.missing_features",
        lambda w: _promote(w, evaluation_data=w.path("missing_features.csv")),
        ("'evaluation_data'", "mean radius"),
    ),
    (
        "monitor.unknown_columns",
        lambda w: _monitor(w, columns=["mean radius", "shoe size"]),
        ("'columns'", "shoe size"),
    ),
    ("monitor.no_shared_columns", lambda w: _monitor(w, current=w.path("unrelated.csv")), ("'current'", "columns")),
    ("batch.missing_features", lambda w: _batch(w, data=w.path("missing_features.csv")), ("'data'", "mean radius")),
    ("batch.inf_feature", lambda w: _batch(w, data=w.path("inf_feature.csv")), ("'data'", "infinite")),
    # -- text where the model declares numbers, at scoring time ----------------------------------
    (
        "robustness.text_in_numeric_feature",
        lambda w: _robust(w, data=w.path("text_feature_test.csv")),
        ("'data'", "Text in column 'mean radius'", "twelve"),
    ),
    (
        "batch.text_in_numeric_feature",
        lambda w: _batch(w, data=w.path("text_feature_test.csv")),
        ("'data'", "Text in column 'mean radius'"),
    ),
    (
        "monitor.text_in_numeric_feature",
        lambda w: _monitor(w, reference=f"models:/{MODEL}@champion", current=w.path("text_feature_test.csv")),
        ("'current'", "Text in column 'mean radius'"),
    ),
    # -- tables that are not one flat table: repeated header names, nested values -----------------
    (
        "train.duplicated_header",
        lambda w: _train(w, data=w.path("duplicated_header.csv")),
        ("'data'", "duplicated column names ['mean radius']"),
    ),
    (
        "validate.duplicated_header",
        lambda w: _validate(w, data=w.path("duplicated_header.csv")),
        ("'data'", "duplicated column names"),
    ),
    (
        "monitor.duplicated_header",
        lambda w: _monitor(w, current=w.path("duplicated_header.csv")),
        ("'current'", "duplicated column names"),
    ),
    ("train.nested_parquet", lambda w: _train(w, data=w.path("nested.parquet")), ("'data'", "nested", "readings")),
    ("validate.nested_parquet", lambda w: _validate(w, data=w.path("nested.parquet")), ("'data'", "nested")),
    # -- SQL: a table that does not exist, a database that does not answer --------------------------
    (
        "train.missing_sql_table",
        lambda w: _train(w, data="SELECT * FROM no_such_table", conn_id="bad_sqlite"),
        ("'data'", "no_such_table"),
    ),
    (
        "batch.missing_sql_table",
        lambda w: _batch(w, data="no_such_table", conn_id="bad_sqlite"),
        ("'data'", "no_such_table"),
    ),
    (
        "train.unreachable_database",
        lambda w: _train(w, data="SELECT 1", conn_id="down_pg"),
        ("database", "unreachable"),
    ),
    # -- an evaluation set that cannot tell models apart ------------------------------------------
    (
        "promote.single_class_evaluation",
        lambda w: _promote(w, evaluation_data=w.path("single_class.csv")),
        ("single class", "benign"),
    ),
    # -- thresholds and rules of the wrong type or range ----------------------------------------
    ("robustness.threshold_text", lambda w: _robust(w, thresholds={"audc": "high"}), ("'thresholds'", "high")),
    ("robustness.threshold_range", lambda w: _robust(w, thresholds={"audc": 1.5}), ("'thresholds'", "1.5")),
    (
        "robustness.unknown_threshold",
        lambda w: _robust(w, thresholds={"accuracy_please": 0.9}),
        ("'thresholds'", "accuracy_please"),
    ),
    (
        "promote.rule_direction",
        lambda w: _promote(w, rules=[{"metric": "f1_macro", "direction": "up"}]),
        ("'rules'", "direction"),
    ),
    (
        "promote.rule_nan_bound",
        lambda w: _promote(w, rules=[{"metric": "f1_macro", "direction": "higher", "min": float("nan")}]),
        ("'rules'", "min"),
    ),
    (
        "promote.unknown_metric",
        lambda w: _promote(w, rules=[{"metric": "vibes", "direction": "higher"}]),
        ("'rules'", "vibes"),
    ),
    ("monitor.drift_share_range", lambda w: _monitor(w, drift_share=1.5), ("'drift_share'", "1.5")),
    ("monitor.threshold_text", lambda w: _monitor(w, thresholds={"psi": "big"}), ("'thresholds'", "big")),
    # -- registry: unknown model, version, alias; not scikit-learn -----------------------------
    ("promote.unknown_model", lambda w: _promote(w, model_name="no_such_model"), ("'model_name'", "no_such_model")),
    ("promote.unknown_version", lambda w: _promote(w, candidate_version="99"), ("'candidate_version'", "99")),
    ("robustness.unknown_alias", lambda w: _robust(w, model_uri=f"models:/{MODEL}@nope"), ("'model_uri'", "nope")),
    (
        "monitor.reference_without_profile",
        lambda w: _monitor(w, reference="models:/zeros/1"),
        ("'reference'", "reference_profile.json", "RegisterModelOperator"),
    ),
    ("batch.unknown_alias", lambda w: _batch(w, model_uri=f"models:/{MODEL}@nope"), ("'model_uri'", "nope")),
    (
        "batch.unknown_model",
        lambda w: _batch(w, model_uri="models:/no_such_model@champion"),
        ("'model_uri'", "no_such_model"),
    ),
    ("deploy.unknown_version", lambda w: _deploy(w, version="99"), ("'version'", "99")),
    ("deploy.unknown_model", lambda w: _deploy(w, model_name="no_such_model"), ("'model_name'", "no_such_model")),
    (
        "rollback.no_previous",
        lambda w: RollbackModelOperator(task_id="rollback", model_name=MODEL),
        ("previous_champion",),
    ),
    (
        "rollback.unknown_version",
        lambda w: RollbackModelOperator(task_id="rollback", model_name=MODEL, to_version="99"),
        ("'to_version'", "99"),
    ),
    (
        "monitor.unknown_reference_model",
        lambda w: _monitor(w, reference="models:/no_such_model@champion"),
        ("'reference'", "no_such_model"),
    ),
    (
        "approval.unknown_version",
        lambda w: ModelApprovalSensor(task_id="approval", model_name=MODEL, version="99"),
        ("'version'", "99"),
    ),
    # -- injection-looking strings in templated fields -----------------------------------------
    ("promote.filter_injection", lambda w: _promote(w, model_name="cancer' OR name != '"), ("'model_name'",)),
    ("deploy.filter_injection", lambda w: _deploy(w, model_name="x' OR '1'='1"), ("'model_name'",)),
    (
        "train.name_injection",
        lambda w: _train(w, registered_model_name="m'; DROP TABLE registered_models; --"),
        ("'registered_model_name'",),
    ),
    ("train.shell_in_path", lambda w: _train(w, data=w.path("train.csv; rm -rf /")), ("'data'", "rm -rf")),
    ("batch.template_in_output", lambda w: _batch(w, output_uri="{{ 7*7 }}/../../etc/passwd"), ("'output_uri'",)),
    ("batch.relative_output", lambda w: _batch(w, output_uri="out/predictions.parquet"), ("'output_uri'", "relative")),
    (
        "validate.quarantine_over_input",
        lambda w: _validate(w, quarantine_uri=w.path("train.csv")),
        ("'quarantine_uri'", "destroy"),
    ),
    ("batch.output_is_input", lambda w: _batch(w, output_uri=w.path("test.csv")), ("'output_uri'", "data")),
    ("deploy.alias_with_space", lambda w: _deploy(w, alias="champ ion"), ("'alias'", "champ ion")),
]


def _digests(root: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def _registry(client: MlflowClient) -> dict[str, Any]:
    models = {}
    for model in client.search_registered_models():
        versions = client.search_model_versions(f"name = '{model.name}'")
        models[model.name] = {
            "versions": sorted(v.version for v in versions),
            "aliases": dict(model.aliases),
            "promoted": sorted(v.version for v in versions if v.tags.get("robust.promotion.status") == "passed"),
        }
    return models


def test_the_matrix_is_broad() -> None:
    assert len(CASES) >= 40
    assert len({name for name, _, _ in CASES}) == len(CASES)
    covered = {name.split(".")[0] for name, _, _ in CASES}
    assert covered == {
        "train",
        "validate",
        "robustness",
        "promote",
        "monitor",
        "batch",
        "deploy",
        "rollback",
        "approval",
    }


@pytest.mark.parametrize(("name", "build", "says"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_fails_clearly_and_changes_nothing(
    name: str, build: Callable[[World], Any], says: tuple[str, ...], world: World
) -> None:
    files, registry = _digests(world.root), _registry(world.client)
    op = build(world)
    ti = TaskInstanceStandIn(task_id=op.task_id, run_id=f"bad-{name}")
    with pytest.raises(AirflowRobustError) as info:
        op.execute(context_for(ti))
    message = str(info.value)
    for fragment in says:
        assert fragment in message, f"{name}: {fragment!r} not in: {message}"
    assert _digests(world.root) == files, "an input file changed"
    assert _registry(world.client) == registry, "the registry changed"
