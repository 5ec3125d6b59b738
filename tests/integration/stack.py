"""The production topology as native processes: PostgreSQL + Redis + MLflow server + Airflow on Celery.

``Stack.start()`` creates two dedicated PostgreSQL databases (Airflow metadata, MLflow backend
store), starts ``mlflow server`` with the PostgreSQL backend store and served artifacts on a free
loopback port, migrates Airflow's database and starts the api-server, scheduler, dag-processor,
triggerer and a Celery worker (Redis broker, results in PostgreSQL) as real processes, with the
MLflow connection given as an Airflow connection in the environment. ``Stack.stop()`` terminates
every process group it started (SIGTERM, then SIGKILL) and drops the databases, also when a test
failed. ``docker/docker-compose.yml`` runs the same commands with the same settings
(``tests/integration/test_docker_compose.py`` checks that they match ``AIRFLOW_SETTINGS`` here).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_USER = "postgres"
REDIS_URL = "redis://127.0.0.1:6379"
REDIS_DB = 7
ADMIN_USER = "admin"
#: Airflow users besides the admin (who triggers DAG runs): a reviewer, and a user not assigned to reviews
REVIEWER_USER = "reviewer"
OTHER_USER = "mallory"

#: the Airflow settings the production topology needs (docker-compose uses the same keys)
AIRFLOW_SETTINGS = (
    "AIRFLOW__CORE__EXECUTOR",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW__CELERY__BROKER_URL",
    "AIRFLOW__CELERY__RESULT_BACKEND",
    "AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS",
    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__CORE__LOAD_EXAMPLES",
    "AIRFLOW_CONN_MLFLOW_DEFAULT",
    "AIRFLOW_CONN_AIRFLOW_ROBUST_SIGNING",
)
#: the Airflow processes of the topology, as ``airflow <args>``
AIRFLOW_PROCESSES: dict[str, list[str]] = {
    "api-server": ["api-server", "--host", "127.0.0.1"],
    "scheduler": ["scheduler"],
    "dag-processor": ["dag-processor"],
    "triggerer": ["triggerer"],
    "celery-worker": ["celery", "worker"],
}


#: On this 2-core machine: two request workers instead of MLflow's four, and no job runner (huey
#: consumers for MLflow's own background jobs, which airflow-robust does not use). Docker users keep
#: MLflow's defaults; the flags above are the topology, these only size it.
TEST_MACHINE_MLFLOW_ARGS = ["--workers", "2"]
TEST_MACHINE_MLFLOW_ENV = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
#: seconds an MLflow server may take to answer /health (it migrates a fresh database first)
SERVER_START = 300


def mlflow_server_args(backend: str, artifacts: str, host: str, port: int) -> list[str]:
    """``mlflow <args>``: a tracking server with a database backend store and served artifacts."""
    return [
        "server",
        "--backend-store-uri",
        backend,
        "--serve-artifacts",
        "--artifacts-destination",
        artifacts,
        "--host",
        host,
        "--port",
        str(port),
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def services_available() -> str | None:
    """``None`` when PostgreSQL and Redis answer, else what is missing."""
    for name, port in (("PostgreSQL", PG_PORT), ("Redis", 6379)):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=3):
                pass
        except OSError as err:
            return f"{name} on 127.0.0.1:{port} is unreachable: {err}"
    return None


def pg_admin(statements: list[str]) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(
        f"postgresql+psycopg2://{PG_USER}@{PG_HOST}:{PG_PORT}/postgres", isolation_level="AUTOCOMMIT"
    )
    try:
        with engine.connect() as connection:
            for statement in statements:
                connection.execute(sa.text(statement))
    finally:
        engine.dispose()


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


@dataclass
class Stack:
    """One running topology; see the module docstring."""

    root: Path
    prefix: str = "airflow_robust_it"
    extra_env: Mapping[str, str] = field(default_factory=dict)
    worker_concurrency: int = 4
    processes: dict[str, Process] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    api_url: str = ""
    mlflow_url: str = ""
    mlflow_port: int = 0
    password: str = ""
    passwords: dict[str, str] = field(default_factory=dict)
    mlflow_login: str = ""
    mlflow_password: str = ""
    queue: str = field(default_factory=lambda: f"airflow_robust_{secrets.token_hex(4)}")
    _token: str | None = None

    @property
    def airflow_db(self) -> str:
        return f"{self.prefix}_airflow"

    @property
    def mlflow_db(self) -> str:
        return f"{self.prefix}_mlflow"

    @property
    def home(self) -> Path:
        return self.root / "airflow_home"

    @property
    def dags(self) -> Path:
        return self.root / "dags"

    @property
    def artifacts(self) -> Path:
        return self.root / "mlflow-artifacts"

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> Stack:
        reap_leftovers()
        try:
            self._databases(create=True)
            self._redis_flush()
            self._prepare_files()
            self.start_mlflow()
            self._migrate()
            for name in AIRFLOW_PROCESSES:
                self.start_airflow_process(name)
            self._wait_api()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for name in list(self.processes)[::-1]:
            self.stop_process(name)
        try:
            self._databases(create=False)
        except Exception as err:
            print(f"could not drop the integration databases: {err}", file=sys.stderr)
        self._redis_flush()

    def _databases(self, *, create: bool) -> None:
        statements = [f"DROP DATABASE IF EXISTS {db} WITH (FORCE)" for db in (self.airflow_db, self.mlflow_db)]
        if create:
            statements += [f"CREATE DATABASE {db}" for db in (self.airflow_db, self.mlflow_db)]
        pg_admin(statements)

    def _redis_flush(self) -> None:
        import redis

        redis.Redis.from_url(f"{REDIS_URL}/{REDIS_DB}").flushdb()

    def _prepare_files(self) -> None:
        shutil.copytree(ROOT / "dags", self.dags, ignore=shutil.ignore_patterns("__pycache__"))
        for dag_file in (ROOT / "tests" / "integration" / "dags").glob("*.py"):
            shutil.copy(dag_file, self.dags / dag_file.name)
        self.home.mkdir(parents=True)
        self.artifacts.mkdir(parents=True)
        self.password = secrets.token_urlsafe(12)
        self.passwords = {user: secrets.token_urlsafe(12) for user in (REVIEWER_USER, OTHER_USER)}
        self.passwords[ADMIN_USER] = self.password
        passwords = self.home / "passwords.json"
        passwords.write_text(json.dumps(self.passwords))
        self.mlflow_login = f"robust-reviewer-{secrets.token_hex(6)}"
        self.mlflow_password = f"pw-{secrets.token_urlsafe(18)}"
        self.mlflow_port = free_port()
        self.mlflow_url = f"http://127.0.0.1:{self.mlflow_port}"
        api_port = free_port()
        self.api_url = f"http://127.0.0.1:{api_port}"
        pg = f"postgresql+psycopg2://{PG_USER}@{PG_HOST}:{PG_PORT}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "MLFLOW"))}
        env.update(
            {
                "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"{pg}/{self.airflow_db}",
                "AIRFLOW__CELERY__BROKER_URL": f"{REDIS_URL}/{REDIS_DB}",
                "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql+psycopg2://{PG_USER}@{PG_HOST}:{PG_PORT}/{self.airflow_db}",
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.worker_concurrency),
                # the worker imports what the gates use once, before it forks task processes
                "AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS": "airflow_robust.celery.CELERY_CONFIG",
                # a queue and log-server ports of its own: no other worker on this machine takes our tasks
                "AIRFLOW__OPERATORS__DEFAULT_QUEUE": self.queue,
                "AIRFLOW__CELERY__DEFAULT_QUEUE": self.queue,
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__API__PORT": str(api_port),
                "AIRFLOW__API__BASE_URL": self.api_url,
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
                "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(
                    [f"{ADMIN_USER}:admin", f"{REVIEWER_USER}:user", f"{OTHER_USER}:user"]
                ),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
                "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "600",
                "AIRFLOW__CORE__PARALLELISM": "16",
                "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "16",
                "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
                # credentials as users give them; the server does not check them, the secrets test
                # checks they never leak into logs, XCom or MLflow
                "AIRFLOW_CONN_MLFLOW_DEFAULT": json.dumps(
                    {
                        "conn_type": "mlflow",
                        "host": self.mlflow_url,
                        "login": self.mlflow_login,
                        "password": self.mlflow_password,
                    }
                ),
                # the key that signs gate evidence: Airflow holds it, MLflow never sees it
                "AIRFLOW_CONN_AIRFLOW_ROBUST_SIGNING": json.dumps(
                    {"conn_type": "generic", "password": secrets.token_urlsafe(32)}
                ),
                "AIRFLOW_CONN_MLFLOW_BROKEN": json.dumps(
                    {"conn_type": "mlflow", "host": f"http://127.0.0.1:{free_port()}"}
                ),
                # MLflow's own HTTP retries stay short; Airflow's task retries are what we test
                "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
                "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
                "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
                "AIRFLOW_ROBUST_DATA_URI": f"file://{self.root / 'data'}",
                "GIT_PYTHON_REFRESH": "quiet",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(TEST_MACHINE_MLFLOW_ENV)
        env.update(self.extra_env)
        self.env = env

    def _spawn(self, name: str, argv: list[str]) -> Process:
        log = self.root / "logs" / f"{name}.log"
        log.parent.mkdir(exist_ok=True)
        handle = open(log, "ab")  # noqa: SIM115 - owned by the child process
        popen = subprocess.Popen(
            argv, cwd=self.root, env=self.env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        handle.close()
        process = Process(name, popen, log)
        self.processes[name] = process
        _remember(popen.pid)
        return process

    def start_mlflow(self) -> None:
        backend = f"postgresql+psycopg2://{PG_USER}@{PG_HOST}:{PG_PORT}/{self.mlflow_db}"
        self._spawn(
            "mlflow",
            [
                str(BIN / "mlflow"),
                *mlflow_server_args(backend, f"file://{self.artifacts}", "127.0.0.1", self.mlflow_port),
                *TEST_MACHINE_MLFLOW_ARGS,
            ],
        )
        up = f"{self.mlflow_url}/health"
        wait_for(lambda: _get(up) == 200, SERVER_START, "the MLflow server", self.processes["mlflow"])

    def start_airflow_process(self, name: str) -> Process:
        extra = ["--queues", self.queue] if name == "celery-worker" else []
        return self._spawn(name, [str(BIN / "airflow"), *AIRFLOW_PROCESSES[name], *extra])

    def stop_process(self, name: str, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.popen.poll() is not None:
            return
        try:
            os.killpg(process.popen.pid, sig)
            process.popen.wait(timeout=timeout)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.popen.pid, signal.SIGKILL)
            process.popen.wait(timeout=30)

    def _migrate(self) -> None:
        done = subprocess.run(
            [str(BIN / "airflow"), "db", "migrate"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")

    def _wait_api(self) -> None:
        wait_for(
            lambda: _get(f"{self.api_url}/api/v2/monitor/health") == 200,
            240,
            "the api-server",
            self.processes["api-server"],
        )

    # -- Airflow REST API ------------------------------------------------------------------
    def token(self, user: str = ADMIN_USER) -> str:
        if user != ADMIN_USER:
            return self._login(user)
        if self._token is None:
            self._token = self._login(ADMIN_USER)
        return self._token

    def _login(self, user: str) -> str:
        response = requests.post(
            f"{self.api_url}/auth/token", json={"username": user, "password": self.passwords[user]}, timeout=30
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def respond(self, dag_id: str, run_id: str, task_id: str, option: str, user: str) -> requests.Response:
        """Answer a human-in-the-loop task as ``user`` (as the Required Actions page does)."""
        return requests.patch(
            f"{self.api_url}/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/-1/hitlDetails",
            headers={"Authorization": f"Bearer {self.token(user)}"},
            json={"chosen_options": [option], "params_input": {}},
            timeout=60,
        )

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        response = requests.request(
            method,
            f"{self.api_url}/api/v2{path}",
            headers={"Authorization": f"Bearer {self.token()}"},
            timeout=60,
            **kwargs,
        )
        if response.status_code >= 400:
            raise AssertionError(f"{method} {path} -> {response.status_code}: {response.text[:2000]}")
        return response.json() if response.content else None

    def wait_for_dag(self, dag_id: str, timeout: float = 240) -> None:
        def parsed() -> bool:
            try:
                self.api("GET", f"/dags/{dag_id}")
            except AssertionError:
                return False
            return True

        wait_for(parsed, timeout, f"DAG {dag_id} to be parsed", self.processes.get("dag-processor"))
        self.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def trigger(self, dag_id: str, conf: Mapping[str, Any] | None = None, run_id: str | None = None) -> str:
        body: dict[str, Any] = {"logical_date": None, "conf": dict(conf or {})}
        if run_id:
            body["dag_run_id"] = run_id
        return str(self.api("POST", f"/dags/{dag_id}/dagRuns", json=body)["dag_run_id"])

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
        return result

    def wait_run(self, dag_id: str, run_id: str, timeout: float = 900) -> dict[str, Any]:
        def finished() -> bool:
            return self.dag_run(dag_id, run_id)["state"] in ("success", "failed")

        # every process of the stack is watched: a dead MLflow server or worker fails the wait at once
        wait_for(finished, timeout, f"DAG run {dag_id}/{run_id}", list(self.processes.values()), logs=self)
        return self.dag_run(dag_id, run_id)

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        items = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]
        return {ti["task_id"]: ti["state"] for ti in items}

    def task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}")
        return result

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        entry = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}")
        value = entry["value"]
        return json.loads(value) if isinstance(value, str) and value[:1] in "[{" else value

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1) -> str:
        response = requests.get(
            f"{self.api_url}/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
            headers={"Authorization": f"Bearer {self.token()}", "Accept": "application/json"},
            params={"full_content": "true"},
            timeout=60,
        )
        content = response.json().get("content", [])
        return "\n".join(json.dumps(line) if isinstance(line, dict) else str(line) for line in content)

    # -- MLflow REST API ---------------------------------------------------------------------
    def mlflow(self, method: str, path: str, **kwargs: Any) -> Any:
        response = requests.request(method, f"{self.mlflow_url}/api/2.0/mlflow{path}", timeout=60, **kwargs)
        if response.status_code >= 400:
            raise AssertionError(f"MLflow {method} {path} -> {response.status_code}: {response.text[:2000]}")
        return response.json()

    def logs(self) -> str:
        return "\n".join(f"===== {p.name}\n{p.tail(3000)}" for p in self.processes.values())


PIDFILE = Path(tempfile.gettempdir()) / "airflow-robust-it.pids"


def _remember(pgid: int) -> None:
    with open(PIDFILE, "a") as handle:
        handle.write(f"{pgid}\n")


def reap_leftovers() -> None:
    """Kill process groups an earlier, killed test session left running (their databases are gone)."""
    if not PIDFILE.exists():
        return
    for line in PIDFILE.read_text().split():
        pgid = int(line)
        try:
            cmdline = Path(f"/proc/{pgid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if "airflow" in cmdline or "mlflow" in cmdline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
    PIDFILE.unlink(missing_ok=True)


def _get(url: str) -> int:
    try:
        return requests.get(url, timeout=5).status_code
    except requests.RequestException:
        return 0


def wait_for(
    condition: Callable[[], bool],
    timeout: float,
    what: str,
    process: Process | Sequence[Process] | None = None,
    logs: Stack | None = None,
) -> None:
    """Poll ``condition`` until it holds; fail at once, with its log, if a watched process exits."""
    watched = [] if process is None else [process] if isinstance(process, Process) else list(process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in watched:
            if proc.popen.poll() is not None:
                code = proc.popen.returncode
                raise RuntimeError(f"{proc.name} exited ({code}) while waiting for {what}:\n{proc.tail()}")
        if condition():
            return
        time.sleep(2)
    detail = logs.logs() if logs is not None else "\n".join(proc.tail() for proc in watched)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}\n{detail}")
