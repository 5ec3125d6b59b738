"""The README's commands and examples are real: its two commands exist and its DAG snippets parse as DAGs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)


def test_readme_starts_with_the_two_commands() -> None:
    first_block = re.search(r"```bash\n(.*?)```", README, flags=re.DOTALL)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]
    makefile = (ROOT / "Makefile").read_text()
    for target in ("demo:", "test:", "ui:", "airflow-ui:"):
        assert f"\n{target}" in makefile


def test_drop_in_snippet_is_a_valid_dag(tmp_path: Path) -> None:
    from airflow.dag_processing.dagbag import DagBag

    (tmp_path / "readme_dag.py").write_text(python_blocks()[0])
    bag = DagBag(dag_folder=str(tmp_path))
    assert bag.import_errors == {}
    dag = bag.dags["churn_training"]
    train = dag.get_task("train")
    assert type(train).__name__ == "TrainModelOperator"
    assert train.model_params == {"n_estimators": 200, "max_depth": 8}
    assert dag.get_task("profile_input").downstream_task_ids == {"train"}
    assert [link.name for link in train.operator_extra_links] == ["MLflow run"]


def test_bring_your_own_model_snippet_is_a_valid_dag(tmp_path: Path) -> None:
    from airflow.dag_processing.dagbag import DagBag

    block = next(b for b in python_blocks() if "def churn_xgboost" in b)
    (tmp_path / "byom_dag.py").write_text(block)
    bag = DagBag(dag_folder=str(tmp_path))
    assert bag.import_errors == {}
    dag = bag.dags["churn_xgboost"]
    assert {t.task_id: type(t).__name__ for t in dag.tasks} == {
        "validate": "ValidateDataOperator",
        "train": "_PythonDecoratedOperator",
        "register": "RegisterModelOperator",
        "robustness": "EvaluateRobustnessOperator",
        "promote": "PromoteModelOperator",
        "approval": "ModelApprovalSensor",
        "deploy": "DeployModelOperator",
    }
    assert dag.get_task("register").upstream_task_ids == {"validate", "train"}
    assert "approval" in dag.get_task("deploy").upstream_task_ids
