"""Where the key that signs gate evidence comes from: Airflow, never MLflow.

Order:

1. the Airflow connection ``signing_conn_id`` (default ``airflow_robust_signing``): its password
   is the key (keep it in a secrets backend, e.g.
   ``AIRFLOW_CONN_AIRFLOW_ROBUST_SIGNING='{"conn_type": "generic", "password": "..."}'``);
2. the environment variable ``AIRFLOW_ROBUST_SIGNING_KEY``;
3. only when MLflow is a *local* store (SQLite or files, e.g. the embedded default): a random
   key generated once into ``$AIRFLOW_HOME/airflow_robust/signing.key`` (mode 0600). Whoever can
   write a local store can read that file too, so this protects against mistakes, not people.

With a remote MLflow server and none of 1-2 the task fails with :class:`SigningKeyMissing`:
gates that cannot sign their verdicts could be forged, so they refuse to run.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from airflow_robust.exceptions import SigningKeyMissing

if TYPE_CHECKING:
    from airflow_robust.tracking.config import MlflowConfig
    from airflow_robust.trust.signing import SigningKey

DEFAULT_CONN_ID = "airflow_robust_signing"
ENV_KEY = "AIRFLOW_ROBUST_SIGNING_KEY"


def signing_key(config: MlflowConfig, conn_id: str = DEFAULT_CONN_ID) -> SigningKey:
    """The key for this deployment (see the module docstring)."""
    from airflow_robust.trust.signing import SigningKey

    secret = _from_connection(conn_id)
    if secret:
        return _key(secret, f"Airflow connection {conn_id!r}")
    secret = os.environ.get(ENV_KEY, "")
    if secret:
        return _key(secret, f"environment variable {ENV_KEY}")
    if _is_local(config.tracking_uri):
        return SigningKey(_local_key_file(), source="local key file under $AIRFLOW_HOME")
    raise SigningKeyMissing(
        f"No key to sign gate evidence with: {config.describe()} is a shared server, so define the Airflow "
        f"connection {conn_id!r} (its password is the key; at least 16 characters, e.g. "
        f"`python -c 'import secrets; print(secrets.token_urlsafe(32))'`) or set {ENV_KEY} on every "
        "Airflow component (workers, triggerer). Gates refuse to run without it: unsigned verdicts could be forged."
    )


def _key(secret: str, source: str) -> SigningKey:
    from airflow_robust.trust.signing import MIN_KEY_BYTES, SigningKey

    raw = secret.encode()
    if len(raw) < MIN_KEY_BYTES:
        raise SigningKeyMissing(f"The signing key from {source} is shorter than {MIN_KEY_BYTES} bytes.")
    _mask(secret)
    return SigningKey(raw, source=source)


def _from_connection(conn_id: str) -> str:
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return ""
    return str(conn.password or conn.extra_dejson.get("key") or "")


def _is_local(uri: str) -> bool:
    return uri.startswith(("sqlite:", "file:", "/"))


def _local_key_file() -> bytes:
    import fcntl

    home = Path(os.environ.get("AIRFLOW_HOME") or Path.home() / "airflow")
    path = home / "airflow_robust" / "signing.key"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{path}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not path.exists():
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as handle:
                    handle.write(secrets.token_urlsafe(48))
            return path.read_text().strip().encode()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _mask(secret: str) -> None:
    from airflow.sdk.log import mask_secret

    mask_secret(secret)
