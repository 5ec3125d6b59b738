"""A reviewer is told a review waits: Airflow notifiers on the promotion, run for real with dag.test()."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from airflow.sdk import DAG
from airflow.sdk.bases.notifier import BaseNotifier

from airflow_robust.exceptions import InvalidParameterError
from airflow_robust.operators.promote import PromoteModelOperator
from airflow_robust.operators.train import TrainModelOperator
from airflow_robust.registry.aliases import resolve
from tests.helpers import cancer_split, execute
from tests.system.test_example_dags import client_for

RULES = [{"metric": "f1_macro", "direction": "higher", "min": 0.6}]


class FileNotifier(BaseNotifier):
    """What a Slack/SMTP notifier does, into a file: render the templated message, send it."""

    template_fields = ("message",)

    def __init__(self, path: str, message: str, fail: bool = False) -> None:
        super().__init__()
        self.path = path
        self.message = message
        self.fail = fail

    def notify(self, context: Any) -> None:
        if self.fail:
            raise ConnectionError("the chat server is down")
        with open(self.path, "a") as handle:
            handle.write(json.dumps({"message": self.message, "review": context["airflow_robust"]}) + "\n")


MESSAGE = (
    "Review {{ airflow_robust.model }} v{{ airflow_robust.version }} ({{ dag.dag_id }}): "
    "{{ airflow_robust.mlflow_url }}"
)


def _dag(data: dict[str, str], model: str, notifiers: list[Any]) -> DAG:
    with DAG(dag_id=f"notify_{model}", schedule=None, catchup=False) as dag:
        train = TrainModelOperator(
            task_id="train",
            estimator="sklearn.linear_model:LogisticRegression",
            params={"C": 0.05, "max_iter": 5000},
            data=data["train"],
            target="target",
            registered_model_name=model,
        )
        PromoteModelOperator(
            task_id="promote",
            model_name=model,
            candidate_version=train.output["version"],
            rules=RULES,
            evaluation_data=data["test"],
            target="target",
            approval="manual",
            required_gates=[],
            notifiers=notifiers,
        )
    return _serialized(dag)


def _serialized(dag: DAG) -> DAG:
    """dag.test() runs DAGs the metadata DB knows: write this one there, as the DAG processor would."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

    DagBundlesManager().sync_bundles_to_db()
    bag = DagBag(dag_folder=str(Path(__file__).parent / "__nothing__"))
    bag.bag_dag(dag)
    sync_bag_to_db(bag, "dags-folder", None)
    return dag


def test_a_pending_review_notifies_with_a_deep_link(airflow_db: Path, tmp_path: Path) -> None:
    data = cancer_split(tmp_path)
    sent = tmp_path / "sent.jsonl"
    notifiers = [FileNotifier(str(sent), MESSAGE), FileNotifier(str(sent), MESSAGE, fail=True)]
    day = datetime(2026, 4, 1, tzinfo=timezone.utc)
    dag_run = _dag(data, "notify_cancer", notifiers).test(logical_date=day, run_after=day)
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert states == {"train": "success", "promote": "success"}
    promote = dag_run.get_task_instance("promote").xcom_pull(task_ids="promote")
    version = promote["candidate_version"]
    assert promote["decision"] == "pending_approval"
    # the working notifier sent one rendered message; the broken one is recorded, the decision stands
    lines = [json.loads(line) for line in sent.read_text().splitlines()]
    assert len(lines) == 1
    review = lines[0]["review"]
    assert review["model"] == "notify_cancer" and review["version"] == version
    assert review["decision"] == "pending_approval" and review["alias"] == "champion"
    assert review["mlflow_url"].endswith(f"/#/models/notify_cancer/versions/{version}")
    assert lines[0]["message"] == f"Review notify_cancer v{version} (notify_notify_cancer): {review['mlflow_url']}"
    assert promote["notified"] is False
    assert promote["notify_errors"] == ["FileNotifier: ConnectionError: the chat server is down"]
    client = client_for(airflow_db)
    record = client.get_model_version("notify_cancer", version)
    assert record.tags["robust.approval"] == "pending"
    # the page the link opens says, first, what to decide and where
    first = record.description.splitlines()[1]
    assert first.startswith(
        f"**Status: awaiting review. Decide: may version {version} replace \\@champion (no champion yet)? "
        "Approve or reject under *Required Actions* of the waiting Airflow task"
    ), first
    assert resolve(client, "notify_cancer", "challenger") == version


def test_notify_on_and_notifiers_are_checked(mlflow_store: dict[str, str], tmp_path: Path) -> None:
    data = cancer_split(tmp_path)
    for kwargs, parameter in (({"notifiers": "slack"}, "notifiers"), ({"notify_on": ["approved"]}, "notify_on")):
        _, err = execute(
            PromoteModelOperator(
                task_id="promote",
                model_name="cancer",
                candidate_version="1",
                rules=RULES,
                evaluation_data=data["test"],
                target="target",
                **kwargs,
            ),
            "r1",
        )
        assert isinstance(err, InvalidParameterError) and parameter in str(err), err


def test_a_rejection_notifies_only_when_asked(mlflow_store: dict[str, str], tmp_path: Path) -> None:
    decision = "rejected"
    data = cancer_split(tmp_path)
    sent = tmp_path / "sent.jsonl"
    trained, err = execute(
        TrainModelOperator(
            task_id="train",
            estimator="sklearn.dummy:DummyClassifier",
            data=data["train"],
            target="target",
            registered_model_name="cancer",
        ),
        "r1",
    )
    assert err is None and trained is not None
    for notify_on, expected in ((("pending_approval",), 0), ((decision,), 1)):
        result, err = execute(
            PromoteModelOperator(
                task_id="promote",
                model_name="cancer",
                candidate_version=str(trained["version"]),
                rules=RULES,
                evaluation_data=data["test"],
                target="target",
                required_gates=[],
                on_failure="warn",
                notifiers=FileNotifier(str(sent), "rejected: {{ airflow_robust.reason }}"),
                notify_on=notify_on,
            ),
            "r1",
        )
        assert err is None and result is not None and result["decision"] == decision
        lines = sent.read_text().splitlines() if sent.exists() else []
        assert len(lines) == expected
    message = json.loads(lines[0])["message"]
    assert message.startswith("rejected: ") and "f1_macro" in message
