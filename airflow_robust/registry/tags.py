"""Every ``robust.*`` tag name airflow-robust reads or writes, in one place (Airflow-free).

Tags live on MLflow runs, model versions and registered models, and anyone with EDIT rights can write
them: they point at evidence, they are never the evidence (see :mod:`airflow_robust.trust`). Names
made per gate or alias are built by the functions below, so a name is spelled once.
"""

from __future__ import annotations

#: prefix of every tag airflow-robust writes
PREFIX = "robust."


# approval
APPROVAL_TAG = "robust.approval"
APPROVAL_STATUS_TAG = "robust.approval.status"

# attestation
ATTESTATION_TAG = "robust.attestation"

# batch_predict
BATCH_PREDICT_MODEL_URI_TAG = "robust.batch_predict.model_uri"

# candidate
CANDIDATE_TAG = "robust.candidate"

# data
DATA_DIGEST_TAG = "robust.data.digest"
DATA_URI_TAG = "robust.data.uri"

# deploy
DEPLOY_BYPASS_TAG = "robust.deploy.bypass"
DEPLOY_STATUS_TAG = "robust.deploy.status"

# history
HISTORY_MODEL_TAG = "robust.history.model"
HISTORY_WHEN_TAG = "robust.history.when"

# lease
LEASE_EXPIRES_TAG = "robust.lease.expires"
LEASE_HOLDER_TAG = "robust.lease.holder"
LEASE_MODEL_TAG = "robust.lease.model"

# model
MODEL_DIGEST_TAG = "robust.model.digest"

# model_name
MODEL_NAME_TAG = "robust.model_name"

# model_version
MODEL_VERSION_TAG = "robust.model_version"

# monitor
MONITOR_DRIFT_TAG = "robust.monitor.drift"
MONITOR_DRIFT_SHARE_TAG = "robust.monitor.drift_share"
MONITOR_DRIFTED_COLUMNS_TAG = "robust.monitor.drifted_columns"
MONITOR_RUN_TAG = "robust.monitor.run"
MONITOR_STATUS_TAG = "robust.monitor.status"
MONITOR_TIME_TAG = "robust.monitor.time"

# profile
PROFILE_RUN_ID_TAG = "robust.profile.run_id"

# promotion
PROMOTION_CHAMPION_BEFORE_TAG = "robust.promotion.champion_before"
PROMOTION_DAG_RUN_TAG = "robust.promotion.dag_run"
PROMOTION_DECISION_TAG = "robust.promotion.decision"
PROMOTION_REASON_TAG = "robust.promotion.reason"
PROMOTION_RUN_TAG = "robust.promotion.run"
PROMOTION_RUN_ID_TAG = "robust.promotion.run_id"
PROMOTION_STATUS_TAG = "robust.promotion.status"

# registration
REGISTRATION_RUN_ID_TAG = "robust.registration.run_id"

# reused_from_run
REUSED_FROM_RUN_TAG = "robust.reused_from_run"

# reused_version
REUSED_VERSION_TAG = "robust.reused_version"

# robustness
ROBUSTNESS_RUN_TAG = "robust.robustness.run"
ROBUSTNESS_RUN_ID_TAG = "robust.robustness.run_id"
ROBUSTNESS_STATUS_TAG = "robust.robustness.status"

# rollback
ROLLBACK_STATUS_TAG = "robust.rollback.status"

# task
TASK_TAG = "robust.task"

# training
TRAINING_RUN_ID_TAG = "robust.training.run_id"
TRAINING_RUN_URL_TAG = "robust.training.run_url"

# validation
VALIDATION_STATUS_TAG = "robust.validation.status"
VALIDATION_SUCCESS_PERCENT_TAG = "robust.validation.success_percent"

#: one tag per alias-history field (``robust.history.from``, ``.to``, ``.seq``, ...)
HISTORY_PREFIX = "robust.history."
#: on a model version: the approval run of each gated task (``robust.approval.run.<task key>``)
APPROVAL_RUN_PREFIX = "robust.approval.run."


def gate_tag(gate: str, field: str) -> str:
    """``robust.<gate>.<field>``: a gate's ``status``, ``reason``, ``run_id``, ``runs`` or a figure."""
    return f"{PREFIX}{gate}.{field}"


def rollback_tag(alias: str, field: str) -> str:
    """``robust.rollback.<alias>.<field>`` on a registered model: the DAG (``dag``) and the link (``url``)
    that undo a deploy."""
    return f"{PREFIX}rollback.{alias}.{field}"
