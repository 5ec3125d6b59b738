"""Training, Airflow-free: :func:`train_model` trains, logs and registers a version with signed registration
evidence, or reuses the one an earlier try registered (TrainModelOperator)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from airflow_robust.registry.tags import (
    DATA_DIGEST_TAG,
    DATA_URI_TAG,
    MODEL_DIGEST_TAG,
    MODEL_NAME_TAG,
    MODEL_VERSION_TAG,
    PREFIX,
    REGISTRATION_RUN_ID_TAG,
    REUSED_FROM_RUN_TAG,
    REUSED_VERSION_TAG,
    TASK_TAG,
    TRAINING_RUN_ID_TAG,
    TRAINING_RUN_URL_TAG,
)
from airflow_robust.requests import DataRequest, SignedRequest
from airflow_robust.tracking.identity import TAG_DAG_ID, TAG_RUN_ID, TAG_TASK_ID, TAG_TASK_KEY
from airflow_robust.trust.gate import Verdict

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_robust.registry.store import ModelStore
    from airflow_robust.requests import Tracking
    from airflow_robust.tracking.runs import StageRun
    from airflow_robust.trust.gate import Signer


class TrainRequest(SignedRequest, DataRequest, Protocol):
    """What training reads of its operator; an operator (or any object) satisfies it."""

    @property
    def data(self) -> str: ...

    @property
    def estimator(self) -> str: ...

    @property
    def features(self) -> Sequence[str] | None: ...

    @property
    def model_params(self) -> dict[str, Any]: ...

    @property
    def preprocess(self) -> str: ...

    @property
    def profile_bins(self) -> int: ...

    @property
    def registered_model_name(self) -> str: ...

    @property
    def seed(self) -> int: ...

    @property
    def target(self) -> str: ...

    @property
    def task(self) -> str: ...

    @property
    def test_size(self) -> float: ...

    @property
    def validation_data(self) -> str | None: ...


def train_model(op: TrainRequest, run: StageRun, tracking: Tracking) -> Verdict:
    """Train, log and register a version (or reuse the one an earlier try of this task registered); the
    model's URI, name and version are also XCom values of their own (``train.output["model_uri"]``)."""
    summary = _reuse_or_train(op, run, tracking)
    return Verdict(summary, outputs={key: summary[key] for key in ("model_uri", "model_name", "version")})


def _reuse_or_train(op: TrainRequest, run: StageRun, tracking: Tracking) -> dict[str, Any]:
    """Reuse the version an earlier try registered, else train, log and register."""
    import mlflow

    from airflow_robust.registry.versions import find_task_version

    client = tracking.get_client()
    config = tracking.get_config()
    name = op.registered_model_name
    existing = find_task_version(client, name, run.identity)
    if existing is not None:
        op.log.info("An earlier try registered %s version %s; reusing it.", name, existing.version)
        source_run = client.get_run(existing.run_id) if existing.run_id else None
        metrics = dict(source_run.data.metrics) if source_run else {}
        mlflow.set_tags({REUSED_VERSION_TAG: str(existing.version), REUSED_FROM_RUN_TAG: existing.run_id})
        if not existing.tags.get(REGISTRATION_RUN_ID_TAG):  # the earlier try died before signing
            gate_runs = _gate_runs(existing.tags)
            attest_registration(op.signer(run, tracking), client, name, str(existing.version), gate_runs, {})
        return _summary(
            name,
            existing,
            run,
            metrics=metrics,
            digest=existing.tags.get(DATA_DIGEST_TAG, ""),
            task=existing.tags.get(TASK_TAG, ""),
            reused=True,
        )
    return _train_and_register(op, run, tracking, client, config)


def _train_and_register(
    op: TrainRequest, run: StageRun, tracking: Tracking, client: ModelStore, config: Any
) -> dict[str, Any]:
    import mlflow

    from airflow_robust.data.access import load
    from airflow_robust.data.loaders import frame_digest
    from airflow_robust.registry.versions import register_version, upstream_gate_tags
    from airflow_robust.training.fit import TrainingSpec, train
    from airflow_robust.training.record import log_training

    owner = type(op).__name__
    source, frame = load(op.storage, owner, op.data, conn_id=op.conn_id, data_format=op.data_format)
    validation = None
    if op.validation_data:
        _, validation = load(
            op.storage, owner, op.validation_data, data_format=op.data_format, parameter="validation_data"
        )
    spec = TrainingSpec(
        estimator=op.estimator,
        target=op.target,
        params=dict(op.model_params),
        task=op.task,
        features=list(op.features) if op.features is not None else None,
        preprocess=op.preprocess,
        test_size=op.test_size,
        seed=op.seed,
        owner=owner,
    )
    digest = frame_digest(frame)
    op.log.info("Loaded %d rows x %d columns from %s (digest %s)", len(frame), frame.shape[1], source.display, digest)
    result = train(frame, spec, validation)
    op.log.info("Trained a %s model on %d rows; holdout %s", result.task, result.n_train, result.metrics)
    logged = log_training(result, spec, frame, data_uri=source.display, digest=digest, profile_bins=op.profile_bins)
    identity = run.identity
    tags = {
        TAG_DAG_ID: identity.dag_id,
        TAG_RUN_ID: identity.run_id,
        TAG_TASK_ID: identity.task_id,
        TAG_TASK_KEY: identity.task_key,
        DATA_URI_TAG: source.display[:5000],
        DATA_DIGEST_TAG: digest,
        TASK_TAG: result.task,
        TRAINING_RUN_ID_TAG: run.run_id,
        TRAINING_RUN_URL_TAG: config.run_url(run.experiment_id, run.run_id),
        **upstream_gate_tags(client, run.experiment_id, identity.run_key),
    }
    version = register_version(
        client,
        op.registered_model_name,
        logged.model_uri,
        run_id=run.run_id,
        model_id=logged.model_id,
        tags=tags,
        description=f"Trained by Airflow task {identity.dag_id}.{identity.task_id} in DAG run {identity.run_id}.",
    )
    mlflow.set_tags({MODEL_NAME_TAG: op.registered_model_name, MODEL_VERSION_TAG: str(version.version)})
    attest_registration(
        op.signer(run, tracking),
        client,
        op.registered_model_name,
        str(version.version),
        _gate_runs(tags),
        {"data_uri": source.display[:1000], "data_digest": digest, "training_run_id": run.run_id},
    )
    return _summary(
        op.registered_model_name, version, run, metrics=result.metrics, digest=digest, task=result.task, reused=False
    )


def _summary(
    name: str, version: Any, run: StageRun, *, metrics: dict[str, float], digest: str, task: str, reused: bool
) -> dict[str, Any]:
    return {
        "model_uri": f"models:/{name}/{version.version}",
        "model_name": name,
        "version": str(version.version),
        "run_id": run.run_id,
        "training_run_id": version.run_id,
        "metrics": metrics,
        "task": task,
        "data_digest": digest,
        "reused": reused,
    }


def _gate_runs(tags: dict[str, str]) -> dict[str, list[str]]:
    """Runs of data gates that ran earlier in this DAG run (``upstream_gate_tags``), by gate."""
    out: dict[str, list[str]] = {}
    for key, value in tags.items():
        if key.startswith(PREFIX) and key.endswith(".runs") and value:
            out[key[len(PREFIX) : -len(".runs")]] = [v for v in value.split(",") if v]
    return out


def attest_registration(
    signer: Signer,
    client: ModelStore,
    name: str,
    version: str,
    gate_runs: dict[str, list[str]],
    facts: dict[str, Any],
) -> Any:
    """Sign "version ``version`` of ``name`` had these files at registration" into the signer's run.

    ``gate_runs`` lists the runs of data gates (validation) of the same DAG run that judged the data
    the version was trained on; promotion verifies each of them.
    """
    import tempfile

    from airflow_robust.trust.gate import bind_version, point_version

    with tempfile.TemporaryDirectory(prefix="airflow-robust-model-") as tmp:
        binding, _ = bind_version(name, version, tmp)
    decision = {
        "gate": "registration",
        "status": "passed",
        "model_name": name,
        "version": version,
        "model_digest": binding.digest,
        "gate_runs": gate_runs,
        **facts,
    }
    record = signer.attest("registration", "passed", decision, model=binding, facts={"gate_runs": gate_runs, **facts})
    point_version(client, binding, "registration", signer.run.run_id, {MODEL_DIGEST_TAG: binding.digest})
    return record
