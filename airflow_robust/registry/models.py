"""Model URIs: parse ``models:/<name>/<version>`` / ``models:/<name>@<alias>``, resolve an alias once, load.

Resolving an alias to its version *once*, then loading that exact version, means a batch that
runs while ``@champion`` moves is scored by one model from start to end, and the version that
scored it can be recorded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_robust.exceptions import ConfigurationError, ModelFlavorError
from airflow_robust.registry.errors import Failure, classify

if TYPE_CHECKING:
    from airflow_robust.registry.store import ModelStore

_MODELS = re.compile(r"^models:/(?P<name>[^/@]+)(?:/(?P<version>\d+)|@(?P<alias>[\w.-]+))/?$")


@dataclass(frozen=True)
class ModelRef:
    """A registered model version, and how it was asked for."""

    name: str
    version: str
    alias: str | None = None

    @property
    def uri(self) -> str:
        """The pinned URI (``models:/<name>/<version>``)."""
        return f"models:/{self.name}/{self.version}"


def parse_model_uri(uri: str) -> tuple[str, str | None, str | None]:
    """``(name, version, alias)`` of a registry URI; ``ConfigurationError`` for anything else."""
    match = _MODELS.match(uri.strip())
    if not match:
        raise ConfigurationError(
            f"{uri!r} is not a registry model URI; use 'models:/<name>/<version>' or 'models:/<name>@<alias>'"
        )
    return match["name"], match["version"], match["alias"]


def resolve_model(client: ModelStore, uri: str) -> ModelRef:
    """Pin ``uri`` to one version (an alias is read once). Unknown name/version/alias: ``ConfigurationError``."""
    from mlflow.exceptions import MlflowException

    name, version, alias = parse_model_uri(uri)
    try:
        if alias is not None:
            record = client.get_model_version_by_alias(name, alias)
        else:
            record = client.get_model_version(name, version)
    except MlflowException as err:
        if classify(err) is Failure.MISSING:
            what = f"alias {alias!r}" if alias is not None else f"version {version}"
            raise ConfigurationError(f"registered model {name!r} has no {what}: {str(err).splitlines()[0]}") from err
        raise
    return ModelRef(name=name, version=str(record.version), alias=alias)


@dataclass(frozen=True)
class FetchedModel:
    """A local copy of a model's files and their content digest (what a gate judges and signs)."""

    uri: str
    path: str
    digest: str


def fetch_model(uri: str, dst: str) -> FetchedModel:
    """Download ``uri`` (``models:/...``, ``runs:/...``) into ``dst`` once and digest its files.

    Loading from the returned ``path`` means the model that is scored is exactly the one whose
    digest is checked and signed: nothing is fetched twice.
    """
    import mlflow

    from airflow_robust.trust.digest import directory_digest

    local = mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=dst)
    return FetchedModel(uri=uri, path=str(local), digest=directory_digest(local))


def load_local(path: str) -> Any:
    """The model in local model directory ``path``, any flavor (see :mod:`airflow_robust.registry.flavors`)."""
    from airflow_robust.registry.flavors import load_any

    return load_any(path)


def load_uri(uri: str) -> tuple[Any, str]:
    """Fetch ``uri`` and load it, any flavor: ``(model, flavor)``.

    The files stay in a temporary folder until the process exits: some flavors read them lazily.
    """
    import atexit
    import shutil
    import tempfile

    from airflow_robust.registry.flavors import flavor_of

    folder = tempfile.mkdtemp(prefix="airflow-robust-model-")
    atexit.register(shutil.rmtree, folder, True)
    model = load_local(fetch_model(uri, folder).path)
    return model, flavor_of(model)


def load_sklearn(uri: str) -> Any:
    """``mlflow.sklearn.load_model(uri)`` without flooding the task log.

    Loading a skops-serialised model walks ``sys.modules``; inside an Airflow task that touches
    every deprecated alias Airflow keeps, and each one would log a DeprecationWarning.
    """
    import warnings

    import mlflow
    from mlflow.exceptions import MlflowException

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        try:
            return mlflow.sklearn.load_model(uri)
        except MlflowException as err:
            if "flavor" not in str(err).lower():
                raise
            raise ModelFlavorError(
                f"{uri} is not a scikit-learn model (it was logged without MLflow's sklearn flavor)"
            ) from err


def load_sklearn_or_pyfunc(uri: str) -> tuple[Any, str]:
    """The model behind ``uri`` and its flavor (kept for callers of 0.1; see :func:`load_uri`)."""
    return load_uri(uri)
