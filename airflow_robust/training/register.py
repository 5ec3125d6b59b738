"""Bring a model your own code trained into the gated loop (``RegisterModelOperator``), Airflow-free.

Your ``@task`` trains and logs the model however it likes (``mlflow.xgboost.log_model``, a custom
``mlflow.pyfunc.PythonModel``, ...). :func:`register` then registers it (``model_uri``) or takes the
version you registered (``version``), and gives it what training gives its own versions: Airflow
provenance tags, the training data's URI and digest, the gate results of validations that ran
earlier in the same DAG run, and the signed registration evidence (the digest of the model's
files) that promotion and deploy verify.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from airflow_robust.registry.tags import (
    DATA_DIGEST_TAG,
    DATA_URI_TAG,
    MODEL_NAME_TAG,
    MODEL_VERSION_TAG,
    PROFILE_RUN_ID_TAG,
    TRAINING_RUN_ID_TAG,
)
from airflow_robust.requests import DataRequest, SignedRequest
from airflow_robust.trust.gate import Verdict

if TYPE_CHECKING:
    from airflow_robust.requests import Tracking
    from airflow_robust.tracking.runs import StageRun


class RegisterRequest(SignedRequest, DataRequest, Protocol):
    """What registration reads of its operator."""

    @property
    def model_name(self) -> str: ...

    @property
    def model_uri(self) -> str | None: ...

    @property
    def version(self) -> str | int | None: ...

    @property
    def training_data(self) -> str | None: ...

    @property
    def target(self) -> str | None: ...

    @property
    def features(self) -> Sequence[str] | None: ...


def register(op: RegisterRequest, run: StageRun, tracking: Tracking) -> Verdict:
    """Register ``op.model_uri`` (or adopt ``op.version``) with Airflow provenance, the training data's digest,
    the gate runs of this DAG run, and signed registration evidence (the digest of the model's files)."""
    import mlflow

    from airflow_robust.registry.versions import find_task_version, get_version, upstream_gate_tags
    from airflow_robust.tracking.identity import TAG_DAG_ID, TAG_RUN_ID, TAG_TASK_ID, TAG_TASK_KEY
    from airflow_robust.training.stage import _gate_runs, attest_registration

    owner = type(op).__name__
    client = tracking.get_client()
    identity = run.identity
    name = op.model_name
    if op.version is not None:
        record = get_version(client, name, str(op.version), owner, parameter="version")
    else:
        record = find_task_version(client, name, identity) or _register(op, identity.task_key)
    version = str(record.version)
    tags: dict[str, str] = {
        TAG_DAG_ID: identity.dag_id,
        TAG_RUN_ID: identity.run_id,
        TAG_TASK_ID: identity.task_id,
        TRAINING_RUN_ID_TAG: str(record.run_id or ""),
        **upstream_gate_tags(client, run.experiment_id, identity.run_key),
    }
    if op.model_uri is not None:
        tags[TAG_TASK_KEY] = identity.task_key
    facts: dict[str, Any] = {"registered_by": owner, "source": str(record.source)}
    if op.training_data:
        from airflow_robust.data.access import load
        from airflow_robust.data.loaders import frame_digest

        source, frame = load(
            op.storage,
            owner,
            op.training_data,
            conn_id=op.conn_id,
            data_format=op.data_format,
            parameter="training_data",
        )
        tags[DATA_URI_TAG], tags[DATA_DIGEST_TAG] = source.display[:5000], frame_digest(frame)
        facts.update({"data_uri": tags[DATA_URI_TAG], "data_digest": tags[DATA_DIGEST_TAG]})
        if op.target:
            _log_profile(op, frame, source.display, tags[DATA_DIGEST_TAG])
            tags[PROFILE_RUN_ID_TAG] = run.run_id
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)
    attestation = attest_registration(op.signer(run, tracking), client, name, version, _gate_runs(tags), facts)
    assert attestation.model is not None
    mlflow.set_tags({MODEL_NAME_TAG: name, MODEL_VERSION_TAG: version})
    op.log.info("Registered %s version %s with signed evidence (files %s)", name, version, attestation.model.digest)
    summary = {
        "model_uri": f"models:/{name}/{version}",
        "model_name": name,
        "version": version,
        "model_digest": attestation.model.digest,
        "run_id": run.run_id,
        "gate_runs": _gate_runs(tags),
        "data_digest": tags.get(DATA_DIGEST_TAG),
    }
    return Verdict(summary, outputs={"model_uri": summary["model_uri"], "version": version})


def _log_profile(op: RegisterRequest, frame: Any, uri: str, digest: str) -> None:
    """Store the drift reference profile of the training data in this stage's run."""
    import mlflow

    from airflow_robust.data.columns import require_column
    from airflow_robust.drift.profile import build_profile

    owner = type(op).__name__
    assert op.target is not None
    require_column(owner, "target", op.target, list(frame.columns), "a column of training_data")
    features = list(op.features) if op.features else [c for c in frame.columns if c != op.target]
    for column in features:
        require_column(owner, "features", column, list(frame.columns), "columns of training_data")
    profile = build_profile(frame[[*features, op.target]], target=op.target)
    profile.meta.update({"data_uri": uri, "digest": digest, "features": features})
    mlflow.log_dict(profile.to_dict(), "reference_profile.json")


def _register(op: RegisterRequest, task_key: str) -> Any:
    import mlflow

    from airflow_robust.tracking.identity import TAG_TASK_KEY

    assert op.model_uri is not None
    return mlflow.register_model(op.model_uri.strip(), op.model_name, tags={TAG_TASK_KEY: task_key})
