"""The *Model reviews* page on Airflow's api-server: pending reviews with their verified evidence and plots,
and each model's alias history. Every route requires an Airflow login (Airflow's own ``get_user``: the
``_token`` cookie of the UI or a bearer token); approving and rejecting stay on Airflow's *Required
Actions* page, where Airflow records who answered. Evidence is read from the promotion gate's signed
run and verified with the deployment's key; a version whose evidence does not verify says so.
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, urlencode

from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse, Response

from airflow_robust.registry.tags import APPROVAL_TAG, HISTORY_MODEL_TAG, HISTORY_PREFIX, PROMOTION_DAG_RUN_TAG

if TYPE_CHECKING:
    from airflow_robust.registry.store import ModelStore

#: artifacts the page shows inline or links (plots and reports, never model files)
SHOWN = {".png": "image/png", ".svg": "image/svg+xml", ".html": "text/html", ".json": "application/json"}
MLFLOW_CONN_ID = "mlflow_default"
SIGNING_CONN_ID = "airflow_robust_signing"
T = TypeVar("T")
#: MLflow reads credentials from the process environment: one request applies them at a time
_APPLIED = threading.Lock()


def create_app() -> FastAPI:
    from airflow.api_fastapi.core_api.security import get_user

    app = FastAPI(title="airflow-robust model reviews", dependencies=[Depends(get_user)])

    @app.get("/api/reviews")
    def reviews() -> list[dict[str, Any]]:
        return _with_client(pending_reviews)

    @app.get("/api/history")
    def history(model: str = Query(..., min_length=1)) -> list[dict[str, Any]]:
        from airflow_robust.registry.history import read_history

        return _with_client(lambda client: read_history(client, model))

    @app.get("/api/artifact")
    def artifact(run_id: str = Query(..., min_length=1), path: str = Query(..., min_length=1)) -> Response:
        return _with_client(lambda client: _artifact(client, run_id, path))

    @app.get("/", response_class=HTMLResponse)
    def page() -> str:
        return _with_client(lambda client: render(pending_reviews(client), histories(client), _airflow_base()))

    return app


def _with_client(work: Callable[[Any], T]) -> T:
    """Run ``work(client)`` with MLflow pointed at the ``mlflow_default`` connection (credentials applied)."""
    from airflow_robust.hooks.mlflow import MlflowHook

    hook = MlflowHook(MLFLOW_CONN_ID)
    with _APPLIED, hook.applied():
        return work(hook.get_client())


def pending_reviews(client: ModelStore) -> list[dict[str, Any]]:
    """Versions tagged pending, with the promotion decision *as signed* (or why it does not verify)."""
    from airflow_robust.hooks.mlflow import MlflowHook
    from airflow_robust.hooks.signing import signing_key
    from airflow_robust.operators._approval import pending_promotion

    key = None
    key_error = ""
    try:
        key = signing_key(MlflowHook(MLFLOW_CONN_ID).get_config(), SIGNING_CONN_ID)
    except Exception as err:  # noqa: BLE001 - shown on the page: nothing can be verified without the key
        key_error = str(err)
    out = []
    for record in client.search_model_versions(f"tags.`{APPROVAL_TAG}` = 'pending'"):
        name, version = str(record.name), str(record.version)
        item: dict[str, Any] = {
            "model": name,
            "version": version,
            "dag_run": record.tags.get(PROMOTION_DAG_RUN_TAG, ""),
            "verified": False,
            "problem": key_error,
            "created": float(record.creation_timestamp or 0) / 1000,
        }
        if key is not None:
            try:
                promotion, decision = pending_promotion(client, key, name, version)
                item.update(
                    verified=True,
                    problem="",
                    run_id=promotion.run_id,
                    decision=decision,
                    plots=_plots(client, [promotion.run_id, *_gate_runs(decision)]),
                )
            except Exception as err:  # noqa: BLE001 - the page says why, fail closed: not reviewable
                item["problem"] = str(err).splitlines()[0][:500]
        out.append(item)
    return sorted(out, key=lambda i: (-i["created"], i["model"]))


def histories(client: ModelStore, limit: int = 50) -> dict[str, list[dict[str, Any]]]:
    """The newest ``limit`` alias moves of every model that has any, newest first."""
    from airflow_robust.registry.history import EXPERIMENT

    experiment = client.get_experiment_by_name(EXPERIMENT)
    if experiment is None:
        return {}
    runs = client.search_runs([experiment.experiment_id], "", max_results=500, order_by=["attributes.start_time DESC"])
    by_model: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        tags = run.data.tags
        model = tags.get(HISTORY_MODEL_TAG)
        if not model:
            continue
        entry = {k.removeprefix(HISTORY_PREFIX): v for k, v in tags.items() if k.startswith(HISTORY_PREFIX)}
        entry["run_id"] = run.info.run_id
        rows = by_model.setdefault(model, [])
        if len(rows) < limit:
            rows.append(entry)
    return by_model


def _gate_runs(decision: dict[str, Any]) -> list[str]:
    runs = decision.get("gate_runs") or {}
    return [str(r) for ids in runs.values() for r in (ids or [])]


def _plots(client: ModelStore, run_ids: list[str]) -> list[dict[str, str]]:
    plots = []
    for run_id in dict.fromkeys(run_ids):
        try:
            files = client.list_artifacts(run_id)
        except Exception:  # noqa: BLE001, S112 - a run without readable artifacts shows no plots
            continue
        for item in files:
            if not item.is_dir and item.path.endswith((".png", ".svg")):
                plots.append({"run_id": run_id, "path": item.path})
    return plots


def _artifact(client: ModelStore, run_id: str, path: str) -> Response:
    import os
    import tempfile

    suffix = os.path.splitext(path)[1].lower()
    if suffix not in SHOWN or ".." in path.split("/"):
        raise HTTPException(status_code=400, detail=f"only {sorted(SHOWN)} artifacts are shown, not {path!r}")
    with tempfile.TemporaryDirectory(prefix="airflow-robust-page-") as tmp:
        try:
            local = client.download_artifacts(run_id, path, tmp)
        except Exception as err:  # absent or unreadable: a 404 that says which
            raise HTTPException(status_code=404, detail=f"no artifact {path!r} in run {run_id!r}") from err
        with open(local, "rb") as handle:
            body = handle.read()
    return Response(body, media_type=SHOWN[suffix])


def _airflow_base() -> str:
    try:
        from airflow.configuration import conf

        return str(conf.get("api", "base_url", fallback="") or "").rstrip("/")
    except Exception:  # noqa: BLE001 - relative links still work from the page itself
        return ""


# -- rendering ---------------------------------------------------------------------------------------


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _when(epoch: Any) -> str:
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(float(epoch)))
    except (TypeError, ValueError):
        return ""


def _dag_run_link(base: str, dag_run: str, task: str | None = None) -> str:
    if "/" not in dag_run:
        return ""
    dag_id, run_id = dag_run.split("/", 1)
    url = f"{base}/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"
    if task:
        url += f"/tasks/{quote(task, safe='')}/required_actions"
    return url


def render(pending: list[dict[str, Any]], history: dict[str, list[dict[str, Any]]], base: str) -> str:
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Model reviews - airflow-robust</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Model reviews</h1>",
        f"<h2 id='pending'>Waiting for a decision ({len(pending)})</h2>",
    ]
    if not pending:
        parts.append("<p class='none'>No version is waiting for review.</p>")
    for item in pending:
        parts.append(_review(item, base))
    parts.append("<h2 id='history'>Alias history</h2>")
    if not history:
        parts.append("<p class='none'>No alias has moved yet.</p>")
    for model, entries in sorted(history.items()):
        parts.append(_history(model, entries, base))
    parts.append("</body></html>")
    return "".join(parts)


def _review(item: dict[str, Any], base: str) -> str:
    name, version = item["model"], item["version"]
    decision = item.get("decision") or {}
    champion = decision.get("champion_version")
    alias = decision.get("champion_alias") or "champion"
    dag_run = item.get("dag_run", "")
    runs_url = _dag_run_link(base, dag_run)
    head = (
        f"<section class='review' data-model='{_e(name)}' data-version='{_e(version)}'>"
        f"<h3>{_e(name)} version {_e(version)} &rarr; @{_e(alias)}"
        + (f" (now version {_e(champion)})" if champion else " (no champion yet)")
        + "</h3>"
    )
    if not item["verified"]:
        return head + f"<p class='bad'>Evidence does not verify: {_e(item['problem'])}. Do not approve.</p></section>"
    rows = "".join(
        f"<tr><td>{_e(check)}</td><td class='{_e(str(v.get('outcome', '')).lower())}'>{_e(v.get('outcome'))}</td>"
        f"<td>{_e(_fmt(v.get('candidate')))}</td><td>{_e(_fmt(v.get('champion')))}</td>"
        f"<td>{_e(_fmt(v.get('improvement')))}</td></tr>"
        for check, v in (decision.get("checks") or {}).items()
    )
    evidence = "".join(
        f"<tr><td>{_e(row.get('gate'))}</td><td>{_e(row.get('status'))}</td><td>{_e(row.get('figures'))}</td><td>"
        + " &middot; ".join(
            f"<a href='{_e(link.get('url'))}'>{_e(link.get('label'))}</a>" for link in row.get("links") or []
        )
        + "</td></tr>"
        for row in decision.get("evidence") or []
    )
    if evidence:
        evidence = (
            "<table class='evidence'><tr><th>gate</th><th>verdict</th><th>key figures</th><th>open in MLflow</th>"
            f"</tr>{evidence}</table>"
        )
    plots = "".join(
        f"<figure><img alt='{_e(p['path'])}' src='api/artifact?{urlencode(p)}'><figcaption>{_e(p['path'])}"
        "</figcaption></figure>"
        for p in item.get("plots", [])
    )
    actions = (
        f"<a class='act' href='{_e(runs_url)}'>Approve or reject in Airflow (Required Actions of the DAG run)</a>"
        if runs_url
        else ""
    )
    return (
        head
        + f"<p class='decide'>Decide: may version {_e(version)} replace @{_e(alias)}? {actions}</p>"
        + f"<p>{_e(decision.get('reason'))}</p>"
        + evidence
        + "<table><tr><th>check</th><th>outcome</th><th>candidate</th><th>champion</th><th>improvement</th></tr>"
        + rows
        + "</table>"
        + f"<p class='small'>Signed decision run {_e(item.get('run_id'))}; model files "
        f"{_e(decision.get('candidate_digest'))}; evaluation data {_e(decision.get('evaluation_data') or '')} "
        f"(digest {_e(decision.get('data_digest'))}) "
        f"({_e(decision.get('rows'))} rows).</p>" + f"<div class='plots'>{plots}</div></section>"
    )


def _history(model: str, entries: list[dict[str, Any]], base: str) -> str:
    rows = []
    for entry in entries:
        dag_run = f"{entry.get('airflow_dag_id', '')}/{entry.get('airflow_run_id', '')}"
        link = _dag_run_link(base, dag_run) if entry.get("airflow_dag_id") else ""
        rows.append(
            "<tr>"
            f"<td>{_e(_when(entry.get('at')))}</td><td>@{_e(entry.get('alias'))}</td>"
            f"<td>{_e(entry.get('from') or '-')} &rarr; {_e(entry.get('to') or '-')}</td>"
            f"<td>{_e(entry.get('action'))}</td><td>{_e(entry.get('who'))}</td><td>{_e(entry.get('why'))}</td>"
            f"<td>{f'<a href={chr(39)}{_e(link)}{chr(39)}>DAG run</a>' if link else ''}</td>"
            "</tr>"
        )
    return (
        f"<section class='history' data-model='{_e(model)}'><h3>{_e(model)}</h3><table>"
        "<tr><th>when</th><th>alias</th><th>from &rarr; to</th><th>action</th><th>who</th><th>why</th><th></th></tr>"
        + "".join(rows)
        + "</table></section>"
    )


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


_CSS = (
    "body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1b1f24}h1{font-size:1.4rem}"
    "table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #d0d7de;padding:.25rem .5rem;"
    "text-align:left;font-size:.9rem}.pass{color:#1a7f37}.fail,.error{color:#cf222e}.bad{color:#cf222e;"
    "font-weight:600}.decide{font-size:1.05rem;font-weight:600}.act{margin-left:.5rem}.small{font-size:.8rem;"
    "color:#57606a}.plots{display:flex;flex-wrap:wrap;gap:1rem}figure{margin:0}img{max-width:520px;"
    "border:1px solid #d0d7de}.review,.history{border-top:1px solid #d0d7de;padding-top:.5rem}.none{color:#57606a}"
)
