"""The provider's *Model reviews* page: Airflow's login required, verified evidence, alias history, on a real store.

The FastAPI app is the one the plugin mounts on Airflow's api-server, with Airflow's own ``get_user``
dependency and tokens minted by Airflow's SimpleAuthManager; the MLflow store and the models are real.
The browser test on the production topology (``tests/integration/test_browser_review.py``) opens it
through the Airflow UI.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from mlflow import MlflowClient

from airflow_robust.operators.deploy import DeployModelOperator
from airflow_robust.operators.promote import PromoteModelOperator
from airflow_robust.operators.train import TrainModelOperator
from tests.helpers import cancer_split, execute
from tests.operators.test_approvals import MODEL, RULES, ok, pending_version


@pytest.fixture
def page(airflow_db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, str]]:
    monkeypatch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "a-test-secret-of-enough-length-0123456789")
    from airflow.api_fastapi.app import create_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    from airflow_robust.plugins import AirflowRobustPlugin
    from airflow_robust.plugins.review_page import create_app

    assert AirflowRobustPlugin.fastapi_apps[0]["url_prefix"] == "/airflow-robust"
    token = create_auth_manager().generate_jwt(SimpleAuthManagerUser(username="alice", role="viewer"))
    with TestClient(create_app()) as client:
        yield client, token


def _champion_and_pending(tmp_path: Path) -> tuple[str, str]:
    data = cancer_split(tmp_path)
    first = ok(
        execute(
            TrainModelOperator(
                task_id="train",
                estimator="sklearn.linear_model:LogisticRegression",
                params={"C": 0.01, "max_iter": 5000},
                data=data["train"],
                target="target",
                registered_model_name=MODEL,
            ),
            "r1",
        )
    )
    champion = str(first["version"])
    ok(
        execute(
            PromoteModelOperator(
                task_id="promote",
                model_name=MODEL,
                candidate_version=champion,
                rules=RULES,
                evaluation_data=data["test"],
                target="target",
                approval="auto",
                required_gates=[],
            ),
            "r1",
        )
    )
    ok(execute(DeployModelOperator(task_id="deploy", model_name=MODEL, version=champion), "r1"))
    return champion, pending_version(data, "r2")


def test_the_page_needs_an_airflow_login(mlflow_store: dict[str, str], page: tuple[TestClient, str]) -> None:
    client, token = page
    for path in ("/", "/api/reviews", "/api/history?model=cancer", "/api/artifact?run_id=x&path=decision.json"):
        assert client.get(path).status_code == 401, path  # anonymous
        assert client.get(path, cookies={"_token": "forged"}).status_code in (401, 403), path
    assert client.get("/api/reviews", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_pending_review_evidence_and_alias_history(
    mlflow_store: dict[str, str], tmp_path: Path, page: tuple[TestClient, str]
) -> None:
    champion, pending = _champion_and_pending(tmp_path)
    client, token = page
    cookies = {"_token": token}  # what the Airflow UI's login leaves in the browser

    reviews: list[dict[str, Any]] = client.get("/api/reviews", cookies=cookies).json()
    assert [(r["model"], r["version"], r["verified"]) for r in reviews] == [(MODEL, pending, True)]
    decision = reviews[0]["decision"]
    assert decision["champion_version"] == champion and decision["decision"] == "pending_approval"
    assert "f1_macro:bounds" in decision["checks"]

    history = client.get(f"/api/history?model={MODEL}", cookies=cookies).json()
    assert [(e["alias"], e["from"], e["to"]) for e in history] == [("champion", "", champion)]

    html = client.get("/", cookies=cookies).text
    assert f"{MODEL} version {pending} &rarr; @champion (now version {champion})" in html
    assert f"Decide: may version {pending} replace @champion?" in html
    assert "f1_macro:bounds" in html and "Evidence does not verify" not in html
    # the evidence table: the decision row links the comparison plot the promotion logged to its run
    assert "<table class='evidence'>" in html and "champion_vs_challenger.png'>comparison</a>" in html
    assert decision["evaluation_data"] == str(tmp_path / "test.csv")
    assert f"evaluation data {decision['evaluation_data']} (digest {decision['data_digest']})" in html
    assert f"<td>- &rarr; {champion}</td>" in html  # the alias history, from -> to
    assert " UTC</td>" in html  # readable times, not epoch seconds

    # the signed decision itself can be opened; model files cannot be fetched through the page
    run_id = reviews[0]["run_id"]
    assert client.get(f"/api/artifact?run_id={run_id}&path=decision.json", cookies=cookies).json()["gate"] == (
        "promotion"
    )
    assert client.get(f"/api/artifact?run_id={run_id}&path=model/model.pkl", cookies=cookies).status_code == 400
    assert client.get(f"/api/artifact?run_id={run_id}&path=../x.png", cookies=cookies).status_code == 400

    # a hand-edited pointer does not verify: the page says so and does not offer the decision
    store = MlflowClient(tracking_uri=mlflow_store["tracking_uri"])
    store.set_model_version_tag(MODEL, pending, "robust.promotion.run_id", history[0]["run_id"])
    reviews = client.get("/api/reviews", cookies=cookies).json()
    assert reviews[0]["verified"] is False and reviews[0]["problem"]
    html = client.get("/", cookies=cookies).text
    assert "Evidence does not verify" in html and "Decide:" not in html
