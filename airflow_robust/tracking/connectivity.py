"""Tell "the tracking server could not be reached" and "it refused us" apart from every other failure.

A gate that catches a failure to fail closed ("the champion could not be scored") must not
catch an outage: that would turn a transient fault into a permanent verdict (a rejection, a
refused deployment, a parameter error) where Airflow's retries should have applied. Nor may it
catch an authentication or permission error (HTTP 401/403): that is neither a verdict nor an
outage, retrying cannot fix it, and the message must say so at once.

Every MLflow REST error starts with "API request to ..."; only a failed request (no response)
or a 5xx/429 response is an outage.
"""

from __future__ import annotations

import re

MARKERS = (
    "ConnectionError",
    "Max retries exceeded",
    "Connection refused",
    "Failed to establish",
    "timed out",
    "Name or service not known",
    "Temporary failure",
    "RemoteDisconnected",
    "Connection aborted",
)
_STATUS = re.compile(r"error code (\d{3}) != 200")
_FAILED_REQUEST = re.compile(r"API request to \S+ failed with (timeout )?exception")


def status_code(text: str) -> int | None:
    """The HTTP status an MLflow REST error reports (``failed with error code 503 != 200``)."""
    match = _STATUS.search(text)
    return int(match.group(1)) if match else None


def is_unreachable_text(text: str) -> bool:
    """Whether an error message says the server could not be reached (or answered 5xx/429)."""
    code = status_code(text)
    if code is not None:
        return code >= 500 or code == 429
    return bool(_FAILED_REQUEST.search(text)) or any(marker in text for marker in MARKERS)


def auth_status_text(text: str) -> int | None:
    """401 or 403 when an error message reports one, else ``None``."""
    code = status_code(text)
    if code in (401, 403):
        return code
    if "401 Client Error" in text or "You are not authenticated" in text:
        return 401
    if "403 Client Error" in text:
        return 403
    return None


def causes(err: BaseException) -> list[BaseException]:
    """``err`` and what caused it, outermost first (``__cause__``, else ``__context__``)."""
    seen: list[BaseException] = []
    current: BaseException | None = err
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def auth_status(err: BaseException) -> int | None:
    """401/403 when ``err`` (or what caused it) is MLflow refusing the credentials or the action."""
    for item in causes(err):
        code = getattr(item, "error_code", "")
        if code == "UNAUTHENTICATED":
            return 401
        if code == "PERMISSION_DENIED":
            return 403
        status = auth_status_text(str(item))
        if status is not None:
            return status
    return None


def is_auth_failure(err: BaseException) -> bool:
    return auth_status(err) is not None


def is_unreachable(err: BaseException) -> bool:
    """Whether ``err`` (or what caused it) means the tracking server could not be reached."""
    if is_auth_failure(err):
        return False
    if any(getattr(item, "error_code", "") == "TEMPORARILY_UNAVAILABLE" for item in causes(err)):
        return True
    return any(is_unreachable_text(f"{type(item).__name__}: {item}") for item in causes(err))
