from __future__ import annotations

import math

import pytest

from airflow_robust.exceptions import ConfigurationError, InvalidParameterError
from airflow_robust.params import import_path, non_empty_str, number_in, one_of, str_list, validate


def test_message_has_the_fixed_shape() -> None:
    with pytest.raises(InvalidParameterError) as info:
        validate("PromoteModelOperator", {"min_improvement": number_in(0, 1)}, {"min_improvement": 1.5})
    assert str(info.value) == (
        "The 'min_improvement' parameter of PromoteModelOperator must be a float in [0, 1]. Got 1.5 instead."
    )
    assert info.value.parameter == "min_improvement"
    assert isinstance(info.value, ConfigurationError)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("value", [math.nan, math.inf, True, "0.5", -0.1])
def test_number_rejects_nan_inf_bool_str(value: object) -> None:
    assert not number_in(0, 1).accepts(value)


def test_number_open_lower_bound_and_integers() -> None:
    assert not number_in(0, 1, low_open=True).accepts(0)
    assert number_in(0, 1, low_open=True).accepts(0.2)
    assert not number_in(0, 10, integer=True).accepts(2.0)
    assert number_in(0, 10, integer=True).accepts(2)


def test_optional_and_required() -> None:
    assert not non_empty_str().accepts(None)
    assert non_empty_str().or_none().accepts(None)
    assert not non_empty_str().accepts("   ")


def test_import_path_and_choices_and_lists() -> None:
    assert import_path().accepts("sklearn.ensemble:RandomForestClassifier")
    assert import_path().accepts("sklearn.ensemble.RandomForestClassifier")
    assert not import_path().accepts("rm -rf /")
    assert one_of("a", "b").accepts("a") and not one_of("a", "b").accepts("c")
    assert str_list().accepts(["x", "y"]) and not str_list().accepts("xy") and not str_list().accepts([""])


def test_long_values_are_shortened_in_messages() -> None:
    err = InvalidParameterError("data", "TrainModelOperator", "a path", "x" * 1000)
    assert len(str(err)) < 400
