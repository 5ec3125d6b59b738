"""Training on real bundled datasets: task inference, preprocessing, metrics, bad configuration."""

from __future__ import annotations

import numpy as np
import pytest

from airflow_robust.exceptions import ConfigurationError, EmptyDataError, InvalidParameterError
from airflow_robust.training.estimators import build_estimator
from airflow_robust.training.fit import TrainingSpec, train
from tests.helpers import breast_cancer_frame, seattle_weather, wine_frame


def make_forest(n_estimators: int = 10) -> object:  # a user factory
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_estimators=n_estimators)


def test_binary_classification_on_breast_cancer() -> None:
    spec = TrainingSpec(estimator="sklearn.ensemble:ExtraTreesClassifier", target="target", params={"n_estimators": 50})
    result = train(breast_cancer_frame(), spec)
    assert result.task == "classification"
    assert result.n_train + result.n_holdout == 569
    assert result.metrics["accuracy"] > 0.9 and result.metrics["roc_auc"] > 0.95
    assert set(result.classes) == {"benign", "malignant"}


def test_regression_is_detected_from_the_estimator() -> None:
    spec = TrainingSpec(
        estimator="sklearn.ensemble.RandomForestRegressor", target="alcohol", params={"n_estimators": 20}
    )
    result = train(wine_frame().drop(columns=["target"]), spec)
    assert result.task == "regression"
    assert set(result.metrics) >= {"rmse", "mae", "r2"}
    assert result.metrics["r2"] > 0.3


def test_factory_and_categoricals_with_missing_values() -> None:
    frame = seattle_weather()
    frame.loc[frame.index[::17], "wind"] = np.nan
    frame["season"] = frame["month"].map(lambda m: "winter" if m in (12, 1, 2) else "other")
    spec = TrainingSpec(
        estimator="tests.unit.test_training:make_forest",
        target="weather",
        params={"n_estimators": 15},
        features=["precipitation", "temp_max", "wind", "season"],
    )
    result = train(frame, spec)
    assert result.task == "classification"
    assert "preprocess" in dict(result.model.named_steps)
    assert result.metrics["accuracy"] > 0.5


def test_same_seed_same_model_metrics() -> None:
    spec = TrainingSpec(
        estimator="sklearn.ensemble:RandomForestClassifier", target="target", params={"n_estimators": 10}, seed=7
    )
    assert train(wine_frame(), spec).metrics == train(wine_frame(), spec).metrics


def test_datetime_columns_are_dropped_by_default() -> None:
    spec = TrainingSpec(estimator="sklearn.tree:DecisionTreeClassifier", target="weather")
    result = train(seattle_weather(), spec)
    assert result.dropped_columns == ["date"]
    assert "date" not in result.features


@pytest.mark.parametrize(
    ("spec_kwargs", "error", "match"),
    [
        ({"target": "no_such_column"}, InvalidParameterError, "'target' parameter of TrainModelOperator"),
        ({"features": ["nope"]}, InvalidParameterError, "'features' parameter"),
        ({"estimator": "sklearn.ensemble:NoSuchModel"}, ConfigurationError, "has no attribute"),
        ({"estimator": "no_such_package.mod:X"}, ConfigurationError, "Cannot import module"),
        (
            {"estimator": "json:dumps"},
            ConfigurationError,
            "keyword arguments accepted by json:dumps|must build a scikit-learn estimator",
        ),
        ({"params": {"n_estimatorz": 3}}, InvalidParameterError, "'params' parameter of TrainModelOperator"),
        ({"params": {"n_estimators": -1}}, InvalidParameterError, "'n_estimators' parameter of RandomForest"),
        ({"task": "regression"}, ConfigurationError, "contradicts the estimator"),
    ],
)
def test_bad_configuration(spec_kwargs: dict[str, object], error: type[Exception], match: str) -> None:
    base: dict[str, object] = {
        "estimator": "sklearn.ensemble:RandomForestClassifier",
        "target": "target",
        "owner": "TrainModelOperator",  # the operator passes its name; the domain default is "training"
    }
    base.update(spec_kwargs)
    with pytest.raises(error, match=match):
        train(wine_frame(), TrainingSpec(**base))  # type: ignore[arg-type]


def test_all_targets_missing_fails_closed() -> None:
    frame = wine_frame()
    frame["target"] = np.nan
    with pytest.raises(EmptyDataError, match="missing 'target'"):
        train(frame, TrainingSpec(estimator="sklearn.tree:DecisionTreeClassifier", target="target"))


def test_build_estimator_rejects_non_estimators() -> None:
    with pytest.raises(ConfigurationError, match="must build a scikit-learn estimator"):
        build_estimator("collections:OrderedDict")
