"""Test-wide setup: a private AIRFLOW_HOME (SQLite) set before Airflow is imported.

Fixtures:
- ``mlflow_store``: a fresh MLflow SQLite tracking store + artifact folder in a temp dir,
  exposed to airflow-robust through ``MLFLOW_TRACKING_URI`` (the "environment" backend).
- ``airflow_db``: ``airflow db migrate`` once per session, for tests that run real DAGs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
_HOME = Path(tempfile.mkdtemp(prefix="airflow-robust-tests-"))
os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ["AIRFLOW_ROBUST_DATA_URI"] = f"file://{_HOME}/data"
os.environ.pop("MLFLOW_TRACKING_URI", None)
os.environ.pop("AIRFLOW_CONN_MLFLOW_DEFAULT", None)
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")


#: tests that share the native stack (fixed database names, one Redis database, one pid file)
STACK = (
    "tests/integration/test_browser_review.py",
    "tests/integration/test_celery_pipeline.py",
    "tests/integration/test_drift_loop.py",
    "tests/integration/test_reliability.py",
    "tests/integration/test_review.py",
)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With pytest-xdist (``make test``): each test file runs whole on one worker, in file order, and all
    tests that use the native stack (PostgreSQL databases of fixed names, a Redis database, Airflow and
    MLflow processes) run on one worker together, so no two stacks ever exist at once. Other service
    users (the basic-auth MLflow server, the SQL validation database) have databases of their own."""
    from xdist.scheduler import LoadScopeScheduling

    class FilesAndServices(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "stack" if path.startswith(STACK) else path

    return FilesAndServices(config, log)


@pytest.fixture(scope="session")
def airflow_home() -> Path:
    return _HOME


@pytest.fixture(scope="session")
def airflow_db(airflow_home: Path) -> Path:
    """Migrate the session's Airflow metadata DB (SQLite) once."""
    result = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return airflow_home


@pytest.fixture
def mlflow_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A fresh MLflow store for one test, reached through MLFLOW_TRACKING_URI."""
    root = tmp_path / "mlflow"
    (root / "artifacts").mkdir(parents=True)
    uri = f"sqlite:///{root / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    return {"tracking_uri": uri, "artifact_root": f"file://{root / 'artifacts'}"}


PG_ADMIN_URL = os.environ.get("AIRFLOW_ROBUST_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A dedicated database ``airflow_robust_it[_<xdist worker>]`` on the local PostgreSQL; dropped afterwards.

    Without PostgreSQL the test is skipped, except under ``CI=true`` where that is a failure.
    """
    import sqlalchemy as sa

    name = "airflow_robust_it" + (
        f"_{os.environ['PYTEST_XDIST_WORKER']}" if "PYTEST_XDIST_WORKER" in os.environ else ""
    )
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            connection.execute(sa.text(f"CREATE DATABASE {name}"))
    except sa.exc.OperationalError as err:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is required under CI=true and is unreachable: {err}")
        pytest.skip(f"PostgreSQL unreachable: {err}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    sa.engine.create_engine(url).dispose()
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()
