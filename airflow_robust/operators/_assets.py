"""Asset events a stage asked for (``Verdict.events``), emitted through the task's ``outlet_events``.

``deploy``: the extra of every ``x-airflow-robust://deploy/...`` outlet of the task (what moved where).
``retrain``: an event on the monitored model's retraining asset, through an ``AssetAlias`` so the asset
need not be declared as an outlet (drift triggers retraining).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEPLOY_ASSET_PREFIX = "x-airflow-robust://deploy/"


def emit(events: Mapping[str, Mapping[str, Any]], context: Any, outlets: Any, log: Any) -> None:
    outlet_events = context.get("outlet_events") if hasattr(context, "get") else None
    if outlet_events is None:
        return
    deploy = events.get("deploy")
    if deploy is not None:
        for outlet in outlets or []:
            if getattr(outlet, "uri", "").startswith(DEPLOY_ASSET_PREFIX):
                outlet_events[outlet].extra = dict(deploy["extra"])
    retrain = events.get("retrain")
    if retrain is not None:
        from airflow.sdk import Asset, AssetAlias

        outlet_events[AssetAlias(retrain["alias"])].add(Asset(retrain["asset"]), extra=dict(retrain["extra"]))
        log.info("Drift: emitted an event on %s (drifted: %s)", retrain["asset"], retrain["extra"]["drifted_columns"])
