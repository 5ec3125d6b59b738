from __future__ import annotations

import json

import numpy as np

from airflow_robust.drift.profile import ReferenceProfile, build_profile
from tests.helpers import seattle_weather


def test_profile_of_seattle_weather_round_trips_through_json() -> None:
    frame = seattle_weather()
    profile = build_profile(frame, target="weather", bins=10)
    assert profile.rows == 1461
    assert "date" not in profile.columns
    temp = profile.columns["temp_max"]
    assert temp.kind == "numeric"
    assert sum(temp.counts) == temp.count == 1461
    assert temp.edges == sorted(temp.edges) and temp.min == frame["temp_max"].min()
    weather = profile.columns["weather"]
    assert weather.kind == "categorical"
    assert weather.frequencies["rain"] == int((frame["weather"] == "rain").sum())
    restored = ReferenceProfile.from_dict(json.loads(json.dumps(profile.to_dict())))
    assert restored == profile


def test_quantile_bins_hold_roughly_equal_counts_and_nulls_are_counted() -> None:
    rng = np.random.default_rng(0)
    import pandas as pd

    values = rng.normal(size=10_000)
    values[:100] = np.nan
    profile = build_profile(pd.DataFrame({"x": values}), bins=20)
    x = profile.columns["x"]
    assert x.nulls == 100 and x.count == 9_900
    assert max(x.counts) - min(x.counts) <= 2


def test_many_categories_are_pooled() -> None:
    import pandas as pd

    frame = pd.DataFrame({"c": [f"v{i}" for i in range(500)]})
    col = build_profile(frame, max_categories=10).columns["c"]
    assert len(col.frequencies) == 11 and col.frequencies["__other__"] == 490 and col.distinct == 500
