"""Fit an estimator on a DataFrame and score it on a holdout: the core of TrainModelOperator."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from airflow_robust.data.columns import infinite_counts, require_column
from airflow_robust.exceptions import EmptyDataError, InvalidParameterError
from airflow_robust.training.estimators import TaskType, build_estimator
from airflow_robust.training.metrics import holdout_metrics
from airflow_robust.training.tasks import infer_task

MAX_ONE_HOT_CATEGORIES = 50


@dataclass(frozen=True)
class TrainingSpec:
    """What to train; ``owner`` names who asked (the operator, in a task) in error messages."""

    estimator: str
    target: str
    params: Mapping[str, Any] = field(default_factory=dict)
    task: str = "auto"
    features: Sequence[str] | None = None
    preprocess: str = "auto"
    test_size: float = 0.2
    seed: int = 42
    owner: str = "training"


@dataclass
class TrainingResult:
    """A fitted model with the figures TrainModelOperator logs."""

    model: Any
    task: TaskType
    features: list[str]
    dropped_columns: list[str]
    metrics: dict[str, float]
    n_train: int
    n_holdout: int
    rows_without_target: int
    train_features: pd.DataFrame
    holdout_source: str
    classes: list[Any] = field(default_factory=list)
    holdout_features: pd.DataFrame | None = None
    holdout_target: pd.Series | None = None


def select_features(frame: pd.DataFrame, spec: TrainingSpec) -> tuple[list[str], list[str]]:
    """Explicit ``features``, else every column but the target and date/time columns."""
    require_column(spec.owner, "target", spec.target, list(frame.columns))
    if spec.features is not None:
        missing = [c for c in spec.features if c not in frame.columns]
        if missing or spec.target in spec.features or not spec.features:
            raise InvalidParameterError(
                "features",
                spec.owner,
                f"a non-empty list of columns of the data other than the target ({_columns(frame)})",
                list(spec.features),
            )
        return list(spec.features), []
    dropped = [str(c) for c in frame.columns if c != spec.target and pd.api.types.is_datetime64_any_dtype(frame[c])]
    features = [str(c) for c in frame.columns if c != spec.target and str(c) not in dropped]
    if not features:
        raise InvalidParameterError("features", spec.owner, "at least one usable feature column", features)
    return features, dropped


def train(frame: pd.DataFrame, spec: TrainingSpec, validation: pd.DataFrame | None = None) -> TrainingResult:
    """Fit on ``frame`` (minus a seeded holdout unless ``validation`` is given) and score."""
    from sklearn.model_selection import train_test_split

    features, dropped = select_features(frame, spec)
    labelled = frame[frame[spec.target].notna()]
    without_target = len(frame) - len(labelled)
    if labelled.empty:
        raise EmptyDataError(f"Every row has a missing {spec.target!r} (the target): nothing to train on.")
    estimator = build_estimator(spec.estimator, spec.params, spec.owner)
    task = infer_task(labelled[spec.target], estimator, spec.task)
    check_training_frame(labelled, features, spec, task)
    if validation is not None:
        if spec.target not in validation.columns or any(c not in validation.columns for c in features):
            raise InvalidParameterError(
                "validation_data",
                spec.owner,
                f"data with the columns {[*features, spec.target]}",
                list(map(str, validation.columns)),
            )
        train_part, holdout = labelled, validation[validation[spec.target].notna()]
        holdout_source = "validation_data"
    else:
        if len(labelled) < 5:
            raise EmptyDataError(f"Only {len(labelled)} labelled rows: too few for a holdout split.")
        stratify = (
            labelled[spec.target]
            if task == "classification" and _can_stratify(labelled[spec.target], spec.test_size)
            else None
        )
        train_part, holdout = train_test_split(
            labelled, test_size=spec.test_size, random_state=spec.seed, stratify=stratify
        )
        holdout_source = f"seeded split (test_size={spec.test_size}, seed={spec.seed})"
    if holdout.empty:
        raise EmptyDataError("The holdout has no labelled rows.")
    model = wrap_with_preprocessing(estimator, train_part[features], spec.preprocess)
    _seed(model, spec.seed)
    try:
        model.fit(train_part[features], train_part[spec.target])
    except (ValueError, TypeError) as err:
        detail = f"{type(err).__name__}: {err}"
        raise InvalidParameterError("data", spec.owner, "data the estimator fits on", "<data>", detail) from err
    metrics = holdout_metrics(task, model, holdout[features], holdout[spec.target])
    return TrainingResult(
        model=model,
        task=task,
        features=features,
        dropped_columns=dropped,
        metrics=metrics,
        n_train=len(train_part),
        n_holdout=len(holdout),
        rows_without_target=without_target,
        train_features=train_part[features],
        holdout_source=holdout_source,
        classes=[_plain(c) for c in getattr(model, "classes_", [])],
        holdout_features=holdout[features],
        holdout_target=holdout[spec.target],
    )


#: a text column with more distinct values than this share of rows (and than the one-hot cap) is an identifier
IDENTIFIER_SHARE = 0.9


def check_training_frame(frame: pd.DataFrame, features: Sequence[str], spec: TrainingSpec, task: str) -> None:
    """Refuse data no model should be trained on, naming the column: fail before fitting, not inside it."""
    if task == "classification" and frame[spec.target].nunique() < 2:
        detail = f"It has one class: {frame[spec.target].iloc[0]!r}."
        raise InvalidParameterError("target", spec.owner, "a target with at least two classes", spec.target, detail)
    problems = []
    infinite = infinite_counts(frame, features)
    for column in features:
        values = frame[column]
        if values.isna().all():
            problems.append(f"column {column!r} has no values (all missing)")
        elif column in infinite:
            problems.append(f"column {column!r} has infinite values ({infinite[column]} rows)")
        elif not _is_numeric(values) and spec.preprocess == "none":
            problems.append(f"column {column!r} is not numeric ({values.dtype}) and preprocess='none'")
    if problems:
        raise InvalidParameterError(
            "data", spec.owner, "usable feature columns", "<data>", detail="; ".join(problems).capitalize() + "."
        )
    for column in features:
        values = frame[column]
        distinct = values.nunique()
        if not _is_numeric(values) and distinct > MAX_ONE_HOT_CATEGORIES and distinct >= IDENTIFIER_SHARE * len(values):
            raise InvalidParameterError(
                "features",
                spec.owner,
                "columns a model can learn from",
                list(features) if spec.features is not None else "<every column but the target>",
                detail=f"Column {column!r} has {distinct} distinct values in {len(values)} rows: an identifier? "
                "Leave it out with features=[...].",
            )


def wrap_with_preprocessing(estimator: Any, features: pd.DataFrame, preprocess: str) -> Any:
    """``auto``: impute and one-hot encode in a Pipeline unless the estimator is one already."""
    from sklearn.pipeline import Pipeline

    if preprocess == "none" or isinstance(estimator, Pipeline):
        return estimator
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import OneHotEncoder

    categorical = [c for c in features.columns if not _is_numeric(features[c])]
    numeric = [c for c in features.columns if c not in categorical]
    transformers: list[tuple[str, Any, list[str]]] = []
    if numeric:
        transformers.append(("numeric", SimpleImputer(strategy="median", keep_empty_features=True), numeric))
    if categorical:
        encoder = Pipeline(
            [
                ("impute", SimpleImputer(strategy="constant", fill_value="__missing__")),
                (
                    "one_hot",
                    OneHotEncoder(
                        handle_unknown="infrequent_if_exist", max_categories=MAX_ONE_HOT_CATEGORIES, sparse_output=False
                    ),
                ),
            ]
        )
        transformers.append(("categorical", encoder, categorical))
    columns = ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=False)
    return Pipeline([("preprocess", columns), ("model", estimator)])


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _can_stratify(target: pd.Series, test_size: float) -> bool:
    counts = target.value_counts()
    return bool(counts.min() >= 2 and len(counts) <= test_size * len(target))


def _seed(model: Any, seed: int) -> None:
    """Set ``random_state`` wherever the user left it unset, so a run is reproducible."""
    if not hasattr(model, "get_params"):
        return
    unset = {k: seed for k, v in model.get_params().items() if k.endswith("random_state") and v is None}
    if unset:
        model.set_params(**unset)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _columns(frame: pd.DataFrame, limit: int = 20) -> str:
    names = [str(c) for c in frame.columns[:limit]]
    more = "" if len(frame.columns) <= limit else f", ... {len(frame.columns) - limit} more"
    return ", ".join(repr(n) for n in names) + more
