"""Robustness overhead: the whole evaluation against the bare predict calls it needs, same run.

Data: seattle-weather (vega-datasets) resampled with replacement to ROWS rows (five numeric
features, the weather class as target); models trained on the original 1,461 days.

For each model, three timings (median of ``--repeat``):

- ``bare``: replays exactly the ``predict`` / ``predict_proba`` calls the evaluation makes, on
  the very frames it passed (recorded on a first run), and nothing else. This is the floor:
  no evaluation can avoid scoring the perturbed data.
- ``evaluate``: ``airflow_robust.robustness.evaluate.evaluate`` with the default perturbations
  (building perturbed frames, scoring, slices, calibration, dummy baseline).
- ``operator``: ``EvaluateRobustnessOperator.execute()``: the above plus reading the Parquet
  file, loading the registered model from MLflow (SQLite store), the degradation and
  calibration PNGs, ``robustness.json``, the slice table, metrics and model-version tags.

Usage: ``python bench/robustness.py [--rows 200000] [--repeat 3] [--json PATH]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FEATURES = ["month", "precipitation", "temp_max", "temp_min", "wind"]
MODELS = {
    "random_forest": ("sklearn.ensemble:RandomForestClassifier", {"n_estimators": 100, "max_depth": 12}),
    "hist_gradient_boosting": ("sklearn.ensemble:HistGradientBoostingClassifier", {"max_iter": 100}),
    "logistic_regression": ("bench.robustness:logistic", {}),
}


def logistic() -> Any:
    """A cheap model (impute, scale, logistic regression): predict costs little, so overhead shows."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression(max_iter=2000))


def weather() -> Any:
    from vega_datasets import data as vega

    frame = vega.seattle_weather()
    frame["month"] = frame["date"].dt.month
    return frame[[*FEATURES, "weather"]]


class Recorder:
    """Wraps a model and records every predict / predict_proba call with its input frame."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.calls: list[tuple[str, Any]] = []
        self.classes_ = getattr(model, "classes_", None)

    def predict(self, frame: Any) -> Any:
        self.calls.append(("predict", frame))
        return self.model.predict(frame)

    def predict_proba(self, frame: Any) -> Any:
        self.calls.append(("predict_proba", frame))
        return self.model.predict_proba(frame)


def replay(model: Any, calls: list[tuple[str, Any]]) -> float:
    start = time.perf_counter()
    for method, frame in calls:
        getattr(model, method)(frame)
    return time.perf_counter() - start


def show(results: dict[str, dict[str, Any]], json_path: str | None) -> None:
    print(
        f"{'model':24} {'calls':>5} {'rows predicted':>14} {'bare s':>7} {'evaluate s':>10} {'operator s':>10}"
        f" {'evaluate/bare':>13} {'operator/bare':>13}"
    )
    for name, r in results.items():
        s = r["seconds"]
        print(
            f"{name:24} {r['predict_calls']:>5} {r['predicted_rows']:>14,} {s['bare']:>7.2f} {s['evaluate']:>10.2f}"
            f" {s['operator']:>10.2f} {r['evaluate_vs_bare']:>12.2f}x {r['operator_vs_bare']:>12.2f}x"
        )
    if json_path:
        Path(json_path).write_text(json.dumps(results, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{tmp}/mlflow.db"
        os.environ.setdefault("AIRFLOW_HOME", tmp)
        from airflow_robust.hooks.mlflow import MlflowHook
        from airflow_robust.operators.robustness import EvaluateRobustnessOperator
        from airflow_robust.operators.train import TrainModelOperator
        from airflow_robust.robustness.evaluate import RobustnessSpec, evaluate
        from airflow_robust.robustness.perturbations import default_perturbations
        from airflow_robust.robustness.stage import load_model
        from airflow_robust.training.metrics import default_metric
        from tests.helpers import TaskInstanceStandIn, context_for

        with MlflowHook().applied():
            pass
        base = weather()
        train_csv = Path(tmp) / "train.csv"
        base.to_csv(train_csv, index=False)
        current = base.sample(n=args.rows, replace=True, random_state=0).reset_index(drop=True)
        data = Path(tmp) / "current.parquet"
        current.to_parquet(data, index=False)
        features, target = current[FEATURES], current["weather"]

        results: dict[str, dict[str, Any]] = {}
        for index, name in enumerate(args.models.split(",")):
            estimator, params = MODELS[name]
            trained = TrainModelOperator(
                task_id="train",
                estimator=estimator,
                params=params,
                data=str(train_csv),
                target="weather",
                registered_model_name=f"bench_{name}",
            ).execute(context_for(TaskInstanceStandIn(task_id="train", run_id=f"bench-{index}")))
            model = load_model(trained["model_uri"], "model_uri")
            spec = RobustnessSpec(
                task="classification",
                metric=default_metric("classification"),
                perturbations=default_perturbations(features, "classification"),
            )
            recorder = Recorder(model)
            evaluate(recorder, features, target, spec)  # warm-up, and records the calls to replay
            calls = recorder.calls
            samples: dict[str, list[float]] = {"bare": [], "evaluate": [], "operator": []}
            for attempt in range(args.repeat):
                samples["bare"].append(replay(model, calls))
                start = time.perf_counter()
                report = evaluate(model, features, target, spec)
                samples["evaluate"].append(time.perf_counter() - start)
                op = EvaluateRobustnessOperator(
                    task_id="robustness",
                    model_uri=trained["model_uri"],
                    data=str(data),
                    target="weather",
                    report_only=True,
                )
                ti = TaskInstanceStandIn(task_id="robustness", run_id=f"bench-{index}-{attempt}")
                start = time.perf_counter()
                op.execute(context_for(ti))
                samples["operator"].append(time.perf_counter() - start)
            medians = {mode: statistics.median(values) for mode, values in samples.items()}
            results[name] = {
                "rows": args.rows,
                "predict_calls": len(calls),
                "predicted_rows": sum(len(frame) for _, frame in calls),
                "audc": report.audc,
                "seconds": medians,
                "evaluate_vs_bare": medians["evaluate"] / medians["bare"],
                "operator_vs_bare": medians["operator"] / medians["bare"],
            }
    show(results, args.json)


if __name__ == "__main__":
    main()
