"""``ApprovalTrigger``: waits in the triggerer (no worker slot) for a reviewer's tag on a model version."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

DECIDED = ("approved", "rejected")
_MLFLOW_ENV = threading.Lock()  # MLflow credentials live in process env: one applied() at a time


def read_approval(conn_id: str, model_name: str, version: str, tag: str) -> dict[str, Any]:
    """The reviewer's tag on the version: ``status`` normalised (``approved``/``rejected``/``pending``/``unknown``)."""
    from airflow_robust.hooks.mlflow import MlflowHook
    from airflow_robust.operators._approval import normalise

    hook = MlflowHook(conn_id)
    with _MLFLOW_ENV, hook.applied():
        try:
            record = hook.get_client().get_model_version(model_name, version)
        except Exception as err:
            raise hook.translate(err) from err
    raw = record.tags.get(tag, "")
    return {
        "status": normalise(raw),
        "raw": raw,
        "by": record.tags.get(f"{tag}.by", ""),
        "reason": record.tags.get(f"{tag}.reason", ""),
        "last_updated_timestamp": getattr(record, "last_updated_timestamp", None),
    }


def unknown_value_message(tag: str, raw: str, model_name: str, version: str) -> str:
    return (
        f"{model_name} version {version}: the tag {tag}={raw!r} is neither 'approved' nor 'rejected' "
        "(case and spaces are ignored); still waiting. Set it to approved or rejected."
    )


class ApprovalTrigger(BaseTrigger):
    def __init__(
        self, conn_id: str, model_name: str, version: str, tag: str, poke_interval: float, deadline: float
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.conn_id = conn_id
        self.model_name = model_name
        self.version = version
        self.tag = tag
        self.poke_interval = poke_interval
        self.deadline = deadline

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "airflow_robust.triggers.approval.ApprovalTrigger",
            {
                "conn_id": self.conn_id,
                "model_name": self.model_name,
                "version": self.version,
                "tag": self.tag,
                "poke_interval": self.poke_interval,
                "deadline": self.deadline,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_robust.exceptions import ConfigurationError

        warned = ""
        while True:
            try:
                state = await asyncio.to_thread(read_approval, self.conn_id, self.model_name, self.version, self.tag)
            except ConfigurationError as err:  # 401/403, a missing connection: waiting cannot fix it
                yield TriggerEvent({"status": "error", "error": str(err), "noticed_at": time.time()})  # type: ignore[no-untyped-call]
                return
            except Exception as err:  # noqa: BLE001 - a tracking outage: keep waiting, say so
                self.log.warning("Could not read %s version %s (will retry): %s", self.model_name, self.version, err)
                state = {"status": ""}
            if state["status"] == "unknown" and state.get("raw") != warned:
                warned = state.get("raw", "")
                self.log.warning(unknown_value_message(self.tag, warned, self.model_name, self.version))
            if state["status"] in DECIDED:
                yield TriggerEvent({**state, "noticed_at": time.time()})  # type: ignore[no-untyped-call]
                return
            if time.time() >= self.deadline:
                yield TriggerEvent({**state, "status": "timeout", "noticed_at": time.time()})  # type: ignore[no-untyped-call]
                return
            await asyncio.sleep(self.poke_interval)
