"""`make demo` files each task's output where people look for it (`airflow dags test` writes no task logs)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "demo_summary.py"


def test_each_tasks_output_gets_its_own_file(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("demo_summary", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    log = tmp_path / "demo.log"
    log.write_text(
        "dag processor noise\n"
        "[info] [DAG TEST] starting task_id=validate map_index=-1\n"
        "[info] validation gate passed: all 9 critical expectations passed\n"
        "[info] [DAG TEST] end task task_id=validate map_index=-1\n"
        "between tasks\n"
        "[info] [DAG TEST] starting task_id=train map_index=-1\n"
        "[info] Registered version 3\n"
        "[info] [DAG TEST] end task task_id=train map_index=-1\n"
    )
    assert module.split_task_logs(log, tmp_path / "tasks") == ["validate", "train"]
    validate = (tmp_path / "tasks" / "validate.log").read_text().splitlines()
    assert len(validate) == 3 and "gate passed" in validate[1]
    assert "Registered version 3" in (tmp_path / "tasks" / "train.log").read_text()
    assert module.split_task_logs(tmp_path / "missing.log", tmp_path / "none") == []
