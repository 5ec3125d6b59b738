"""Keep a model version's description true: a status block on top, rewritten at every decision.

The promotion gate writes the review section (evidence table, links); approval, rejection,
deployment and rollback each rewrite the status block above it, and once the version is no
longer pending the "how to review" instructions are removed, so the page never says "pending
approval" about a version that was approved, rejected, deployed or rolled back.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_robust.registry.store import ModelStore

STATUS_START = "<!-- airflow-robust status -->"
STATUS_END = "<!-- /airflow-robust status -->"
REVIEW_MARK = "<!-- airflow-robust review -->"
INSTRUCTIONS_START = "<!-- airflow-robust how-to-review -->"
INSTRUCTIONS_END = "<!-- /airflow-robust how-to-review -->"
MAX_DESCRIPTION = 60000

_MENTION = re.compile(r"(^|\s)@(?=\w)")
_BLOCK = re.compile(re.escape(STATUS_START) + r".*?" + re.escape(STATUS_END) + r"\n*", re.DOTALL)
_INSTRUCTIONS = re.compile(re.escape(INSTRUCTIONS_START) + r".*?" + re.escape(INSTRUCTIONS_END) + r"\n*", re.DOTALL)


def status_block(line: str, at: float | None = None) -> str:
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(time.time() if at is None else at))
    return f"{STATUS_START}\n**Status: {no_mentions(line)}** ({when})\n{STATUS_END}\n\n"


def no_mentions(text: str) -> str:
    """``@champion`` escaped as ``\\@champion``: MLflow's markdown would link it to github.com/champion."""
    return _MENTION.sub(r"\1\\@", text)


def with_status(description: str, line: str, *, decided: bool = True, at: float | None = None) -> str:
    """``description`` with its status block replaced by ``line`` (and review instructions removed once decided)."""
    text = _BLOCK.sub("", description or "")
    if decided:
        text = _INSTRUCTIONS.sub("", text)
        text = text.replace("promotion: pending approval", "promotion: reviewed")
    return (status_block(line, at) + text.lstrip())[:MAX_DESCRIPTION]


def mark_version(client: ModelStore, name: str, version: str, line: str, *, decided: bool = True) -> str:
    """Rewrite the status block of ``name`` version ``version``; returns the new description."""
    record = client.get_model_version(name, version)
    text = with_status(record.description or "", line, decided=decided)
    client.update_model_version(name, version, description=text)
    return text
