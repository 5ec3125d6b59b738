"""``RegisterModelOperator``: bring a model your own code trained into the gated loop.

Your ``@task`` trains and logs the model however it likes (``mlflow.xgboost.log_model``, a custom
``mlflow.pyfunc.PythonModel``, ...). This operator then registers it (``model_uri``) or takes the
version you registered (``version``), and gives it what ``TrainModelOperator`` gives its own
versions: Airflow provenance tags, the training data's URI and digest, the gate results of
validations that ran earlier in the same DAG run, and the signed registration evidence (the
digest of the model's files) that promotion and deploy verify.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_robust.data.sources import FORMATS
from airflow_robust.operators.base import RobustBaseOperator
from airflow_robust.params import VERSION, Constraint, model_name, non_empty_str, one_of, str_list
from airflow_robust.registry.tags import (
    DATA_DIGEST_TAG,
    DATA_URI_TAG,
    MODEL_NAME_TAG,
    MODEL_VERSION_TAG,
    PROFILE_RUN_ID_TAG,
    TRAINING_RUN_ID_TAG,
)

if TYPE_CHECKING:
    from airflow_robust.hooks.mlflow import MlflowHook
    from airflow_robust.tracking.runs import StageRun

_MODEL_URI = Constraint(
    "an MLflow model URI such as 'runs:/<run_id>/model' or 'models:/m-<id>'",
    lambda v: isinstance(v, str) and bool(re.match(r"^(runs:/[0-9a-f]{8,}/\S+|models:/m-[0-9a-f]+/?)$", v.strip())),
    optional=True,
    example_bad=("model.pkl", "s3://bucket/model"),
)


class RegisterModelOperator(RobustBaseOperator):
    """Register (or adopt) a model version trained by your own code, with provenance and signed evidence.

    :param model_name: registered model name.
    :param model_uri: the logged model to register as a new version (``runs:/<run_id>/model``, or
        ``models:/m-<id>`` from ``log_model(...).model_uri``); a retry of this task reuses the version it
        registered. Give either this or ``version``.
    :param version: a version your code registered already (``log_model(registered_model_name=...)``).
    :param training_data: URI/SQL/callable of the data the model was trained on: its URI and content digest
        are recorded (``robust.data.uri``, ``robust.data.digest``). Optional.
    :param target: with ``training_data``, its label column: a drift reference profile of the data is stored
        (``MonitorDriftOperator(reference="models:/<name>@champion")`` then works for this version).
    :param features: the feature columns of ``training_data`` (default: every column but ``target``).
    :param conn_id: connection for SQL ``training_data``. :param data_format: override the format by suffix.

    Returns (XCom) ``model_uri`` (``models:/<name>/<version>``), ``model_name``, ``version``,
    ``model_digest``, ``run_id``, ``gate_runs``, ``data_digest``.
    """

    stage = "registration"
    template_fields: Sequence[str] = ("model_name", "model_uri", "version", "training_data", "conn_id")
    PARAMETERS: ClassVar[Mapping[str, Constraint]] = {
        **RobustBaseOperator.PARAMETERS,
        "model_name": model_name(),
        "model_uri": _MODEL_URI,
        "version": VERSION.or_none(),
        "training_data": non_empty_str().or_none(),
        "target": non_empty_str().or_none(),
        "features": str_list().or_none(),
        "conn_id": non_empty_str().or_none(),
        "data_format": one_of(*FORMATS).or_none(),
    }

    def __init__(
        self,
        *,
        model_name: str,
        model_uri: str | None = None,
        version: str | int | None = None,
        training_data: str | None = None,
        target: str | None = None,
        features: Sequence[str] | None = None,
        conn_id: str | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.model_name = model_name
        self.model_uri = model_uri
        self.version = version
        self.training_data = training_data
        self.target = target
        self.features = features
        self.conn_id = conn_id
        self.data_format = data_format

    def check_parameters(self) -> None:
        from airflow_robust.exceptions import InvalidParameterError

        if (self.model_uri is None) == (self.version is None):
            raise InvalidParameterError(
                "model_uri",
                type(self).__name__,
                "given, or else 'version' (exactly one of the two)",
                self.model_uri,
                detail=f"version={self.version!r}.",
            )

    def run_stage(self, context: Any, run: StageRun, hook: MlflowHook) -> dict[str, Any]:
        import mlflow

        from airflow_robust.operators._train_stage import _gate_runs, attest_registration
        from airflow_robust.registry.versions import find_task_version, get_version, upstream_gate_tags
        from airflow_robust.tracking.identity import TAG_DAG_ID, TAG_RUN_ID, TAG_TASK_ID, TAG_TASK_KEY

        owner = type(self).__name__
        client = hook.get_client()
        identity = run.identity
        name = self.model_name
        if self.version is not None:
            record = get_version(client, name, str(self.version), owner, parameter="version")
        else:
            record = find_task_version(client, name, identity) or self._register(identity.task_key)
        version = str(record.version)
        tags: dict[str, str] = {
            TAG_DAG_ID: identity.dag_id,
            TAG_RUN_ID: identity.run_id,
            TAG_TASK_ID: identity.task_id,
            TRAINING_RUN_ID_TAG: str(record.run_id or ""),
            **upstream_gate_tags(client, run.experiment_id, identity.run_key),
        }
        if self.model_uri is not None:
            tags[TAG_TASK_KEY] = identity.task_key
        facts: dict[str, Any] = {"registered_by": owner, "source": str(record.source)}
        if self.training_data:
            from airflow_robust.data.loaders import frame_digest
            from airflow_robust.operators._data import load

            source, frame = load(
                owner, self.training_data, conn_id=self.conn_id, data_format=self.data_format, parameter="training_data"
            )
            tags[DATA_URI_TAG], tags[DATA_DIGEST_TAG] = source.display[:5000], frame_digest(frame)
            facts.update({"data_uri": tags[DATA_URI_TAG], "data_digest": tags[DATA_DIGEST_TAG]})
            if self.target:
                self._log_profile(frame, source.display, tags[DATA_DIGEST_TAG])
                tags[PROFILE_RUN_ID_TAG] = run.run_id
        for key, value in tags.items():
            client.set_model_version_tag(name, version, key, value)
        attestation = attest_registration(self.signer(run, hook), client, name, version, _gate_runs(tags), facts)
        assert attestation.model is not None
        mlflow.set_tags({MODEL_NAME_TAG: name, MODEL_VERSION_TAG: version})
        self.log.info(
            "Registered %s version %s with signed evidence (files %s)", name, version, attestation.model.digest
        )
        context["ti"].xcom_push(key="model_uri", value=f"models:/{name}/{version}")  # register.output["model_uri"]
        context["ti"].xcom_push(key="version", value=version)
        return {
            "model_uri": f"models:/{name}/{version}",
            "model_name": name,
            "version": version,
            "model_digest": attestation.model.digest,
            "run_id": run.run_id,
            "gate_runs": _gate_runs(tags),
            "data_digest": tags.get(DATA_DIGEST_TAG),
        }

    def _log_profile(self, frame: Any, uri: str, digest: str) -> None:
        """Store the drift reference profile of the training data in this stage's run."""
        import mlflow

        from airflow_robust.data.columns import require_column
        from airflow_robust.drift.profile import build_profile

        owner = type(self).__name__
        assert self.target is not None
        require_column(owner, "target", self.target, list(frame.columns), "a column of training_data")
        features = list(self.features) if self.features else [c for c in frame.columns if c != self.target]
        for column in features:
            require_column(owner, "features", column, list(frame.columns), "columns of training_data")
        profile = build_profile(frame[[*features, self.target]], target=self.target)
        profile.meta.update({"data_uri": uri, "digest": digest, "features": features})
        mlflow.log_dict(profile.to_dict(), "reference_profile.json")

    def _register(self, task_key: str) -> Any:
        import mlflow

        from airflow_robust.tracking.identity import TAG_TASK_KEY

        assert self.model_uri is not None
        return mlflow.register_model(self.model_uri.strip(), self.model_name, tags={TAG_TASK_KEY: task_key})
