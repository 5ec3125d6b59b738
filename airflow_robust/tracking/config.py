"""Where MLflow lives: resolve a connection (or its absence) into a plain ``MlflowConfig``.

Order: an Airflow connection (``mlflow_default`` unless another is named) -> the
``MLFLOW_TRACKING_URI`` environment variable -> the embedded default, a SQLite store under
``$AIRFLOW_HOME/mlflow/`` with an artifact folder beside it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import urlparse

from airflow_robust.exceptions import ConfigurationError

Backend = Literal["connection", "environment", "embedded"]
DEFAULT_UI_URL = "http://127.0.0.1:5000"

ENV_TRACKING_URI = "MLFLOW_TRACKING_URI"
ENV_REGISTRY_URI = "MLFLOW_REGISTRY_URI"
ENV_USERNAME = "MLFLOW_TRACKING_USERNAME"
ENV_PASSWORD = "MLFLOW_TRACKING_PASSWORD"  # noqa: S105 - an environment variable name, not a secret
ENV_TOKEN = "MLFLOW_TRACKING_TOKEN"  # noqa: S105 - an environment variable name, not a secret
ENV_INSECURE_TLS = "MLFLOW_TRACKING_INSECURE_TLS"
ENV_UI_URL = "AIRFLOW_ROBUST_MLFLOW_UI_URL"


@dataclass(frozen=True)
class MlflowConfig:
    """Everything needed to talk to MLflow; ``repr`` never shows credentials."""

    tracking_uri: str
    registry_uri: str | None
    backend: Backend
    conn_id: str | None = None
    artifact_root: str | None = None
    ui_url: str = DEFAULT_UI_URL
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    insecure_tls: bool = False

    @property
    def effective_registry_uri(self) -> str:
        return self.registry_uri or self.tracking_uri

    def describe(self) -> str:
        """A one-line, credential-free description for logs and error messages."""
        where = f"connection {self.conn_id!r}" if self.backend == "connection" else self.backend
        return f"MLflow at {self.tracking_uri} ({where})"

    def environment(self) -> dict[str, str | None]:
        """Variables MLflow reads for this config (``None`` = must be unset)."""
        return {
            ENV_TRACKING_URI: self.tracking_uri,
            ENV_REGISTRY_URI: self.registry_uri,
            ENV_USERNAME: self.username,
            ENV_PASSWORD: self.password,
            ENV_TOKEN: self.token,
            ENV_INSECURE_TLS: "true" if self.insecure_tls else None,
            # gates download model files to digest them: no progress bars in task logs
            "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": os.environ.get("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false"),
        }

    def run_url(self, experiment_id: str, run_id: str) -> str:
        return run_url(self.ui_url, experiment_id, run_id)

    def artifact_url(self, experiment_id: str, run_id: str, path: str) -> str:
        return artifact_url(self.ui_url, experiment_id, run_id, path)

    def model_version_url(self, name: str, version: str | int) -> str:
        from urllib.parse import quote

        return f"{self.ui_url.rstrip('/')}/#/models/{quote(name, safe='')}/versions/{version}"


@dataclass(frozen=True)
class ConnectionFields:
    """The parts of an Airflow connection this package reads (no Airflow types)."""

    conn_id: str
    host: str | None = None
    schema: str | None = None
    port: int | None = None
    login: str | None = None
    password: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


def embedded_root(airflow_home: str | None = None) -> str:
    home = airflow_home or os.environ.get("AIRFLOW_HOME") or os.path.join(os.path.expanduser("~"), "airflow")
    return os.path.join(os.path.abspath(home), "mlflow")


def embedded_config(airflow_home: str | None = None) -> MlflowConfig:
    root = embedded_root(airflow_home)
    return MlflowConfig(
        tracking_uri=f"sqlite:///{os.path.join(root, 'mlflow.db')}",
        registry_uri=None,
        backend="embedded",
        artifact_root=f"file://{os.path.join(root, 'artifacts')}",
        ui_url=os.environ.get(ENV_UI_URL, DEFAULT_UI_URL),
    )


def resolve_config(
    connection: ConnectionFields | None, env: Mapping[str, str] | None = None, airflow_home: str | None = None
) -> MlflowConfig:
    """Turn a connection (or ``None``) plus the environment into an :class:`MlflowConfig`.

    A SQLite tracking URI without an artifact root keeps artifacts in ``artifacts/`` beside
    the database file, never in MLflow's default ``./mlruns`` under the worker's working directory.
    """
    env = os.environ if env is None else env
    if connection is not None:
        config = _from_connection(connection, env)
    elif env.get(ENV_TRACKING_URI):
        uri = env[ENV_TRACKING_URI]
        config = MlflowConfig(
            tracking_uri=uri,
            registry_uri=env.get(ENV_REGISTRY_URI) or None,
            backend="environment",
            ui_url=env.get(ENV_UI_URL) or (uri if _is_http(uri) else DEFAULT_UI_URL),
            username=env.get(ENV_USERNAME),
            password=env.get(ENV_PASSWORD),
            token=env.get(ENV_TOKEN),
        )
    else:
        return embedded_config(airflow_home)
    if config.artifact_root is None and config.tracking_uri.startswith("sqlite:///"):
        db_dir = os.path.dirname(config.tracking_uri.removeprefix("sqlite:///"))
        config = replace(config, artifact_root=f"file://{os.path.join(db_dir, 'artifacts')}")
    return config


def _from_connection(conn: ConnectionFields, env: Mapping[str, str]) -> MlflowConfig:
    extra = dict(conn.extra or {})
    uri = str(extra.get("tracking_uri") or "").strip() or _uri_from_host(conn)
    if not uri:
        raise ConfigurationError(
            f"The MLflow connection {conn.conn_id!r} has no tracking URI: set its host "
            "(e.g. 'http://mlflow:5000') or the extra 'tracking_uri'."
        )
    ui_url = str(extra.get("ui_url") or "") or (uri if _is_http(uri) else env.get(ENV_UI_URL, DEFAULT_UI_URL))
    return MlflowConfig(
        tracking_uri=uri,
        registry_uri=str(extra.get("registry_uri") or "") or None,
        backend="connection",
        conn_id=conn.conn_id,
        artifact_root=str(extra.get("artifact_root") or "") or None,
        ui_url=ui_url,
        username=conn.login or None,
        password=conn.password or None,
        token=str(extra.get("token") or "") or None,
        insecure_tls=str(extra.get("insecure_tls", "")).lower() in {"1", "true", "yes"},
    )


def _uri_from_host(conn: ConnectionFields) -> str:
    host = (conn.host or "").strip()
    if not host:
        return ""
    if "://" in host:
        parsed = urlparse(host)
        if conn.port and parsed.port is None and parsed.scheme in {"http", "https"}:
            return f"{parsed.scheme}://{parsed.hostname}:{conn.port}{parsed.path}".rstrip("/")
        return host.rstrip("/")
    scheme = (conn.schema or "http").strip() or "http"
    port = f":{conn.port}" if conn.port else ""
    return f"{scheme}://{host}{port}"


def _is_http(uri: str) -> bool:
    return urlparse(uri).scheme in {"http", "https"}


@contextmanager
def applied(config: MlflowConfig) -> Iterator[MlflowConfig]:
    """Point MLflow (env vars read per request, and the fluent API's URIs) at ``config``; restore after.

    Only this process is affected, and only for the duration of the block.
    """
    import mlflow
    from mlflow.tracking._model_registry import utils as registry_utils
    from mlflow.tracking._tracking_service import utils as tracking_utils

    saved_env = {key: os.environ.get(key) for key in config.environment()}
    saved_uris = (tracking_utils._tracking_uri, registry_utils._registry_uri)
    try:
        for key, value in config.environment().items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        mlflow.set_tracking_uri(config.tracking_uri)
        mlflow.set_registry_uri(config.effective_registry_uri)
        yield config
    finally:
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        tracking_utils._tracking_uri, registry_utils._registry_uri = saved_uris


def run_url(ui_url: str, experiment_id: str, run_id: str) -> str:
    """The MLflow UI page of a run."""
    return f"{ui_url.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"


def artifact_url(ui_url: str, experiment_id: str, run_id: str, path: str) -> str:
    """The MLflow UI page showing artifact ``path`` of a run (an image or HTML report opens in one click)."""
    from urllib.parse import quote

    return f"{run_url(ui_url, experiment_id, run_id)}/artifacts/{quote(path)}"
