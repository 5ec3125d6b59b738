"""Tell "the tracking server could not be reached" apart from every other failure.

A gate that catches a failure to fail closed ("the champion could not be scored") must not
catch an outage: that would turn a transient fault into a permanent verdict (a rejection, a
refused deployment, a parameter error) where Airflow's retries should have applied.
"""

from __future__ import annotations

MARKERS = (
    "ConnectionError",
    "Max retries exceeded",
    "Connection refused",
    "Failed to establish",
    "timed out",
    "Name or service not known",
    "API request to",
    "Temporary failure",
    "RemoteDisconnected",
    "Connection aborted",
)


def is_unreachable_text(text: str) -> bool:
    """Whether an error message says the server could not be reached."""
    return any(marker in text for marker in MARKERS)


def is_unreachable(err: BaseException) -> bool:
    """Whether ``err`` (or what caused it) means the tracking server could not be reached."""
    seen: BaseException | None = err
    while seen is not None:
        if is_unreachable_text(f"{type(seen).__name__}: {seen}"):
            return True
        seen = seen.__cause__ or seen.__context__
        if seen is err:
            break
    return False
