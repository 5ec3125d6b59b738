"""Any model in the MLflow registry behind one interface: the scikit-learn estimator API.

Gates, batch scoring and monitoring call ``predict``, ``predict_proba`` (when it exists),
``classes_`` and ``feature_names_in_``. :func:`load_any` returns:

- the model itself when its MLflow flavor loads an object with the scikit-learn API: the
  ``sklearn`` flavor, and ``xgboost``/``lightgbm``/``catboost`` models logged from their
  scikit-learn wrappers (``XGBClassifier``, ``LGBMClassifier``, ``CatBoostClassifier``, ...):
  probabilities come from their own ``predict_proba``;
- otherwise a :class:`PyfuncModel` over ``mlflow.pyfunc`` (a custom ``PythonModel``, a native
  booster, any other flavor). If the model's signature declares two or more numeric outputs, they
  are read as class probabilities (column names, ``proba_``/``probability_`` prefixes removed, are
  the classes) and the wrapper is a :class:`PyfuncClassifier` with ``predict_proba``; else only
  ``predict`` exists, and figures that need probabilities are skipped with the reason
  :data:`NO_PROBABILITIES`.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

NATIVE_FLAVORS = ("sklearn", "xgboost", "lightgbm", "catboost")
PROBABILITY_PREFIXES = ("proba_", "probability_", "prob_")


def no_probabilities(model: Any) -> str | None:
    """Why ``model`` gives no class probabilities, or ``None`` when it does."""
    if hasattr(model, "predict_proba"):
        return None
    flavor = getattr(model, "flavor", type(model).__name__)
    return (
        f"the model ({flavor}) gives no class probabilities: its signature declares no probability columns "
        "and it has no predict_proba"
    )


def load_any(path: str) -> Any:
    """The model in local MLflow model directory ``path`` (see the module docstring)."""
    import mlflow
    from mlflow.models import Model

    meta = Model.load(path)
    with warnings.catch_warnings():
        # skops walks sys.modules when loading; Airflow's deprecated aliases would flood the task log
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        for flavor in NATIVE_FLAVORS:
            if flavor not in meta.flavors:
                continue
            loaded = _native(flavor, path)
            if _has_sklearn_api(loaded):
                _remember(loaded, flavor, meta.signature)
                return loaded
            break
        return PyfuncModel.wrap(mlflow.pyfunc.load_model(path), meta.signature)


def flavor_of(model: Any) -> str:
    return str(getattr(model, "flavor", None) or getattr(model, "_airflow_robust_flavor", "sklearn"))


def _native(flavor: str, path: str) -> Any:
    import importlib

    module = importlib.import_module(f"mlflow.{flavor}")
    return module.load_model(path)


def _has_sklearn_api(obj: Any) -> bool:
    return all(hasattr(obj, name) for name in ("fit", "predict", "get_params"))


def numeric_inputs(model: Any) -> list[str]:
    """The input columns the model's MLflow signature declares numeric (empty when it has no signature)."""
    signature = getattr(model, "signature", None) or getattr(model, "_airflow_robust_signature", None)
    inputs = getattr(signature, "inputs", None)
    if inputs is None or not getattr(inputs, "has_input_names", lambda: False)():
        return []
    numeric = ("double", "float", "long", "integer")
    return [str(s.name) for s in inputs.inputs if str(getattr(s, "type", "")).lower().rsplit(".", 1)[-1] in numeric]


def _remember(model: Any, flavor: str, signature: Any) -> None:
    """Note the flavor and signature; give a model without ``feature_names_in_`` the signature's input names."""
    try:
        model._airflow_robust_flavor = flavor
        model._airflow_robust_signature = signature
    except AttributeError:  # a model class with __slots__: nothing to remember
        return
    if not hasattr(model, "feature_names_in_"):
        names = _input_names(signature)
        if names:
            model._airflow_robust_features = names


def _input_names(signature: Any) -> list[str]:
    inputs = getattr(signature, "inputs", None)
    if inputs is None or not getattr(inputs, "has_input_names", lambda: False)():
        return []
    return [str(name) for name in inputs.input_names()]


def _output_columns(signature: Any) -> list[tuple[str, str]]:
    outputs = getattr(signature, "outputs", None)
    if outputs is None or not getattr(outputs, "has_input_names", lambda: False)():
        return []
    return [(str(spec.name), str(getattr(spec, "type", "")).lower().rsplit(".", 1)[-1]) for spec in outputs.inputs]


class PyfuncModel:
    """``mlflow.pyfunc`` behind ``predict`` (and ``feature_names_in_`` from the signature)."""

    flavor = "pyfunc"

    def __init__(self, model: Any, signature: Any) -> None:
        self._model = model
        self.signature = signature
        names = _input_names(signature)
        if names:
            self.feature_names_in_ = np.asarray(names, dtype=object)

    @staticmethod
    def wrap(model: Any, signature: Any) -> PyfuncModel:
        columns = _output_columns(signature)
        numeric = [name for name, kind in columns if kind in ("double", "float", "long", "integer")]
        if len(columns) >= 2 and len(numeric) == len(columns):
            return PyfuncClassifier(model, signature, [name for name, _ in columns])
        return PyfuncModel(model, signature)

    def raw(self, frame: pd.DataFrame) -> Any:
        return self._model.predict(frame)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        output = self.raw(frame)
        if isinstance(output, pd.DataFrame):
            if output.shape[1] == 1:
                return np.asarray(output.iloc[:, 0])
            labels = np.asarray(_labels([str(c) for c in output.columns]), dtype=object)
            picked: np.ndarray = labels[np.argmax(output.to_numpy(dtype=float), axis=1)]
            return picked
        values = np.asarray(output)
        if values.ndim == 2 and values.shape[1] == 1:
            column: np.ndarray = values[:, 0]
            return column
        if values.ndim == 2:
            return np.asarray(np.argmax(values, axis=1))
        return values


class PyfuncClassifier(PyfuncModel):
    """A pyfunc whose outputs are class probabilities: ``predict`` is their arg-max."""

    _estimator_type = "classifier"

    def __init__(self, model: Any, signature: Any, columns: list[str]) -> None:
        super().__init__(model, signature)
        self.columns = columns
        self.classes_ = np.asarray(_labels(columns), dtype=object)
        if all(isinstance(c, (int, np.integer)) for c in self.classes_):
            self.classes_ = self.classes_.astype(int)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        output = self.raw(frame)
        if isinstance(output, pd.DataFrame):
            missing = [c for c in self.columns if c not in output.columns]
            if missing:
                raise ValueError(f"the model's output lacks the probability columns {missing} its signature declares")
            return output[self.columns].to_numpy(dtype=float)
        return np.asarray(output, dtype=float)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        picked: np.ndarray = np.asarray(self.classes_)[np.argmax(self.predict_proba(frame), axis=1)]
        return picked


def _labels(columns: list[str]) -> list[Any]:
    """Class labels from probability column names: prefixes removed, integers as integers."""
    labels: list[Any] = []
    for column in columns:
        label = column
        for prefix in PROBABILITY_PREFIXES:
            if label.startswith(prefix):
                label = label[len(prefix) :]
                break
        labels.append(int(label) if label.lstrip("-").isdigit() else label)
    return labels
