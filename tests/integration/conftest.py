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


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    require_services()
    root = Path(tempfile.mkdtemp(prefix="airflow-robust-it-"))
    running = Stack(root=root, prefix="airflow_robust_it").start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
