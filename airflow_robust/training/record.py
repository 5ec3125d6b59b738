"""Log a training result into the active MLflow run: params, metrics, dataset, model, profile."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from typing import Any

import pandas as pd

from airflow_robust.drift.profile import build_profile
from airflow_robust.exceptions import ConfigurationError
from airflow_robust.registry.tags import DATA_DIGEST_TAG, DATA_URI_TAG, TASK_TAG
from airflow_robust.training.fit import TrainingResult, TrainingSpec

MAX_PARAM_LENGTH = 6000
TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.")
INPUT_EXAMPLE_ROWS = 5


@dataclass(frozen=True)
class LoggedModel:
    model_uri: str
    model_id: str | None


def log_training(
    result: TrainingResult,
    spec: TrainingSpec,
    data: pd.DataFrame,
    *,
    data_uri: str,
    digest: str,
    profile_bins: int = 20,
) -> LoggedModel:
    """Log everything about ``result`` into the active run; return where the model went."""
    import mlflow
    from mlflow.data.pandas_dataset import from_pandas
    from mlflow.models import infer_signature

    mlflow.log_params(_params(result, spec))
    mlflow.log_metrics(result.metrics)
    with warnings.catch_warnings():
        # a plain path "can be interpreted in multiple ways" (all of them local files), and the
        # dataset schema hint about integer columns is addressed by signature_example()
        warnings.simplefilter("ignore", UserWarning)
        dataset = from_pandas(
            data, source=dataset_source(data_uri), targets=spec.target, name=_dataset_name(data_uri), digest=digest
        )
        mlflow.log_input(dataset, context="training")
    example = signature_example(result.train_features.head(INPUT_EXAMPLE_ROWS))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
        signature = infer_signature(example, result.model.predict(example))
    with warnings.catch_warnings():
        # skops walks sys.modules; Airflow's deprecated aliases would flood the task log
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        info = mlflow.sklearn.log_model(
            result.model,
            name="model",
            signature=signature,
            input_example=example,
            serialization_format="skops",
            skops_trusted_types=trusted_types(result.model),
            pip_requirements=mlflow.sklearn.get_default_pip_requirements(include_skops=True),
        )
    profile = build_profile(data[[*result.features, spec.target]], target=spec.target, bins=profile_bins)
    profile.meta.update({"data_uri": data_uri, "digest": digest, "features": result.features, "task": result.task})
    if result.holdout_features is not None and result.holdout_target is not None:
        from airflow_robust.drift.model_view import reference_view

        profile.model = reference_view(
            result.model, result.task, result.holdout_features, result.holdout_target, result.metrics
        )
    mlflow.log_dict(profile.to_dict(), "reference_profile.json")
    mlflow.set_tags({TASK_TAG: result.task, DATA_URI_TAG: data_uri, DATA_DIGEST_TAG: digest})
    return LoggedModel(
        model_uri=str(info.model_uri),
        model_id=getattr(info, "model_id", None),
    )


def dataset_source(uri: str) -> Any:
    """MLflow's own source for URIs it understands (local files, s3, ...); else a plain URI record."""
    from mlflow.data.dataset_source_registry import resolve_dataset_source
    from mlflow.exceptions import MlflowException

    try:
        return resolve_dataset_source(uri)
    except MlflowException:
        from airflow_robust.tracking.sources import UriDatasetSource

        return UriDatasetSource(uri)


def signature_example(features: pd.DataFrame) -> pd.DataFrame:
    """Integer features as floats, so the signature accepts missing values the pipeline imputes."""
    out = features.copy()
    for column in out.columns:
        if pd.api.types.is_integer_dtype(out[column]) and not pd.api.types.is_bool_dtype(out[column]):
            out[column] = out[column].astype("float64")
    return out


def trusted_types(model: Any) -> list[str]:
    """The types skops must trust to load ``model``: only scikit-learn, NumPy and SciPy ones.

    The model was built by this process from an estimator the DAG names, so its own scikit-learn
    internals (e.g. ``sklearn.tree._tree.Tree``) are trusted; anything from another package is
    refused with a message rather than trusted blindly.
    """
    import skops.io as sio

    untrusted = sio.get_untrusted_types(data=sio.dumps(model))
    foreign = [t for t in untrusted if not t.startswith(TRUSTED_PREFIXES)]
    if foreign:
        raise ConfigurationError(
            f"The model contains types outside scikit-learn/NumPy/SciPy that cannot be saved safely with skops: "
            f"{foreign}. Use estimators from scikit-learn (or a Pipeline of them)."
        )
    return sorted(untrusted)


def _params(result: TrainingResult, spec: TrainingSpec) -> dict[str, str]:
    params: dict[str, Any] = {
        "estimator": spec.estimator,
        "task": result.task,
        "target": spec.target,
        "seed": spec.seed,
        "preprocess": spec.preprocess,
        "holdout": result.holdout_source,
        "n_features": len(result.features),
        "features": json.dumps(result.features),
        "train_rows": result.n_train,
        "holdout_rows": result.n_holdout,
        "rows_without_target": result.rows_without_target,
    }
    if result.dropped_columns:
        params["dropped_columns"] = json.dumps(result.dropped_columns)
    for key, value in dict(spec.params).items():
        params[f"model.{key}"] = value
    return {k: str(v)[:MAX_PARAM_LENGTH] for k, v in params.items()}


def _dataset_name(uri: str) -> str:
    tail = uri.rstrip("/").rsplit("/", 1)[-1]
    return tail or "training_data"
