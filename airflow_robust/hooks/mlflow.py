"""``MlflowHook``: an Airflow connection (type ``mlflow``) turned into an MLflow client.

Connection fields: *Host* is the tracking URI (``http://mlflow:5000``; or host + *Schema*
``https`` + *Port*); *Login*/*Password* become MLflow basic-auth credentials; extras
``token``, ``registry_uri``, ``tracking_uri`` (wins over host, e.g. ``databricks``),
``artifact_root`` (artifact location for experiments this package creates), ``ui_url`` (base
URL of the MLflow UI for links) and ``insecure_tls``.

With no ``mlflow_default`` connection and no ``MLFLOW_TRACKING_URI``, the embedded default
is used: a SQLite store at ``$AIRFLOW_HOME/mlflow/mlflow.db`` with artifacts beside it.
Credentials reach MLflow only through this process's environment for the duration of
:meth:`MlflowHook.applied`, and are restored afterwards.

This module imports no heavy library at module level (DAG-parse cost).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseHook

from airflow_robust.exceptions import ConfigurationError, TrackingAuthError, TrackingUnavailable
from airflow_robust.tracking.config import ConnectionFields, MlflowConfig, resolve_config

if TYPE_CHECKING:
    from mlflow import MlflowClient

log = logging.getLogger(__name__)


class MlflowHook(BaseHook):
    """Talk to an MLflow tracking server / model registry described by an Airflow connection.

    :param mlflow_conn_id: the connection id; default ``mlflow_default``. Only the default may be
        missing (then the environment or the embedded SQLite default applies); a named
        connection that does not exist is a configuration error.
    """

    conn_name_attr = "mlflow_conn_id"
    default_conn_name = "mlflow_default"
    conn_type = "mlflow"
    hook_name = "MLflow (airflow-robust)"

    _initialised: ClassVar[set[str]] = set()

    def __init__(self, mlflow_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.mlflow_conn_id = mlflow_conn_id
        self._config: MlflowConfig | None = None

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return {
            "hidden-fields": [],
            "relabeling": {"host": "Tracking URI", "login": "Username", "schema": "Scheme (http/https)"},
            "placeholders": {
                "host": "http://mlflow:5000",
                "extra": '{"registry_uri": "", "token": "", "ui_url": "", "artifact_root": ""}',
            },
        }

    def get_config(self) -> MlflowConfig:
        """Resolve (once) where MLflow lives; logs which backend is in use."""
        if self._config is None:
            self._config = resolve_config(self._connection_fields())
            _mask(self._config)
            self.log.info("Using %s", self._config.describe())
        return self._config

    def _connection_fields(self) -> ConnectionFields | None:
        from airflow.sdk.exceptions import AirflowNotFoundException

        try:
            conn = self.get_connection(self.mlflow_conn_id)
        except AirflowNotFoundException:
            if self.mlflow_conn_id != self.default_conn_name:
                raise ConfigurationError(
                    f"The MLflow connection {self.mlflow_conn_id!r} does not exist. Define it "
                    f"(e.g. AIRFLOW_CONN_{self.mlflow_conn_id.upper()}) or use {self.default_conn_name!r}."
                ) from None
            return None
        return ConnectionFields(
            conn_id=self.mlflow_conn_id,
            host=conn.host,
            schema=conn.schema,
            port=conn.port,
            login=conn.login,
            password=conn.password,
            extra=conn.extra_dejson,
        )

    @contextmanager
    def applied(self) -> Iterator[MlflowConfig]:
        """Point MLflow at this connection for the block (this process only)."""
        from airflow_robust.tracking.config import applied

        config = self.get_config()
        with applied(config):
            if config.backend == "embedded" or config.tracking_uri.startswith("sqlite:"):
                _initialise_sqlite(config)
            yield config

    def get_client(self) -> MlflowClient:
        """An ``MlflowClient`` for this connection; use inside :meth:`applied` when credentials are set."""
        from mlflow import MlflowClient

        config = self.get_config()
        return MlflowClient(tracking_uri=config.tracking_uri, registry_uri=config.effective_registry_uri)

    def test_connection(self) -> tuple[bool, str]:
        """Reach the tracking store and the registry; ``(ok, message)`` without credentials in it."""
        try:
            with self.applied() as config:
                client = self.get_client()
                client.search_experiments(max_results=1)
                client.search_registered_models(max_results=1)
        except Exception as err:  # noqa: BLE001 - test_connection reports, never raises
            return False, f"Cannot reach {self._describe()}: {type(err).__name__}: {err}"
        return True, f"Connected to {config.describe()}"

    def unavailable(self, err: BaseException) -> TrackingUnavailable:
        """A retryable error that names the connection and the URI."""
        return TrackingUnavailable(f"{self._describe()} is unreachable: {type(err).__name__}: {err}")

    def auth_failed(self, err: BaseException) -> TrackingAuthError:
        """A non-retryable error naming the connection: MLflow refused its credentials or the action."""
        from airflow_robust.tracking.connectivity import auth_status

        status = auth_status(err)
        if status == 403:
            what = (
                "refused permission (HTTP 403): the connection's user may not do this; grant it "
                "EDIT (or MANAGE) on the experiment and registered model, or use another user"
            )
        else:
            what = (
                "refused authentication (HTTP 401): check the login/password or token of "
                f"connection {self.mlflow_conn_id!r}"
            )
        first = str(err).splitlines()[0][:300] if str(err) else type(err).__name__
        return TrackingAuthError(f"{self._describe()} {what}. MLflow said: {first}", status=status)

    def translate(self, err: BaseException) -> BaseException:
        """``err`` as this package's error when it is an outage or an auth failure, else ``err``."""
        from airflow_robust.registry.errors import Failure, classify

        kind = classify(err)
        if kind is Failure.AUTH:
            return self.auth_failed(err)
        if kind is Failure.OUTAGE:
            return self.unavailable(err)
        return err

    def _describe(self) -> str:
        if self._config is not None:
            return self._config.describe()
        return f"MLflow connection {self.mlflow_conn_id!r}"


def _mask(config: MlflowConfig) -> None:
    from airflow.sdk.log import mask_secret

    for secret in (config.password, config.token):
        if secret:
            mask_secret(secret)


def _initialise_sqlite(config: MlflowConfig) -> None:
    """Create/migrate a SQLite store once, under a file lock, so parallel tasks don't race."""
    if config.tracking_uri in MlflowHook._initialised:
        return
    import fcntl

    from mlflow import MlflowClient

    path = config.tracking_uri.removeprefix("sqlite:///")
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    if config.artifact_root and config.artifact_root.startswith("file://"):
        os.makedirs(config.artifact_root.removeprefix("file://"), exist_ok=True)
    with open(f"{path}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            MlflowClient(tracking_uri=config.tracking_uri).search_experiments(max_results=1)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    MlflowHook._initialised.add(config.tracking_uri)
    log.info("MLflow backend: embedded SQLite store %s, artifacts under %s", path, config.artifact_root)
