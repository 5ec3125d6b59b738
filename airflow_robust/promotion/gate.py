"""The promotion gate, Airflow-free: :func:`promote` scores both versions on the same data, verifies the
candidate's gates from their signed runs, decides by rules and records the decision (PromoteModelOperator)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from airflow_robust.exceptions import PromotionRejected
from airflow_robust.registry.errors import never_judged
from airflow_robust.registry.tags import (
    APPROVAL_TAG,
    CANDIDATE_TAG,
    MODEL_NAME_TAG,
    PROMOTION_CHAMPION_BEFORE_TAG,
    PROMOTION_DAG_RUN_TAG,
    PROMOTION_DECISION_TAG,
    PROMOTION_REASON_TAG,
    PROMOTION_RUN_ID_TAG,
    PROMOTION_RUN_TAG,
    PROMOTION_STATUS_TAG,
    ROBUSTNESS_RUN_ID_TAG,
)
from airflow_robust.registry.versions import get_version
from airflow_robust.requests import DataRequest, LeaseRequest, SignedRequest
from airflow_robust.trust.evidence import ModelBinding
from airflow_robust.trust.gate import jsonable

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow_robust.promotion.policy import Rule
    from airflow_robust.registry.models import FetchedModel
    from airflow_robust.registry.store import ModelStore
    from airflow_robust.requests import Tracking
    from airflow_robust.tracking.runs import StageRun
    from airflow_robust.trust.chain import GateVerdict
    from airflow_robust.trust.gate import Verdict
    from airflow_robust.trust.signing import SigningKey


class PromotionRequest(SignedRequest, DataRequest, LeaseRequest, Protocol):
    """What the promotion gate reads of its operator; an operator (or any object) satisfies it."""

    @property
    def approval(self) -> str: ...

    @property
    def bootstrap_resamples(self) -> int: ...

    @property
    def candidate_version(self) -> str | int: ...

    @property
    def challenger_alias(self) -> str: ...

    @property
    def champion_alias(self) -> str: ...

    @property
    def compare_on(self) -> str: ...

    @property
    def confidence(self) -> float: ...

    @property
    def evaluation_data(self) -> str | None: ...

    @property
    def features(self) -> Sequence[str] | None: ...

    @property
    def notify_on(self) -> Sequence[str]: ...

    @property
    def on_failure(self) -> str: ...

    @property
    def on_missing_champion(self) -> str: ...

    @property
    def required_gates(self) -> Sequence[str]: ...

    @property
    def rules(self) -> Sequence[Mapping[str, Any]]: ...

    @property
    def seed(self) -> int: ...

    @property
    def target(self) -> str | None: ...

    @property
    def write_description(self) -> bool: ...


@dataclass
class Scores:
    candidate: dict[str, float | None] = field(default_factory=dict)
    champion: dict[str, float | None] | None = None
    champion_error: str | None = None
    candidate_error: str | None = None
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    digest: str | None = None
    rows: int | None = None
    source: str | None = None
    champion_digest: str | None = None
    same_predictions: bool | None = None


def promote(op: PromotionRequest, run: StageRun, tracking: Tracking) -> Verdict:
    """Score the candidate against the champion on the same data, verify its gates, decide by ``op.rules``,
    record the decision on the version (signed, for review) and return the promotion gate's verdict."""
    import os
    import tempfile

    import mlflow

    from airflow_robust.promotion.policy import decide, parse_rules
    from airflow_robust.registry.aliases import resolve
    from airflow_robust.registry.lease import acquire, holder_for, release
    from airflow_robust.trust.gate import judge

    owner = type(op).__name__
    client = tracking.get_client()
    config = tracking.get_config()
    signer = op.signer(run, tracking)
    rules = parse_rules(op.rules)
    name, candidate = op.model_name, str(op.candidate_version)
    version = get_version(client, name, candidate, owner)
    identity = run.identity
    holder = holder_for(identity.dag_id, identity.run_id)
    lease = acquire(client, name, holder, ttl=float(op.lease_ttl), wait=float(op.lease_wait))
    keep_lease = False
    try:
        champion = resolve(client, name, op.champion_alias)
        with tempfile.TemporaryDirectory(prefix="airflow-robust-model-") as tmp:
            fetched, fetch_error = _fetch(name, candidate, os.path.join(tmp, "candidate"))
            verdicts = _verdicts(op, client, signer.key, version, fetched)
            scores = _scores(op, client, rules, name, candidate, champion, owner, fetched, fetch_error, tmp)
        gates = {gate: verdict.status for gate, verdict in verdicts.items()}
        decision = decide(
            rules,
            scores.candidate,
            None if champion is None else (scores.champion or {}),
            champion_error=scores.champion_error,
            candidate_error=scores.candidate_error,
            already_champion=champion == candidate,
            on_missing_champion=op.on_missing_champion,
            intervals=scores.intervals,
            gates=gates,
        )
        outcome = "rejected"
        if decision.promotable:
            outcome = "promoted" if op.approval == "auto" else "pending_approval"
        run_url = config.run_url(run.experiment_id, run.run_id)
        summary: dict[str, Any] = {
            "decision": outcome,
            "model_name": name,
            "candidate_version": candidate,
            "candidate_digest": fetched.digest if fetched else None,
            "champion_version": champion,
            "champion_alias": op.champion_alias,
            "challenger_alias": op.challenger_alias,
            "approval": op.approval,
            "rubber_stamp": decision.rubber_stamp,
            "checks": {c.name: jsonable(c.__dict__) for c in decision.checks},
            "gates": gates,
            "required_gates": list(op.required_gates),
            "gate_runs": {gate: list(verdict.runs) for gate, verdict in verdicts.items()},
            "compare_on": op.compare_on,
            "evaluation_data": scores.source,
            "data_digest": scores.digest,
            "rows": scores.rows,
            "intervals": {metric: list(bounds) for metric, bounds in scores.intervals.items()},
            "champion_digest": scores.champion_digest,
            "identical_to_champion": bool(fetched and scores.champion_digest == fetched.digest),
            "same_predictions_as_champion": scores.same_predictions,
            "run_id": run.run_id,
            "run_url": run_url,
        }
        _log(scores, decision.checks)
        summary["plots"] = _plots(op, client, summary, scores)
        summary["evidence"] = _evidence(client, config, summary, [r.metric for r in rules], run.experiment_id)
        mlflow.set_tags({PROMOTION_DECISION_TAG: outcome, MODEL_NAME_TAG: name, CANDIDATE_TAG: candidate})
        _record_on_version(op, client, version, summary, decision.reason, config, identity)
        keep_lease = outcome == "promoted"  # held until DeployModelOperator of this DAG run moves the alias
    finally:
        if not keep_lease:
            release(client, lease)
    review = None
    if outcome in op.notify_on:
        review = {
            "model": name,
            "version": candidate,
            "decision": outcome,
            "reason": decision.reason,
            "champion_version": champion,
            "alias": op.champion_alias,
            "mlflow_url": config.model_version_url(name, candidate),
            "run_url": run_url,
            "airflow_url": None,
        }
    verdict = judge(
        gate="promotion",
        passed=decision.promotable,
        summary=summary,
        reason=f"{outcome}: {decision.reason}",
        on_failure=op.on_failure,
        error=PromotionRejected,
        log=op.log,
        signer=signer,
        model=None if fetched is None else ModelBinding(name, candidate, fetched.digest),
        facts={
            key: summary[key]
            for key in (
                "decision",
                "approval",
                "champion_alias",
                "challenger_alias",
                "required_gates",
                "gate_runs",
                "rubber_stamp",
                "data_digest",
            )
        }
        | {"champion_before": champion, "triggered_by": identity.triggering_user},
    )
    verdict.review = review
    return verdict


def _fetch(name: str, version: str, dst: str) -> tuple[FetchedModel | None, str | None]:
    """The candidate's files (fetched once: scored, digested and signed), or why they could not be read."""
    try:
        return _download(name, version, dst), None
    except Exception as err:  # noqa: BLE001 - fail closed: unreadable files are an ERROR check
        return None, _judged(err)


def _download(name: str, version: str, dst: str) -> FetchedModel:
    """``name`` version ``version`` fetched into its own folder ``dst`` and digested."""
    import os

    from airflow_robust.registry.models import fetch_model

    os.makedirs(dst, exist_ok=True)
    return fetch_model(f"models:/{name}/{version}", dst)


def _verdicts(
    op: PromotionRequest, client: ModelStore, key: SigningKey, version: Any, fetched: FetchedModel | None
) -> dict[str, GateVerdict]:
    """Registration and every required gate, re-derived from their signed runs (never from tags)."""
    from airflow_robust.exceptions import EvidenceError
    from airflow_robust.trust.chain import REGISTRATION, GateVerdict, gate_verdict, registration_of

    name, number, tags = str(version.name), str(version.version), dict(version.tags)
    if fetched is None:
        missing = "the candidate's model files could not be read, so no verdict can be bound to them"
        return {g: GateVerdict(g, False, (), missing) for g in (REGISTRATION, *op.required_gates)}
    verdicts: dict[str, GateVerdict] = {}
    registration = None
    try:
        registration = registration_of(client, key, name, number, fetched.digest, tags)
        verdicts[REGISTRATION] = GateVerdict(REGISTRATION, True, (registration.run_id,))
    except EvidenceError as err:
        verdicts[REGISTRATION] = GateVerdict(REGISTRATION, False, (), _judged(err, plain=True))
    for gate in op.required_gates:
        verdict = gate_verdict(client, key, gate, name, number, fetched.digest, tags, registration)
        if not verdict.verified and "no " + gate + " gate result" in verdict.problem:
            verdict = GateVerdict(gate, False, verdict.runs, verdict.problem + _missing_gate_hint(gate))
        verdicts[gate] = verdict
    return verdicts


def _missing_gate_hint(gate: str) -> str:
    from airflow_robust.trust.chain import GATE_OPERATORS

    operator = GATE_OPERATORS.get(gate)
    where = f"add {operator} for this version to the DAG" if operator else f"run the {gate} gate on this version"
    return f" ({where}, or leave {gate!r} out of required_gates)"


def _scores(
    op: PromotionRequest,
    client: ModelStore,
    rules: list[Rule],
    name: str,
    candidate: str,
    champion: str | None,
    owner: str,
    fetched: FetchedModel | None,
    fetch_error: str | None,
    tmp: str,
) -> Scores:
    metrics = sorted({r.metric for r in rules})
    if op.compare_on == "logged_metrics":
        scores = _logged(client, name, candidate, champion, metrics)
        if fetch_error is not None:
            scores.candidate_error = fetch_error
        return scores
    import os

    from airflow_robust.data.access import load
    from airflow_robust.data.columns import require_column, require_finite
    from airflow_robust.data.loaders import frame_digest
    from airflow_robust.promotion.compare import metrics_for, paired_bootstrap, predict, same_predictions
    from airflow_robust.training.tasks import infer_task

    assert op.evaluation_data is not None and op.target is not None
    source, frame = load(
        op.storage,
        owner,
        op.evaluation_data,
        conn_id=op.conn_id,
        data_format=op.data_format,
        parameter="evaluation_data",
    )
    require_column(owner, "target", op.target, list(frame.columns), "a column of evaluation_data")
    frame = frame[frame[op.target].notna()].reset_index(drop=True)
    require_finite(owner, frame, [c for c in frame.columns if c != op.target], parameter="evaluation_data")
    scores = Scores(digest=frame_digest(frame), rows=len(frame), source=source.display[:1000])
    if fetched is None:
        scores.candidate_error = fetch_error
        return scores
    try:
        model = _load_local(fetched.path)
        features = _features(op, model, frame)
        task = infer_task(frame[op.target], model, "auto")
        if task == "classification" and frame[op.target].nunique() < 2:
            classes = sorted(map(str, frame[op.target].unique()))
            raise ValueError(
                f"the evaluation data holds a single class {classes}: classification metrics cannot tell the "
                "candidate and the champion apart (a tie would pass); use evaluation data with every class"
            )
        cand = predict(model, frame[features], frame[op.target], task)
        scores.candidate = metrics_for(cand, metrics)
    except Exception as err:  # noqa: BLE001 - fail closed: an unscorable candidate is an ERROR check
        scores.candidate_error = _judged(err)
        return scores
    if champion is None:
        return scores
    try:
        champion_files = _download(name, champion, os.path.join(tmp, "champion"))
        scores.champion_digest = champion_files.digest  # equal to the candidate's: the very same model
        champ_model = _load_local(champion_files.path)
        champ = predict(champ_model, frame[_features(op, champ_model, frame)], frame[op.target], task)
        scores.champion = metrics_for(champ, metrics)
        scores.same_predictions = same_predictions(cand, champ)
    except Exception as err:  # noqa: BLE001 - fail closed: the champion exists but cannot be scored
        scores.champion_error = _judged(err)
        return scores
    if op.bootstrap_resamples:
        for rule in rules:
            if rule.compares:
                scores.intervals[rule.metric] = paired_bootstrap(
                    rule,
                    cand,
                    champ,
                    resamples=int(op.bootstrap_resamples),
                    seed=int(op.seed),
                    confidence=op.confidence,
                )
    return scores


def _logged(client: ModelStore, name: str, candidate: str, champion: str | None, metrics: list[str]) -> Scores:
    scores = Scores()
    try:
        scores.candidate = _run_metrics(client, name, candidate, metrics)
    except Exception as err:  # noqa: BLE001
        scores.candidate_error = _judged(err)
    if champion is not None:
        try:
            scores.champion = _run_metrics(client, name, champion, metrics)
        except Exception as err:  # noqa: BLE001
            scores.champion_error = _judged(err)
    return scores


def _run_metrics(client: ModelStore, name: str, version: str, metrics: list[str]) -> dict[str, float | None]:
    logged = client.get_run(client.get_model_version(name, version).run_id).data.metrics
    return {m: logged.get(m) for m in metrics}


def _load_local(path: str) -> Any:
    from airflow_robust.registry.models import load_local

    return load_local(path)


def _features(op: PromotionRequest, model: Any, frame: Any) -> list[str]:
    from airflow_robust.data.access import model_features

    names, missing = model_features(op.features, model, frame, str(op.target))
    if missing:
        raise ValueError(f"the 'evaluation_data' parameter lacks the model's feature columns {missing}")
    return names


def _judged(err: BaseException, plain: bool = False) -> str:
    """The ERROR text of a failure the gate judges; an outage or an auth failure is re-raised, never judged."""
    if never_judged(err):
        raise err
    return str(err) if plain else _describe(err)


def _describe(err: BaseException) -> str:
    text = str(err).splitlines()[0] if str(err) else ""
    return f"{type(err).__name__}: {text[:300]}"


def _log(scores: Scores, checks: list[Any]) -> None:
    import mlflow

    values: dict[str, float] = {}
    for side, metrics in (("candidate", scores.candidate), ("champion", scores.champion or {})):
        for key, value in metrics.items():
            if value is not None and math.isfinite(value):
                values[f"{side}.{key}"] = float(value)
    for check in checks:
        if check.improvement is not None and math.isfinite(check.improvement):
            values[f"improvement.{check.metric}"] = float(check.improvement)
    for metric, (low, high) in scores.intervals.items():
        if math.isfinite(low) and math.isfinite(high):
            values[f"improvement_ci_low.{metric}"], values[f"improvement_ci_high.{metric}"] = low, high
    if values:
        mlflow.log_metrics(values)
    if scores.digest:
        mlflow.log_params({"evaluation_digest": scores.digest, "evaluation_rows": scores.rows})


def _record_on_version(
    op: PromotionRequest,
    client: ModelStore,
    record: Any,
    summary: dict[str, Any],
    reason: str,
    config: Any,
    identity: Any,
) -> None:
    name, version = str(record.name), str(record.version)
    outcome = summary["decision"]
    tags = {
        PROMOTION_STATUS_TAG: "passed" if outcome != "rejected" else "failed",
        PROMOTION_DECISION_TAG: outcome,
        PROMOTION_RUN_TAG: summary["run_url"],
        PROMOTION_RUN_ID_TAG: summary["run_id"],
        PROMOTION_REASON_TAG: reason[:4000],
        PROMOTION_CHAMPION_BEFORE_TAG: summary["champion_version"] or "",
        PROMOTION_DAG_RUN_TAG: f"{identity.dag_id}/{identity.run_id}",
    }
    if outcome == "promoted":
        tags[f"{APPROVAL_TAG}.by"] = "airflow-robust (approval='auto')"
    if op.write_description:
        from airflow_robust.promotion.review import REVIEW_MARK, with_status

        head = (record.description or "").split(REVIEW_MARK)[0].rstrip()
        text = (head + "\n\n" if head else "") + REVIEW_MARK + "\n" + review_markdown(summary, reason, config)
        status = {
            "promoted": f"approved by the rules (approval='auto'), ready to deploy to @{op.champion_alias}",
            "pending_approval": _decide_line(op, summary, identity),
            "rejected": f"rejected by the promotion gate for @{op.champion_alias}",
        }[outcome]
        client.update_model_version(name, version, description=with_status(text, status, decided=False))
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)
    if outcome == "pending_approval":
        client.set_registered_model_alias(name, op.challenger_alias, version)
    # the approval tag last: whoever sees "pending" (a reviewer, the sensor) finds the review already written
    approval = {"promoted": "approved", "pending_approval": "pending"}.get(outcome)
    if approval:
        client.set_model_version_tag(name, version, APPROVAL_TAG, approval)


def _decide_line(op: PromotionRequest, summary: dict[str, Any], identity: Any) -> str:
    """The first line of a pending version's page: the decision to make and where to make it."""
    champion = summary.get("champion_version")
    against = f" (now version {champion})" if champion else " (no champion yet)"
    where = "under *Required Actions* of the waiting Airflow task"
    dag_run = identity.dag_run_url
    if dag_run:
        where += f" ([open the DAG run]({dag_run}))"
    return (
        f"awaiting review. Decide: may version {summary['candidate_version']} replace "
        f"@{op.champion_alias}{against}? Approve or reject {where}, or, where the DAG waits on this page, "
        "set the tag robust.approval to approved or rejected"
    )


def _plots(op: PromotionRequest, client: ModelStore, summary: dict[str, Any], scores: Scores) -> dict[str, str]:
    """Champion vs challenger and the robustness curves, logged to the decision run: ``{label: artifact}``.

    The pictures are for people: one that cannot be drawn is logged as a warning and the decision stands.
    """
    import os
    import tempfile

    import mlflow

    from airflow_robust.promotion.plots import comparison_png, robustness_png

    champion = summary["champion_version"]
    labels = (
        f"version {summary['candidate_version']}",
        f"champion (version {champion})" if champion else "no champion",
    )
    made: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="airflow-robust-plots-") as tmp:
        try:
            comparison = os.path.join(tmp, "champion_vs_challenger.png")
            if comparison_png(scores.candidate, scores.champion, scores.intervals, labels, comparison):
                mlflow.log_artifact(comparison)
                made["comparison"] = "champion_vs_challenger.png"
            candidate_curves = _robustness_report(client, (summary["gate_runs"].get("robustness") or [None])[0], tmp)
            if candidate_curves is not None:
                champion_curves = None
                if champion:
                    pointer = dict(client.get_model_version(summary["model_name"], champion).tags)
                    champion_curves = _robustness_report(client, pointer.get(ROBUSTNESS_RUN_ID_TAG), tmp)
                    labels = (labels[0], f"champion (version {champion}, its last robustness run)")
                if robustness_png(candidate_curves, champion_curves, labels, os.path.join(tmp, "robustness_curve.png")):
                    mlflow.log_artifact(os.path.join(tmp, "robustness_curve.png"))
                    made["robustness curve"] = "robustness_curve.png"
        except Exception as err:  # noqa: BLE001 - pictures for people never change a decision
            op.log.warning("The review's plots could not all be drawn: %s", _describe(err))
    return made


def _robustness_report(client: ModelStore, run_id: str | None, tmp: str) -> dict[str, Any] | None:
    """``robustness.json`` of a robustness run, or ``None`` when there is none to read."""
    import json
    import os

    if not run_id:
        return None
    dst = os.path.join(tmp, f"robustness-{run_id}")
    os.makedirs(dst, exist_ok=True)
    try:
        with open(client.download_artifacts(run_id, "robustness.json", dst), encoding="utf-8") as handle:
            report: dict[str, Any] = json.load(handle)
    except Exception:  # noqa: BLE001 - no readable report: no curve for that model
        return None
    return report


def _evidence(
    client: ModelStore, config: Any, summary: dict[str, Any], metrics: list[str], experiment_id: str
) -> list[dict[str, Any]]:
    """One row per gate (figures and links read from its verified runs), then the decision itself."""
    from airflow_robust.promotion.evidence import GateEvidence, Link, gate_evidence

    checks, ui = summary["checks"], config.ui_url
    rows = []
    for gate, status in summary["gates"].items():
        outcome = (checks.get(f"gate:{gate}") or {}).get("outcome") or ("PASS" if status == "passed" else "FAIL")
        verdict = outcome if status == "passed" else f"{outcome}: {status}"
        rows.append(gate_evidence(client, ui, gate, verdict, summary["gate_runs"].get(gate) or [], metrics).to_dict())
    verdict = {"promoted": "PASS (approval='auto')", "pending_approval": "PASS, for a person to approve"}
    decision = GateEvidence("promotion", verdict.get(summary["decision"], "FAIL"), _compared(summary))
    decision.links.append(Link("decision run", summary["run_url"]))
    for label, path in summary.get("plots", {}).items():
        decision.links.append(Link(label, config.artifact_url(experiment_id, summary["run_id"], path)))
    rows.append(decision.to_dict())
    return rows


def _compared(summary: dict[str, Any]) -> str:
    """``f1_macro +0.012 [-0.004, 0.03]`` for each metric compared with the champion."""
    parts = []
    for check in summary["checks"].values():
        improvement = check.get("improvement")
        if not isinstance(improvement, (int, float)) or not check.get("metric") or check["name"].startswith("gate:"):
            continue
        interval = summary.get("intervals", {}).get(check["metric"])
        bounds = f" [{interval[0]:+.3g}, {interval[1]:+.3g}]" if interval else ""
        parts.append(f"{check['metric']} {improvement:+.3g}{bounds}")
    return ", ".join(dict.fromkeys(parts)) or "no champion to compare with"


def review_markdown(summary: dict[str, Any], reason: str, config: Any) -> str:
    """What a reviewer reads on the model version page in the MLflow UI: evidence first, details after."""
    name, candidate, champion = summary["model_name"], summary["candidate_version"], summary["champion_version"]
    data = ""
    if summary.get("data_digest"):
        where = f"`{summary['evaluation_data']}` " if summary.get("evaluation_data") else ""
        data = f", both scored on {where}(digest `{summary['data_digest']}`, {summary['rows']} rows)"
    lines = [
        f"### airflow-robust promotion: {summary['decision'].replace('_', ' ')}",
        "",
        f"Candidate **version {candidate}** vs "
        + (
            f"champion **version {champion}** ([open]({config.model_version_url(name, champion)}))"
            if champion
            else "no champion (rubber stamp)"
        )
        + (data or f" ({summary['compare_on']})")
        + "."
        + _sameness(summary),
        "",
        "| gate | verdict | key figures | open |",
        "|---|---|---|---|",
    ]
    for row in summary.get("evidence", []):
        links = " · ".join(f"[{link['label']}]({link['url']})" for link in row["links"])
        lines.append(f"| {row['gate']} | {_cell(row['status'])} | {_cell(row['figures'])} | {links} |")
    lines += [
        "",
        "| check | outcome | candidate | champion | improvement [interval] | threshold |",
        "|---|---|---|---|---|---|",
    ]
    for check_name, check in summary["checks"].items():
        if check_name.startswith("gate:"):
            continue
        interval = summary.get("intervals", {}).get(check.get("metric"))
        improvement = _fmt(check.get("improvement"))
        if interval and improvement:
            improvement += f" [{_fmt(interval[0])}, {_fmt(interval[1])}]"
        lines.append(
            f"| {check_name} | {check['outcome']} | {_fmt(check.get('candidate'))} | {_fmt(check.get('champion'))} "
            f"| {improvement} | {_threshold(check.get('threshold'))} |"
        )
    lines += ["", f"Reason: {_cell(reason)}"]
    if summary.get("candidate_digest"):
        lines += [
            "",
            f"Model files: `{summary['candidate_digest']}` (every verdict above is signed and bound to these files; "
            "deploy re-verifies them).",
        ]
    if summary["decision"] == "pending_approval":
        from airflow_robust.promotion.review import INSTRUCTIONS_END, INSTRUCTIONS_START

        lines += [
            "",
            INSTRUCTIONS_START,
            "**To review**: approve or reject the Airflow task waiting for this version (Required Actions in the "
            "Airflow UI: it records who you are), or, where the DAG waits on the MLflow tag, set the tag "
            "`robust.approval` on this version to `approved` or `rejected` (optionally `robust.approval.by` and "
            "`robust.approval.reason`; that identity is not verified).",
            INSTRUCTIONS_END,
        ]
    return "\n".join(lines)


def _sameness(summary: dict[str, Any]) -> str:
    if summary.get("identical_to_champion"):
        return " **The candidate's model files are identical to the champion's.**"
    if summary.get("same_predictions_as_champion"):
        return (
            " **The candidate makes the same predictions as the champion on every evaluation row** (its files differ)."
        )
    return ""


def _cell(text: str) -> str:
    """``text`` safe inside one markdown table cell (and one line)."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _threshold(value: Any) -> str:
    """``{'min': 0.3, 'max_regression': 0.0}`` as ``min 0.3, max_regression 0``."""
    if not isinstance(value, dict):
        return "" if value is None else str(value)
    return ", ".join(f"{key} {_fmt(item)}" for key, item in value.items())


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)
