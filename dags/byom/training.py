"""Your own training code: fit a model with your library, log it with its MLflow flavor.

Nothing here knows airflow-robust: the example ``robust_bring_your_own_model`` calls
:func:`train_and_log` inside ``mlflow_stage_run`` (so it logs into the same MLflow store and DAG run).
Flavors: ``xgboost``, ``lightgbm``, ``sklearn-pipeline``, ``sklearn-tree``, ``sklearn-linear``, and
custom ``mlflow.pyfunc`` models from code (:mod:`byom.pyfunc_model`): ``pyfunc-proba`` (returns one
``proba_<class>`` column per class), ``pyfunc-labels`` (labels only), ``pyfunc-linear`` (regression).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.models import infer_signature

PYFUNC_CODE = str(Path(__file__).with_name("pyfunc_model.py"))
#: what the model needs at serving time; given explicitly, as users in a hurry do (MLflow's inference takes ~8 s)
REQUIREMENTS = {
    "sklearn": ["scikit-learn", "pandas", "numpy"],
    "xgboost": ["xgboost", "scikit-learn", "pandas"],
    "lightgbm": ["lightgbm", "scikit-learn", "pandas"],
    "pyfunc": ["mlflow", "pandas", "numpy"],
}


def _sklearn(kind: str, task: str, quality: str) -> Any:
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    if kind == "pipeline":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    if kind == "tree":
        depth = 1 if quality == "worse" else 4
        return (
            DecisionTreeClassifier(max_depth=depth, random_state=0)
            if task == "classification"
            else (DecisionTreeRegressor(max_depth=depth, random_state=0))
        )
    return LinearRegression() if task == "regression" else LogisticRegression(max_iter=5000)


def fit(flavor: str, task: str, x: pd.DataFrame, y: pd.Series, quality: str = "good") -> Any:
    if flavor.startswith("sklearn"):
        return _sklearn(flavor.split("-", 1)[1], task, quality).fit(x, y)
    if flavor == "xgboost":
        import xgboost as xgb

        size = {"n_estimators": 1, "max_depth": 1} if quality == "worse" else {"n_estimators": 60, "max_depth": 3}
        model = xgb.XGBClassifier(**size) if task == "classification" else xgb.XGBRegressor(**size)
        return model.fit(x, y)
    if flavor == "lightgbm":
        import lightgbm as lgb

        model = lgb.LGBMClassifier if task == "classification" else lgb.LGBMRegressor
        return model(n_estimators=60, num_leaves=8, min_child_samples=5, verbose=-1).fit(x, y)
    raise ValueError(flavor)


def pyfunc_params(kind: str, x: pd.DataFrame, y: pd.Series) -> dict[str, Any]:
    mean, scale = x.mean().to_numpy(), x.std().replace(0, 1).to_numpy()
    z = (x.to_numpy(dtype=float) - mean) / scale
    params: dict[str, Any] = {"features": list(x.columns), "mean": mean.tolist(), "scale": scale.tolist()}
    if kind == "linear":
        design = np.column_stack([z, np.ones(len(z))])
        solution = np.linalg.lstsq(design, y.to_numpy(dtype=float), rcond=None)[0]
        params.update({"coef": solution[:-1].tolist(), "intercept": float(solution[-1])})
    else:
        classes = sorted(y.unique().tolist())
        params.update(
            {"classes": classes, "centroids": [z[(y == c).to_numpy()].mean(axis=0).tolist() for c in classes]}
        )
    return params


def train_and_log(flavor: str, task: str, data_uri: str, target: str, quality: str = "good") -> str:
    """Train on ``data_uri`` and log into the active MLflow run; return the logged model's URI."""
    frame = pd.read_csv(data_uri)
    x = frame.drop(columns=[target]).astype(float)
    y = frame[target]
    example = x.head(5)
    if flavor.startswith("pyfunc"):
        kind = flavor.split("-", 1)[1]
        folder = Path(tempfile.mkdtemp())
        (folder / "params.json").write_text(json.dumps(pyfunc_params(kind, x, y)))
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=PYFUNC_CODE,
            artifacts={"params": str(folder / "params.json")},
            model_config={"MODEL_KIND": kind},
            input_example=example,
            pip_requirements=REQUIREMENTS["pyfunc"],
        )
        return str(info.model_uri)
    model = fit(flavor, task, x, y, quality)
    signature = infer_signature(example, model.predict(example))
    common = {"name": "model", "signature": signature, "input_example": example}
    if flavor == "xgboost":
        info = mlflow.xgboost.log_model(model, pip_requirements=REQUIREMENTS["xgboost"], **common)
    elif flavor == "lightgbm":
        info = mlflow.lightgbm.log_model(model, pip_requirements=REQUIREMENTS["lightgbm"], **common)
    else:
        import skops.io

        trusted = skops.io.get_untrusted_types(data=skops.io.dumps(model))  # a model we just trained ourselves
        info = mlflow.sklearn.log_model(
            model, pip_requirements=REQUIREMENTS["sklearn"], skops_trusted_types=trusted, **common
        )
    return str(info.model_uri)
