"""A reviewer in a real browser (Debian's Chromium driven by Playwright) on the production topology.

The MLflow UI model version page of a pending challenger shows the review: at 1440x900, without
scrolling, the decision to make, each gate's key figures and the links to runs and plots (one click on
the robustness curve link shows the plot); ``robust.approval=pending``, alias ``challenger``. The reviewer adds
``robust.approval.by`` and edits ``robust.approval`` to ``approved`` with the page's own controls;
the deferred ``ModelApprovalSensor`` releases in the triggerer and ``deploy`` moves ``@champion``.
Then the Airflow UI's task page offers the "MLflow run" extra link to the task's own MLflow run.
Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests

from tests.integration.stack import Stack, wait_for

pytestmark = pytest.mark.integration
CHROMIUM = "/usr/bin/chromium"
MODEL = "seattle_weather"
REVIEWER = "reviewer@example.com"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not (os.path.exists(CHROMIUM) and shutil.which(CHROMIUM)):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{CHROMIUM} is required under CI=true (make installs Debian's chromium)")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-background-networking", "--disable-gpu"],
            timeout=180_000,  # a cold start on a busy 2-core machine can take longer than the default 30 s
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def reviewed(stack: Stack, browser: Any, artifacts_dir: Path) -> dict[str, Any]:
    stack.wait_for_dag("robust_promotion")
    run_id = stack.trigger("robust_promotion")
    wait_for(
        lambda: stack.task_states("robust_promotion", run_id).get("approval") == "deferred",
        900,
        "the promotion to wait for a reviewer",
        logs=stack,
    )
    version = stack.xcom("robust_promotion", run_id, "train")["version"]
    seen = _first_screen(stack, browser, artifacts_dir, version)
    page = browser.new_page(viewport={"width": 1440, "height": 1800})
    page.goto(f"{stack.mlflow_url}/#/models/{MODEL}/versions/{version}")
    approval = page.locator('tr[data-row-key="robust.approval"]')
    approval.wait_for(timeout=60_000)
    seen |= {
        "approval_before": approval.locator("td").nth(1).inner_text().strip(),
        "description": page.get_by_test_id("note-editor-preview-content").inner_text(),
        "aliases": page.get_by_text("@ challenger").count(),
    }
    page.screenshot(path=str(artifacts_dir / "mlflow_model_version_pending.png"), full_page=True)
    # the provider's page in the Airflow UI: refused without a login, the pending review for a logged-in user
    seen["anonymous_api"] = requests.get(f"{stack.api_url}/airflow-robust/api/reviews", timeout=30).status_code
    seen["review_page"] = _reviews_page(stack, browser, artifacts_dir, "airflow_model_reviews_pending.png").get(
        f"review:{version}", ""
    )
    # the reviewer signs the review, then approves, with the page's own controls
    page.get_by_placeholder("Name").fill("robust.approval.by")
    page.get_by_placeholder("Value").fill(REVIEWER)
    page.get_by_role("button", name="Add").click()
    page.locator('tr[data-row-key="robust.approval.by"]').wait_for(timeout=30_000)
    approval.get_by_test_id("editable-table-button-edit").click()
    field = approval.get_by_test_id("editable-table-edited-input")
    field.fill("approved")
    approval.get_by_test_id("editable-table-button-save").click()
    wait_for(lambda: approval.locator("td").nth(1).inner_text().strip() == "approved", 30, "the UI to save the tag")
    page.screenshot(path=str(artifacts_dir / "mlflow_model_version_approved.png"), full_page=True)
    page.close()
    final = stack.wait_run("robust_promotion", run_id, timeout=600)
    seen["history_page"] = _reviews_page(stack, browser, artifacts_dir, "airflow_model_reviews_history.png").get(
        "history", ""
    )
    return {"run_id": run_id, "version": version, "seen": seen, "final": final}


def _first_screen(stack: Stack, browser: Any, artifacts_dir: Path, version: str) -> dict[str, Any]:
    """What a reviewer sees at 1440x900 without scrolling, and where one click on the plot link leads."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.goto(f"{stack.mlflow_url}/#/models/{MODEL}/versions/{version}")
    description = page.get_by_test_id("note-editor-preview-content")
    description.wait_for(timeout=60_000)
    targets = {
        "decision": description.get_by_text("Decide: may version", exact=False).first,
        "robustness figures": description.get_by_text("AUDC", exact=False).first,
        "validation figures": description.get_by_text("expectations met", exact=False).first,
        "curve link": description.get_by_role("link", name="curve", exact=True),
        "comparison link": description.get_by_role("link", name="comparison", exact=True),
        "decision run link": description.get_by_role("link", name="decision run", exact=True),
    }
    boxes = {name: locator.bounding_box() for name, locator in targets.items()}
    page.screenshot(path=str(artifacts_dir / "mlflow_model_version_first_screen.png"))
    link = targets["curve link"]
    href = link.get_attribute("href")
    if link.get_attribute("target") == "_blank":
        with context.expect_page() as opened:
            link.click()
        plot_page = opened.value
    else:
        link.click()
        plot_page = page
    image = plot_page.locator("img[src^='blob:']").first
    image.wait_for(timeout=60_000)
    plot_page.screenshot(path=str(artifacts_dir / "mlflow_plot_after_one_click.png"))
    seen = {"boxes": boxes, "plot_href": href, "plot_url": plot_page.url, "plot_box": image.bounding_box()}
    context.close()
    return seen


def _reviews_page(stack: Stack, browser: Any, artifacts_dir: Path, screenshot: str) -> dict[str, str]:
    """The *Model reviews* page as a logged-in Airflow user sees it: text of each review and of the history."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.add_cookies([{"name": "_token", "value": stack.token(), "url": stack.api_url}])
    page = context.new_page()
    page.goto(f"{stack.api_url}/airflow-robust/")
    page.get_by_role("heading", name="Model reviews").wait_for(timeout=60_000)
    texts = {
        f"review:{section.get_attribute('data-version')}": section.inner_text()
        for section in page.locator(f"section.review[data-model='{MODEL}']").all()
    }
    history = page.locator(f"section.history[data-model='{MODEL}']")
    if history.count():
        texts["history"] = history.inner_text()
    page.screenshot(path=str(artifacts_dir / screenshot), full_page=True)
    context.close()
    return texts


def test_reviewer_approves_in_the_mlflow_ui_and_deploy_moves_the_champion(
    stack: Stack, reviewed: dict[str, Any], artifacts_dir: Path
) -> None:
    seen, version = reviewed["seen"], reviewed["version"]
    assert seen["approval_before"] == "pending" and seen["aliases"] >= 1
    assert "airflow-robust promotion: pending approval" in seen["description"]
    assert "expectations met" in seen["description"] and "AUDC" in seen["description"]
    assert (artifacts_dir / "mlflow_model_version_pending.png").stat().st_size > 10_000
    # at 1440x900, without scrolling: the decision to make, each gate's figures and the links to the evidence
    for name, box in seen["boxes"].items():
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 900, (name, box)
    # one click on the plot link shows the robustness curve in MLflow
    assert seen["plot_href"].endswith("/artifacts/degradation_curve.png") and seen["plot_url"] == seen["plot_href"]
    assert seen["plot_box"] is not None and seen["plot_box"]["width"] > 200 and seen["plot_box"]["height"] > 150
    # the provider's Airflow page: the pending review with its verified evidence, then the alias history
    assert seen["anonymous_api"] == 401
    assert f"{MODEL} version {version}" in seen["review_page"] and "Decide: may version" in seen["review_page"]
    assert "gate:robustness" in seen["review_page"] and "does not verify" not in seen["review_page"]
    assert f"→ {version}" in seen["history_page"] and " UTC" in seen["history_page"], seen["history_page"]
    assert (artifacts_dir / "airflow_model_reviews_pending.png").stat().st_size > 10_000
    assert reviewed["final"]["state"] == "success", stack.task_states("robust_promotion", reviewed["run_id"])
    states = stack.task_states("robust_promotion", reviewed["run_id"])
    assert states["approval"] == "success" and states["deploy"] == "success"
    champion = stack.mlflow("GET", "/registered-models/alias", params={"name": MODEL, "alias": "champion"})
    assert champion["model_version"]["version"] == version
    tags = {t["key"]: t["value"] for t in champion["model_version"]["tags"]}
    assert tags["robust.approval"] == "approved" and tags["robust.approval.by"] == REVIEWER
    assert tags["robust.approval.decided_at"] and tags["robust.deploy.status"] == "deployed"
    sensor = stack.xcom("robust_promotion", reviewed["run_id"], "approval")
    assert sensor["status"] == "approved" and sensor["by"] == REVIEWER


def test_airflow_task_page_links_to_the_tasks_mlflow_run(
    stack: Stack, reviewed: dict[str, Any], browser: Any, artifacts_dir: Path
) -> None:
    run_id = reviewed["run_id"]
    experiment = stack.mlflow("GET", "/experiments/get-by-name", params={"experiment_name": "airflow/robust_promotion"})
    experiment_id = experiment["experiment"]["experiment_id"]
    runs = stack.mlflow(
        "POST",
        "/runs/search",
        json={
            "experiment_ids": [experiment_id],
            "filter": f"tags.`airflow.run_id` = '{run_id}' and tags.`airflow.task_id` = 'train'",
        },
    )["runs"]
    assert len(runs) == 1
    expected = f"{stack.mlflow_url}/#/experiments/{experiment_id}/runs/{runs[0]['info']['run_id']}"
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_cookies([{"name": "_token", "value": stack.token(), "url": stack.api_url}])
    page = context.new_page()
    page.goto(f"{stack.api_url}/dags/robust_promotion/runs/{quote(run_id, safe='')}/tasks/train/details")
    link = page.get_by_role("link", name="MLflow run")
    link.wait_for(timeout=60_000)
    assert link.get_attribute("href") == expected
    page.screenshot(path=str(artifacts_dir / "airflow_task_mlflow_link.png"), full_page=True)
    context.close()
