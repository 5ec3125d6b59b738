"""What the review shows, as pure logic: gate figures, sameness, plots, the validation page, @-mentions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from airflow_robust.promotion.compare import same_predictions
from airflow_robust.promotion.evidence import artifact_url, key_figures
from airflow_robust.promotion.plots import comparison_png, robustness_png
from airflow_robust.promotion.review import no_mentions, with_status
from airflow_robust.training.metrics import Predictions
from airflow_robust.validation.engine import ExpectationOutcome
from airflow_robust.validation.report import html_report
from airflow_robust.validation.spec import ExpectationSpec


def test_validation_figures_come_from_the_runs_metrics() -> None:
    logged = {"evaluated": 9.0, "failed": 1.0, "rows": 1095.0, "quarantined_rows": 4.0, "success_percent": 88.9}
    assert key_figures("validation", logged, {}) == "8/9 expectations met, 1,095 rows, 4 quarantined"
    assert key_figures("validation", {}, {}) == ""


def test_robustness_figures_name_the_worst_perturbation() -> None:
    logged = {
        "clean_metric": 0.5098,
        "audc": 0.9116,
        "audc.noise": 0.7389,
        "audc.missing": 0.8948,
        "worst_slice_ratio": 0.8543,
        "ece": 0.1102,
        "flip_rate": float("nan"),
    }
    figures = key_figures("robustness", logged, {"metric": "f1_macro"})
    assert figures == "clean f1_macro 0.51, AUDC 0.912 (worst: noise 0.739), worst slice 0.854, ECE 0.11"


def test_other_gates_show_the_rule_metrics_first() -> None:
    logged = {"accuracy": 0.65, "f1_macro": 0.51, "log_loss": 0.92}
    assert key_figures("registration", logged, {}, ["f1_macro"]) == "holdout f1_macro 0.51"
    assert key_figures("custom", {"z": 1.0, "a": 2.0}, {}) == "a 2, z 1"


def test_artifact_links_open_the_mlflow_artifact_view() -> None:
    url = artifact_url("http://mlflow:5000/", "3", "abc", "data_docs/index page.html")
    assert url == "http://mlflow:5000/#/experiments/3/runs/abc/artifacts/data_docs/index%20page.html"


def _predictions(predicted: list[int], proba: list[list[float]] | None) -> Predictions:
    return Predictions(
        y=np.array([0, 1, 1]),
        predicted=np.array(predicted),
        proba=None if proba is None else np.array(proba),
        classes=[0, 1],
    )


def test_same_predictions_needs_labels_and_probabilities_to_agree() -> None:
    proba = [[0.9, 0.1], [0.2, 0.8], [0.4, 0.6]]
    assert same_predictions(_predictions([0, 1, 1], proba), _predictions([0, 1, 1], proba))
    assert not same_predictions(_predictions([0, 1, 1], proba), _predictions([0, 1, 0], proba))
    shifted = [[0.8, 0.2], [0.2, 0.8], [0.4, 0.6]]
    assert not same_predictions(_predictions([0, 1, 1], proba), _predictions([0, 1, 1], shifted))
    assert not same_predictions(_predictions([0, 1, 1], proba), _predictions([0, 1, 1], None))
    assert same_predictions(_predictions([0, 1, 1], None), _predictions([0, 1, 1], None))


def test_comparison_plot_is_drawn_with_or_without_a_champion(tmp_path: Path) -> None:
    path = str(tmp_path / "compare.png")
    drawn = comparison_png(
        {"f1_macro": 0.8, "accuracy": 0.9},
        {"f1_macro": 0.75, "accuracy": None},
        {"f1_macro": (0.01, 0.09)},
        ("version 2", "champion (version 1)"),
        path,
    )
    assert drawn == path and Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    alone = str(tmp_path / "alone.png")
    assert comparison_png({"f1_macro": 0.8}, None, {}, ("version 1", "no champion"), alone) == alone
    assert comparison_png({"f1_macro": None}, None, {}, ("v", "c"), str(tmp_path / "none.png")) is None
    assert not (tmp_path / "none.png").exists()


def test_robustness_plot_overlays_the_champion_when_known(tmp_path: Path) -> None:
    curves = {"noise": [{"severity": 0.1, "rr": 0.9}, {"severity": 0.5, "rr": 0.7}]}
    path = str(tmp_path / "curve.png")
    assert robustness_png({"curves": curves, "metric": "f1_macro"}, {"curves": curves}, ("v2", "v1"), path) == path
    assert Path(path).stat().st_size > 5_000
    assert robustness_png({"curves": {}}, None, ("v2", "v1"), str(tmp_path / "empty.png")) is None


def test_validation_page_is_self_contained_and_lists_failures_first() -> None:
    ok = ExpectationOutcome(
        ExpectationSpec("expect_column_values_to_not_be_null", {"column": "wind"}), True, 0, 0.0, 100
    )
    bad = ExpectationOutcome(
        ExpectationSpec("expect_column_values_to_be_between", {"column": "temp_max", "max_value": 50}),
        False,
        3,
        3.0,
        100,
        partial_unexpected_list=[99.0, 120.5, 3e9],
    )
    summary = {
        "success": False,
        "statistics": {"successful_expectations": 1, "evaluated_expectations": 2, "critical_failures": 1},
        "rows": 100,
        "quarantined_rows": 3,
        "data_digest": "abc",
    }
    page = html_report([ok, bad], summary, "s3://bucket/<weather>.csv")
    assert "<link" not in page and "<script" not in page and "<style>" in page
    assert page.index("temp_max") < page.index("wind")  # the failure comes first
    assert "NOT MET" in page and "3 (3.00%)" in page and "120.5" in page
    assert "<code>{&quot;max_value&quot;: 50}</code>" in page  # the rule that failed, beside its name
    assert "s3://bucket/&lt;weather&gt;.csv" in page and "FAILED" in page


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("deployed to @champion (was 1)", "deployed to \\@champion (was 1)"),
        ("@champion first", "\\@champion first"),
        ("mail a@b.c and models:/m@champion stay", "mail a@b.c and models:/m@champion stay"),
    ],
)
def test_alias_mentions_are_not_links_in_mlflow(text: str, expected: str) -> None:
    assert no_mentions(text) == expected
    assert f"**Status: {expected}**" in with_status("", text, at=0)
