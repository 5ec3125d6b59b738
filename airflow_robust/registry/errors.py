"""The one reader of MLflow's errors: every failed registry or tracking call is one of a few kinds.

Call sites ask :func:`classify` (or :func:`never_judged`) instead of reading error codes or
message text themselves; ``MlflowHook.translate`` turns the kinds that are not a verdict (an
outage, a refusal of the credentials) into this package's exception tree. The text matching
that tells an outage from other failures lives in :mod:`airflow_robust.tracking.connectivity`.
"""

from __future__ import annotations

import enum

from airflow_robust.tracking.connectivity import auth_status, is_unreachable


class Failure(enum.Enum):
    """What a failed MLflow call means for the caller."""

    OUTAGE = "outage"  # no answer, 5xx or 429: retry (Airflow's retries), never a verdict
    AUTH = "auth"  # 401/403: name the connection, retrying cannot help, never a verdict
    MISSING = "missing"  # no such model, version, alias, run or experiment
    EXISTS = "exists"  # the entity being created exists already (a lost race)
    INVALID = "invalid"  # MLflow refused the request as malformed
    OTHER = "other"


#: MLflow's error codes for "no such model, version, alias or run" (it answers INVALID_PARAMETER_VALUE
#: for a lookup of an alias that is not set, with "not found" in the message)
MISSING_CODES = frozenset({"RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"})
INVALID_CODES = frozenset({"INVALID_PARAMETER_VALUE", "BAD_REQUEST", "INVALID_STATE"})


def classify(err: BaseException) -> Failure:
    """The kind of ``err`` (an ``MlflowException``, or what a client or ``requests`` raised)."""
    if auth_status(err) is not None:
        return Failure.AUTH
    if is_unreachable(err):
        return Failure.OUTAGE
    code = str(getattr(err, "error_code", ""))
    text = str(err).lower()
    if code == "RESOURCE_ALREADY_EXISTS" or "already exists" in text:
        return Failure.EXISTS
    if code in MISSING_CODES or (code == "INVALID_PARAMETER_VALUE" and "not found" in text):
        return Failure.MISSING
    if code in INVALID_CODES:
        return Failure.INVALID
    return Failure.OTHER


def never_judged(err: BaseException) -> bool:
    """Whether ``err`` is an outage or an auth refusal: re-raise it, never make it a verdict or a bad parameter."""
    return classify(err) in (Failure.OUTAGE, Failure.AUTH)
