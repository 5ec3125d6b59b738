"""Custom ``mlflow.pyfunc.PythonModel`` models, logged "from code" (MLflow ships this file with the model).

``MODEL_KIND`` in the model config picks one: ``proba`` (nearest centroid; returns one
``proba_<class>`` column per class), ``labels`` (the same model, labels only) and ``linear``
(least-squares regression). Parameters live in the artifact ``params.json``.
"""

from __future__ import annotations

import json
from typing import Any

import mlflow
import numpy as np
import pandas as pd


class CentroidOrLinear(mlflow.pyfunc.PythonModel):  # type: ignore[misc]
    def load_context(self, context: Any) -> None:
        with open(context.artifacts["params"]) as handle:
            self.params = json.load(handle)
        self.kind = context.model_config["MODEL_KIND"]

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> Any:
        x = model_input[self.params["features"]].to_numpy(dtype=float)
        x = (x - np.asarray(self.params["mean"])) / np.asarray(self.params["scale"])
        if self.kind == "linear":
            return pd.Series(x @ np.asarray(self.params["coef"]) + self.params["intercept"], name="prediction")
        centroids = np.asarray(self.params["centroids"])
        distances = ((x[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
        classes = self.params["classes"]
        if self.kind == "labels":
            return pd.Series(np.asarray(classes)[distances.argmin(axis=1)], name="prediction")
        weights = np.exp(-(distances - distances.min(axis=1, keepdims=True)))
        proba = weights / weights.sum(axis=1, keepdims=True)
        return pd.DataFrame(proba, columns=[f"proba_{c}" for c in classes])


mlflow.models.set_model(CentroidOrLinear())
