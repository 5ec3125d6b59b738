"""The documentation site builds without a warning, has a page per operator and sensor, and shows every
parameter (read from the docstrings, so the pages cannot fall behind the code)."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

import airflow_robust

ROOT = Path(__file__).resolve().parent.parent
PAGES = {
    "ValidateDataOperator": "operators/validate",
    "TrainModelOperator": "operators/train",
    "RegisterModelOperator": "operators/register",
    "EvaluateRobustnessOperator": "operators/robustness",
    "PromoteModelOperator": "operators/promote",
    "ModelReviewOperator": "operators/review",
    "ModelApprovalSensor": "operators/approval",
    "DeployModelOperator": "operators/deploy",
    "RollbackModelOperator": "operators/deploy",
    "BatchPredictOperator": "operators/batch",
    "MonitorDriftOperator": "operators/monitor",
}


def test_the_site_builds_strictly_with_every_parameter_on_its_operators_page(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    public = {n for n in airflow_robust.__all__ if n.endswith(("Operator", "Sensor"))}
    assert public == set(PAGES)  # a new operator needs its page
    common = (tmp_path / "operators/common/index.html").read_text()
    for name, page in PAGES.items():
        html = (tmp_path / page / "index.html").read_text()
        assert "airflow_robust." in html and name in html, name
        shown = set(re.findall(r"<td>\s*<code>(\w+)</code>\s*</td>", html + common))
        parameters = inspect.signature(getattr(airflow_robust, name).__init__).parameters
        missing = [p for p in parameters if p not in ("self", "args", "kwargs") and p not in shown]
        assert missing == [], f"{name}: parameters not shown on {page}: {missing}"


def test_the_readme_stays_short_and_links_the_site() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 500
    assert "make docs" in readme and "docs/operators/" in readme
