"""The one exception tree of airflow-robust.

Every error this package raises derives from :class:`AirflowRobustError` and carries the
context a reader needs (which parameter, which operator, what was expected, what was given)::

    AirflowRobustError
    ├── ConfigurationError            bad configuration; retrying cannot help
    │   ├── InvalidParameterError     one parameter failed validation (fixed message shape)
    │   ├── ModelFlavorError          the model was not logged with the flavor a step needs
    │   ├── SigningKeyMissing         no key to sign or verify gate evidence with
    │   └── TrackingAuthError         MLflow refused the credentials (401) or the action (403)
    ├── DataError                     the data cannot be used; retrying cannot help
    │   ├── DataSourceError           cannot read / parse / find the data
    │   └── EmptyDataError            the data has no rows (fail closed)
    ├── EvidenceError                 gate evidence does not verify (forged, tampered, unbound)
    ├── GateFailure                   a gate said "no" (or could not decide: fail closed)
    │   ├── DataValidationFailed
    │   ├── RobustnessCheckFailed
    │   ├── PromotionRejected
    │   ├── ApprovalRejected
    │   ├── DeploymentRefused
    │   └── DriftDetected
    └── InfrastructureError           transient fault: Airflow's retries apply
        ├── TrackingUnavailable       MLflow tracking / registry unreachable
        ├── StorageUnavailable        object storage / database unreachable
        └── LeaseTimeout              another DAG run held the model's promotion lease too long

This module imports nothing from Airflow: domain packages raise these classes directly. At the
Airflow edge (:mod:`airflow_robust.operators._edge`) every non-retryable error is re-raised as
a subclass of both its own class *and* ``AirflowFailException`` so a task ends ``failed``
after one try, while :class:`InfrastructureError` stays an ordinary exception that Airflow
retries.
"""

from __future__ import annotations

from typing import Any


class AirflowRobustError(Exception):
    """Base class of every error raised by airflow-robust."""

    #: Whether retrying the task could change the outcome.
    retryable: bool = False


class ConfigurationError(AirflowRobustError, ValueError):
    """The task is configured in a way that cannot work."""


class InvalidParameterError(ConfigurationError):
    """A parameter failed validation.

    The message has one fixed shape, e.g. ``The 'min_improvement' parameter of
    PromoteModelOperator must be a float in [0, 1]. Got 1.5 instead.``
    """

    def __init__(self, parameter: str, owner: str, expected: str, got: Any, detail: str = "") -> None:
        self.parameter = parameter
        self.owner = owner
        self.expected = expected
        self.got = got
        shown = got if isinstance(got, str) and got.startswith("<") else repr(got)
        if len(shown) > 200:
            shown = shown[:197] + "..."
        message = f"The {parameter!r} parameter of {owner} must be {expected}. Got {shown} instead."
        if detail:
            message = f"{message} {detail}"
        super().__init__(message)


class ModelFlavorError(ConfigurationError):
    """The model was not logged with the MLflow flavor a step needs (e.g. scikit-learn)."""


class SigningKeyMissing(ConfigurationError):
    """No signing key is configured, so gate evidence can be neither written nor verified."""


class TrackingAuthError(ConfigurationError):
    """MLflow refused the connection's credentials (401) or the action (403): retrying cannot help."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


class EvidenceError(AirflowRobustError):
    """Gate evidence does not verify: missing, written by hand, signed with another key, changed
    after signing, or bound to another model version or other model files."""


class DataError(AirflowRobustError):
    """The data cannot be used as given."""


class DataSourceError(DataError):
    """The data cannot be found, read or parsed."""

    def __init__(self, message: str, *, source: str | None = None) -> None:
        self.source = source
        super().__init__(message)


class EmptyDataError(DataError):
    """The data has no rows; gates fail closed on it."""

    def __init__(self, message: str, *, source: str | None = None) -> None:
        self.source = source
        super().__init__(message)


class GateFailure(AirflowRobustError):
    """A gate said "no", or could not decide and failed closed.

    ``summary`` is the same small JSON-able dict the gate pushes to XCom and MLflow.
    """

    gate: str = "gate"

    def __init__(self, message: str, *, summary: dict[str, Any] | None = None) -> None:
        self.summary: dict[str, Any] = dict(summary or {})
        super().__init__(message)


class DataValidationFailed(GateFailure):
    """Data validation found critical failures."""

    gate = "validation"


class RobustnessCheckFailed(GateFailure):
    """The model failed one or more robustness checks."""

    gate = "robustness"


class PromotionRejected(GateFailure):
    """The candidate model version may not be promoted."""

    gate = "promotion"


class ApprovalRejected(GateFailure):
    """A reviewer rejected the version, or the review timed out."""

    gate = "approval"


class DeploymentRefused(GateFailure):
    """The version failed its serving check, or the alias moved since the decision (compare-and-set)."""

    gate = "deploy"


class DriftDetected(GateFailure):
    """Monitoring found drift beyond the configured thresholds."""

    gate = "monitor"


class InfrastructureError(AirflowRobustError):
    """A transient fault outside our control; retrying may succeed."""

    retryable = True


class TrackingUnavailable(InfrastructureError):
    """The MLflow tracking or registry server cannot be reached."""


class StorageUnavailable(InfrastructureError):
    """Object storage or a database cannot be reached."""


class LeaseTimeout(InfrastructureError):
    """Another promotion of the same model held the lease for longer than we were willing to wait."""
