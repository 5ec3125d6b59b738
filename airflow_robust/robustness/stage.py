"""The robustness gate, Airflow-free: :func:`evaluate_robustness` loads model and data, perturbs, checks,
logs and decides (EvaluateRobustnessOperator)."""

from __future__ import annotations

import math
import os
import re
import tempfile
from typing import TYPE_CHECKING, Any, Protocol

from airflow_robust.exceptions import ConfigurationError, InvalidParameterError, RobustnessCheckFailed
from airflow_robust.registry.errors import Failure, classify, never_judged
from airflow_robust.registry.tags import ROBUSTNESS_RUN_TAG, ROBUSTNESS_STATUS_TAG, gate_tag
from airflow_robust.requests import DataRequest, SignedRequest
from airflow_robust.trust.gate import jsonable

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow_robust.requests import Tracking
    from airflow_robust.robustness.perturbations import Perturbation
    from airflow_robust.tracking.runs import StageRun
    from airflow_robust.trust.evidence import ModelBinding
    from airflow_robust.trust.gate import Verdict


class RobustnessRequest(SignedRequest, DataRequest, Protocol):
    """What the robustness gate reads of its operator; an operator (or any object) satisfies it."""

    @property
    def data(self) -> str: ...

    @property
    def features(self) -> Sequence[str] | None: ...

    @property
    def metric(self) -> str | None: ...

    @property
    def min_slice_size(self) -> int: ...

    @property
    def model_uri(self) -> str: ...

    @property
    def on_failure(self) -> str: ...

    @property
    def perturbations(self) -> Sequence[str | Mapping[str, Any]] | None: ...

    @property
    def report_only(self) -> bool: ...

    @property
    def seed(self) -> int: ...

    @property
    def slice_columns(self) -> Sequence[str] | None: ...

    @property
    def target(self) -> str: ...

    @property
    def task(self) -> str: ...

    @property
    def thresholds(self) -> Mapping[str, Any] | str | None: ...


def evaluate_robustness(op: RobustnessRequest, run: StageRun, tracking: Tracking) -> Verdict:
    """Stress the model with perturbations, check the thresholds; the robustness gate's verdict."""
    import mlflow

    from airflow_robust.data.access import load, required_features
    from airflow_robust.data.columns import require_column, require_finite, require_numbers
    from airflow_robust.registry.flavors import flavor_of, numeric_inputs
    from airflow_robust.robustness.checks import DEFAULT_THRESHOLDS, normalise
    from airflow_robust.robustness.evaluate import RobustnessSpec, evaluate
    from airflow_robust.robustness.scoring import CLASSIFICATION
    from airflow_robust.training.metrics import default_metric
    from airflow_robust.training.tasks import infer_task
    from airflow_robust.trust.gate import judge

    owner = type(op).__name__
    with tempfile.TemporaryDirectory(prefix="airflow-robust-model-") as tmp:
        model, binding = load_model(op.model_uri, owner, tracking, tmp)
    _, frame = load(op.storage, owner, op.data, conn_id=op.conn_id, data_format=op.data_format)
    require_column(owner, "target", op.target, list(frame.columns), "a column of the evaluation data")
    frame = frame[frame[op.target].notna()]
    features = required_features(op.features, model, frame, op.target, owner)
    require_numbers(owner, frame, [c for c in numeric_inputs(model) if c in features])
    require_finite(owner, frame, features)
    task = infer_task(frame[op.target], model, op.task)
    metric = op.metric or default_metric(task)
    if (metric in CLASSIFICATION) != (task == "classification"):
        raise InvalidParameterError("metric", owner, f"a {task} metric", metric)
    try:
        thresholds = normalise(_threshold_source(op.thresholds, task, DEFAULT_THRESHOLDS))
    except ConfigurationError as err:
        raise InvalidParameterError(
            "thresholds", owner, "figure name -> number or {'min', 'max'}", op.thresholds, detail=str(err)
        ) from err
    spec = RobustnessSpec(
        task=task,
        metric=metric,
        perturbations=_perturbations(op, frame[features], task, owner),
        slice_columns=op.slice_columns,
        min_slice_size=op.min_slice_size,
        seed=op.seed,
    )
    mlflow.log_params(
        {
            "model_uri": op.model_uri,
            "metric": metric,
            "task": task,
            "seed": op.seed,
            "perturbations": ",".join(p.name for p in spec.perturbations),
            "rows": len(frame),
        }
    )
    report = evaluate(model, frame[features], frame[op.target], spec)
    figures = report.figures()
    checks = _checks(op, report, figures, thresholds)
    _log(report, figures, checks)
    failed = [name for name, check in checks.items() if not check["passed"]]
    if op.report_only:
        passed, reason = True, "report only: " + (f"would fail {failed}" if failed else "all checks pass")
    elif not thresholds:
        passed, reason = False, "no thresholds configured: the gate refuses (set thresholds or report_only=True)"
    elif failed:
        passed, reason = False, "failed checks: " + "; ".join(_describe(n, checks[n]) for n in failed)
    else:
        passed, reason = True, f"all {len(checks)} checks passed"
    summary = {
        "passed": passed,
        "checks": jsonable(checks),
        "clean_metric": report.clean_metric,
        "metric": metric,
        "audc": _num(report.audc),
        "flip_rate": report.flip_rate,
        "worst_slice_ratio": report.worst_slice_ratio,
        "ece": report.ece,
        "brier": report.brier,
        "dummy_gain": report.dummy_gain,
        "skipped": report.skipped,
        "model_flavor": flavor_of(model),
        "model_uri": op.model_uri,
        "run_id": run.run_id,
        "report_uri": f"{mlflow.get_artifact_uri('robustness.json')}",
    }
    if binding is not None:
        summary["model_digest"] = binding.digest
        _tag_version(tracking, binding, summary, passed, run)
    return judge(
        gate="robustness",
        passed=passed,
        summary=summary,
        reason=reason,
        on_failure=op.on_failure,
        error=RobustnessCheckFailed,
        log=op.log,
        signer=op.signer(run, tracking),
        model=binding,
        facts={
            "metric": metric,
            "clean_metric": report.clean_metric,
            "audc": _num(report.audc),
            "report_only": bool(op.report_only),
        },
    )


def _checks(
    op: RobustnessRequest, report: Any, figures: dict[str, Any], thresholds: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Checks of the configured figures; the default set never demands figures this model cannot give."""
    from airflow_robust.robustness.checks import run_checks

    if op.thresholds == "default":
        thresholds = {k: v for k, v in thresholds.items() if k not in report.skipped}
    checks = run_checks(figures, thresholds, report.errors, report.skipped)
    if "worst_slice_ratio" in checks and report.slices:  # name the slice, not only the ratio
        worst = report.slices[0]
        checks["worst_slice_ratio"]["slice"] = (
            f"{worst['column']}={worst['slice']} ({worst['rows']} rows): {worst['metric_name']} "
            f"{worst['metric']:.4f} vs {worst['overall']:.4f} overall"
        )
    return checks


def load_model(model_uri: str, owner: str, tracking: Tracking, dst: str) -> tuple[Any, ModelBinding | None]:
    """The model behind ``model_uri``, fetched once into ``dst``, and (for a registered version) its binding.

    An alias is pinned to its version first, so the verdict names the exact version that was judged.
    """
    from mlflow.exceptions import MlflowException

    from airflow_robust.registry.models import fetch_model, load_local, resolve_model
    from airflow_robust.trust.evidence import ModelBinding

    try:
        uri, name, version = model_uri, None, None
        if model_uri.startswith("models:/"):
            ref = resolve_model(tracking.get_client(), model_uri)
            uri, name, version = ref.uri, ref.name, ref.version
        fetched = fetch_model(uri, dst)
        binding = None if name is None else ModelBinding(name=name, version=str(version), digest=fetched.digest)
        return load_local(fetched.path), binding
    except ConfigurationError as err:
        if never_judged(err):
            raise
        raise InvalidParameterError(
            "model_uri", owner, "the URI of an existing registered model", model_uri, detail=str(err)
        ) from err
    except MlflowException as err:
        if classify(err) is Failure.MISSING:
            raise InvalidParameterError(
                "model_uri",
                owner,
                "the URI of an existing registered model",
                model_uri,
                detail=str(err).splitlines()[0],
            ) from err
        raise
    except Exception as err:
        if never_judged(err):
            raise  # an outage is retried, an auth error named; neither is a bad parameter
        raise InvalidParameterError(
            "model_uri",
            owner,
            "the URI of a loadable MLflow model",
            model_uri,
            detail=f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}",
        ) from err


def _threshold_source(value: Any, task: str, defaults: dict[str, Any]) -> dict[str, Any]:
    if value == "default":
        return dict(defaults[task])
    return dict(value or {})


def _perturbations(op: RobustnessRequest, features: Any, task: str, owner: str) -> list[Perturbation]:
    from airflow_robust.robustness.perturbations import BUILTIN, default_perturbations, user_perturbation
    from airflow_robust.training.estimators import import_object

    if not op.perturbations:
        return default_perturbations(features, task)
    chosen: list[Perturbation] = []
    for item in op.perturbations:
        if isinstance(item, str):
            if item not in BUILTIN:
                raise InvalidParameterError("perturbations", owner, f"built-in names from {sorted(BUILTIN)}", item)
            chosen.append(BUILTIN[item])
            continue
        name, function, severities = item.get("name"), item.get("function"), item.get("severities")
        if not (
            isinstance(name, str)
            and isinstance(function, str)
            and isinstance(severities, (list, tuple))
            and severities
            and all(isinstance(s, (int, float)) and s > 0 for s in severities)
        ):
            raise InvalidParameterError(
                "perturbations",
                owner,
                "{'name': str, 'function': 'pkg.mod:fn', 'severities': [positive numbers]}",
                dict(item),
            )
        chosen.append(user_perturbation(name, import_object(function), sorted(severities)))
    return chosen


def _log(report: Any, figures: dict[str, float | None], checks: dict[str, Any]) -> None:
    import mlflow
    import pandas as pd

    from airflow_robust.robustness.plots import calibration_png, degradation_png

    metrics = {_metric_key(k): float(v) for k, v in figures.items() if v is not None and math.isfinite(v)}
    mlflow.log_metrics(metrics)
    mlflow.log_dict({**report.to_dict(), "checks": jsonable(checks)}, "robustness.json")
    with tempfile.TemporaryDirectory() as tmp:
        if report.curves:
            mlflow.log_artifact(degradation_png(report, os.path.join(tmp, "degradation_curve.png")))
        if report.calibration:
            mlflow.log_artifact(calibration_png(report, os.path.join(tmp, "calibration.png")))
        slices = os.path.join(tmp, "slices.csv")
        pd.DataFrame(report.slices).to_csv(slices, index=False)
        mlflow.log_artifact(slices)


def _tag_version(
    tracking: Tracking, binding: ModelBinding, summary: dict[str, Any], passed: bool, run: StageRun
) -> None:
    """Point the version at this run (its signed verdict); the figures are tagged for people, not trusted."""
    from airflow_robust.trust.gate import point_version

    run_url = tracking.get_config().run_url(run.experiment_id, run.run_id)
    tags = {ROBUSTNESS_STATUS_TAG: "passed" if passed else "failed", ROBUSTNESS_RUN_TAG: run_url}
    for key in ("audc", "flip_rate", "worst_slice_ratio", "ece", "clean_metric"):
        if summary.get(key) is not None:
            tags[gate_tag("robustness", key)] = f"{summary[key]:.4f}"
    point_version(tracking.get_client(), binding, "robustness", run.run_id, tags)


def _describe(name: str, check: dict[str, Any]) -> str:
    if "reason" in check:
        return f"{name} ({check['reason']})"
    value = check["value"]
    shown = f"{value:.4f}" if isinstance(value, float) else str(value)
    where = f"; worst slice {check['slice']}" if check.get("slice") else ""
    return f"{name}={shown} outside {check['threshold']}{where}"


def _metric_key(name: str) -> str:
    return re.sub(r"[^\w.\-/ ]", "_", name.replace("@", "_at_"))


def _num(value: float) -> float | None:
    return value if math.isfinite(value) else None
