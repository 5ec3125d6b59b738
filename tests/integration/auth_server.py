"""An MLflow tracking server that checks who is calling: MLflow's basic-auth app on a PostgreSQL store.

``AuthServer.start()`` creates the database ``<prefix>_auth_mlflow``, writes the auth config (a
random admin password; every other authenticated user gets EDIT on everything, as on a shared team
server), starts ``mlflow server --app-name basic-auth`` with served artifacts on a free port and
waits for it. ``as_user()`` points this process's MLflow client at the server as a given user.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.integration.stack import (
    BIN,
    PG_HOST,
    PG_PORT,
    PG_USER,
    SERVER_START,
    TEST_MACHINE_MLFLOW_ARGS,
    TEST_MACHINE_MLFLOW_ENV,
    Process,
    _get,
    free_port,
    pg_admin,
    wait_for,
)


@dataclass
class AuthServer:
    root: Path
    prefix: str = "airflow_robust_it"
    admin: str = "admin"
    admin_password: str = field(default_factory=lambda: f"adm-{secrets.token_urlsafe(18)}")
    port: int = 0
    popen: subprocess.Popen[bytes] | None = None

    @property
    def database(self) -> str:
        return f"{self.prefix}_auth_mlflow"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def artifacts(self) -> Path:
        return self.root / "artifacts"

    @property
    def log(self) -> Path:
        return self.root / "mlflow-auth.log"

    def start(self) -> AuthServer:
        pg_admin([f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)", f"CREATE DATABASE {self.database}"])
        self.artifacts.mkdir(parents=True, exist_ok=True)
        config = self.root / "basic_auth.ini"
        config.write_text(
            "[mlflow]\n"
            "default_permission = EDIT\n"
            f"database_uri = sqlite:///{self.root / 'basic_auth.db'}\n"
            f"admin_username = {self.admin}\n"
            f"admin_password = {self.admin_password}\n"
            "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
            # cache successful credential checks (each check is a deliberately slow scrypt hash)
            "auth_cache_ttl_seconds = 300\n"
        )
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW", "AIRFLOW"))}
        env.update(
            {
                "MLFLOW_AUTH_CONFIG_PATH": str(config),
                "MLFLOW_FLASK_SERVER_SECRET_KEY": secrets.token_urlsafe(24),
                "PYTHONUNBUFFERED": "1",
                **TEST_MACHINE_MLFLOW_ENV,
            }
        )
        backend = f"postgresql+psycopg2://{PG_USER}@{PG_HOST}:{PG_PORT}/{self.database}"
        argv = [
            str(BIN / "mlflow"),
            "server",
            "--app-name",
            "basic-auth",
            "--backend-store-uri",
            backend,
            "--serve-artifacts",
            "--artifacts-destination",
            f"file://{self.artifacts}",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            *TEST_MACHINE_MLFLOW_ARGS,
        ]
        with open(self.log, "ab") as handle:
            self.popen = subprocess.Popen(
                argv, cwd=self.root, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
            )
        # not in the stack's pid file: the stack reaps that file when it starts, perhaps on another worker
        wait_for(
            lambda: _get(f"{self.url}/health") == 200,
            SERVER_START,
            "the basic-auth MLflow server",
            Process("basic-auth mlflow server", self.popen, self.log),
        )
        return self

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            pg_admin([f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)"])

    def create_user(self, username: str) -> str:
        from mlflow.server.auth.client import AuthServiceClient

        password = f"pw-{secrets.token_urlsafe(16)}"
        with self.as_user(self.admin, self.admin_password):
            AuthServiceClient(self.url).create_user(username, password)
        return password

    @contextlib.contextmanager
    def as_user(self, username: str, password: str) -> Iterator[None]:
        """MLflow calls in this block authenticate as ``username`` (process environment, restored after)."""
        keys = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_URI")
        saved = {key: os.environ.get(key) for key in keys}
        os.environ.update(
            {
                "MLFLOW_TRACKING_USERNAME": username,
                "MLFLOW_TRACKING_PASSWORD": password,
                "MLFLOW_TRACKING_URI": self.url,
            }
        )
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
