"""Example: your own training code and any model flavor, with airflow-robust's gates around it.

``export`` writes a real dataset shipped with scikit-learn (wine: 3 classes; or diabetes:
regression) as train/test CSV files. ``validate`` is the data gate. ``train`` is *your* task: it
trains with your library (XGBoost by default; LightGBM, scikit-learn or a custom
``mlflow.pyfunc`` model) and logs the model with that library's MLflow flavor, inside
``mlflow_stage_run`` so it logs into the same MLflow store and DAG run as the operators.
``register`` registers the logged model and gives the version what ``TrainModelOperator`` gives its
own: provenance, the training data's digest, the validation's result and signed registration
evidence. Then the usual gates: ``robustness`` (the model is loaded with its own flavor, or
through pyfunc; figures that need class probabilities are skipped, and said so, when the model
gives none), ``promote`` against ``@champion``, a review in the MLflow UI (``approval``),
``deploy``, batch scoring with ``@champion`` and drift monitoring against the training data's
profile.

Trigger with ``{"flavor": "lightgbm", "task": "regression"}`` to change the model, and with
``{"quality": "worse"}`` to watch the promotion gate reject a worse XGBoost model.
"""

from __future__ import annotations

import re
from typing import Any

from airflow.sdk import Param, dag, task
from robust_example_tasks import DAG_ARGS, data_root

from airflow_robust import (
    BatchPredictOperator,
    DeployModelOperator,
    EvaluateRobustnessOperator,
    ModelApprovalSensor,
    MonitorDriftOperator,
    PromoteModelOperator,
    RegisterModelOperator,
    ValidateDataOperator,
    mlflow_stage_run,
)

FLAVORS = [
    "xgboost",
    "lightgbm",
    "sklearn-pipeline",
    "sklearn-tree",
    "sklearn-linear",
    "pyfunc-proba",
    "pyfunc-labels",
    "pyfunc-linear",
]
MODEL = "byom_{{ params.flavor | replace('-', '_') }}_{{ params.task }}"
RULES = [{"metric": "f1_macro", "direction": "higher", "min": 0.5, "max_regression": 0.0}]
REGRESSION_RULES = [{"metric": "rmse", "direction": "lower", "max": 100.0, "max_regression": 0.0}]
#: the example is about flavors, not model quality: bounds every sound model meets
THRESHOLDS = {"audc": 0.5, "flip_rate": 0.6, "worst_slice_ratio": 0.2}

PARAMS = {
    "flavor": Param("xgboost", enum=FLAVORS, description="the library (MLflow flavor) your task trains with"),
    "task": Param("classification", enum=["classification", "regression"]),
    "quality": Param("good", enum=["good", "worse"], description="'worse': a deliberately weak model"),
}


@dag(
    tags=["airflow-robust", "example"],
    doc_md=__doc__,
    **{**DAG_ARGS, "params": PARAMS},
)
def robust_bring_your_own_model() -> None:
    @task(multiple_outputs=True)
    def export(**context: Any) -> dict[str, str]:
        """wine (classification) or diabetes (regression), split 70/30 (seeded) into CSV files."""
        from airflow.sdk import ObjectStoragePath
        from sklearn.datasets import load_diabetes, load_wine
        from sklearn.model_selection import train_test_split

        params = context["params"]
        classification = params["task"] == "classification"
        frame = load_wine(as_frame=True).frame if classification else load_diabetes(as_frame=True, scaled=False).frame
        train, test = train_test_split(
            frame, test_size=0.3, random_state=0, stratify=frame["target"] if classification else None
        )
        run_dir = re.sub(r"[^\w.-]+", "_", str(context["run_id"]))
        base = ObjectStoragePath(f"{data_root()}/byom/{run_dir}")
        base.mkdir(parents=True, exist_ok=True)
        for name, part in (("train.csv", train), ("test.csv", test)):
            with (base / name).open("w") as handle:
                part.to_csv(handle, index=False)
        return {
            "train": str(base / "train.csv"),
            "test": str(base / "test.csv"),
            "scored": str(base / "scored.parquet"),
        }

    @task
    def train(data: str, **context: Any) -> str:
        """YOUR training code: any library, your own log_model. Returns the logged model's URI."""
        import mlflow
        from byom.training import train_and_log

        params = context["params"]
        mlflow.set_experiment("my-team/experiments")  # what your code may do; the gates don't mind
        with mlflow_stage_run(context, stage="training"):  # same MLflow store and DAG run as the operators
            return train_and_log(params["flavor"], params["task"], data, "target", params["quality"])

    data = export()
    validate = ValidateDataOperator(
        task_id="validate",
        data=data["train"],
        expectations=[
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "target"}},
            {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 50}},
        ],
    )
    logged = train(data["train"])
    register = RegisterModelOperator(
        task_id="register", model_name=MODEL, model_uri=logged, training_data=data["train"], target="target"
    )
    version = register.output["version"]
    robustness = EvaluateRobustnessOperator(
        task_id="robustness",
        model_uri=register.output["model_uri"],
        data=data["test"],
        target="target",
        thresholds=THRESHOLDS,
        perturbations=["noise", "outliers", "scaling"],
        min_slice_size=10,  # a few dozen test rows: small slices
    )
    promote = PromoteModelOperator(
        task_id="promote",
        model_name=MODEL,
        candidate_version=version,
        rules=RULES,
        pre_execute=_rules_for_task,  # regression is judged on RMSE
        evaluation_data=data["test"],
        target="target",
        approval="manual",
        on_failure="skip",  # a rejected candidate skips the deployment: a normal outcome
    )
    approval = ModelApprovalSensor(task_id="approval", model_name=MODEL, version=version, poke_interval=2)
    deploy = DeployModelOperator(task_id="deploy", model_name=MODEL, version=version, sample_data=data["test"])
    score = BatchPredictOperator(
        task_id="score", model_uri=f"models:/{MODEL}@champion", data=data["test"], output_uri=data["scored"]
    )
    monitor = MonitorDriftOperator(
        task_id="monitor",
        reference=f"models:/{MODEL}@champion",  # the training data's profile, stored by register
        current=data["scored"],
        target="target",
        score_model=False,
        on_drift="warn",
    )
    validate >> logged
    register >> robustness >> promote >> approval >> deploy >> score >> monitor


def _rules_for_task(context: Any) -> None:
    """Classification is judged on macro F1, regression on RMSE (``pre_execute`` runs after rendering)."""
    task_ = context["task"]
    task_.rules = RULES if context["params"]["task"] == "classification" else REGRESSION_RULES


robust_bring_your_own_model()
