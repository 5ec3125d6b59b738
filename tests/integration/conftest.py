"""One production-shaped stack per test session (see ``stack.py``); skipped without services unless CI=true."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.stack import Stack, services_available

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def require_services() -> None:
    missing = services_available()
    if missing is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"integration services are required under CI=true: {missing}")
    pytest.skip(missing)


#: the session's stack while it runs (stopped as soon as the last test that uses it is done)
_RUNNING: list[Stack] = []


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    require_services()
    root = Path(tempfile.mkdtemp(prefix="airflow-robust-it-"))
    running = Stack(root=root, prefix="airflow_robust_it").start()
    _RUNNING.append(running)
    try:
        yield running
    finally:
        _stop()


def _stop() -> None:
    while _RUNNING:
        _RUNNING.pop().stop()


@pytest.hookimpl(trylast=True)  # after the fixtures' own teardown
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Tests run in collection order (with xdist, ``tests/conftest.py`` gives all of the stack's tests
    to one worker): after the last test that uses the stack, stop its dozen processes instead of
    letting them load the machine until the session ends."""
    if _RUNNING and item is _last_stack_user(item.session):
        _stop()


def _last_stack_user(session: pytest.Session) -> pytest.Item | None:
    users = [i for i in session.items if "stack" in getattr(i, "fixturenames", ())]
    return users[-1] if users else None


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
