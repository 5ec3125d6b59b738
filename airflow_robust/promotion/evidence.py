"""Each gate's key figures and one-click links, read from the runs whose signed verdicts were verified.

The verdict itself comes from the signed runs (``trust.chain``); this module only says, for people,
what those runs measured and where their plots and reports are. Figures are read from the runs'
metrics, never from version tags (which anyone with EDIT rights can write).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_robust.tracking.config import artifact_url, run_url

if TYPE_CHECKING:
    from airflow_robust.registry.store import ModelStore

#: artifacts worth one click from the review, per gate, in the order they are linked
LINKED_ARTIFACTS: dict[str, tuple[tuple[str, str], ...]] = {
    "validation": (("report", "validation_report.html"), ("Data Docs", "data_docs/index.html")),
    "robustness": (("curve", "degradation_curve.png"), ("calibration", "calibration.png")),
    "promotion": (("comparison", "champion_vs_challenger.png"), ("robustness curve", "robustness_curve.png")),
}


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass
class GateEvidence:
    """One row of the review's evidence table."""

    gate: str
    status: str
    figures: str = ""
    links: list[Link] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "gate": self.gate,
            "status": self.status,
            "figures": self.figures,
            "links": [{"label": link.label, "url": link.url} for link in self.links],
        }


def run_links(client: ModelStore, ui_url: str, gate: str, run: Any) -> list[Link]:
    """``run`` plus the gate's known plots and reports that the run actually holds."""
    run_id, experiment = str(run.info.run_id), str(run.info.experiment_id)
    links = [Link("run", run_url(ui_url, experiment, run_id))]
    wanted = LINKED_ARTIFACTS.get(gate, ())
    if wanted:
        present = _artifact_paths(client, run_id, {path.split("/")[0] for _, path in wanted})
        links += [
            Link(label, artifact_url(ui_url, experiment, run_id, path)) for label, path in wanted if path in present
        ]
    return links


def gate_evidence(
    client: ModelStore,
    ui_url: str,
    gate: str,
    status: str,
    run_ids: Sequence[str],
    metrics: Sequence[str] = (),
) -> GateEvidence:
    """Figures and links of ``gate`` from its runs; an unreadable run is said, not hidden."""
    evidence = GateEvidence(gate=gate, status=status)
    figures: list[str] = []
    for run_id in run_ids:
        try:
            run = client.get_run(run_id)
            evidence.links += run_links(client, ui_url, gate, run)
        except Exception as err:  # noqa: BLE001 - evidence for people: say what could not be read
            figures.append(f"run {run_id} unreadable ({type(err).__name__})")
            continue
        figures.append(key_figures(gate, run.data.metrics, run.data.params, metrics))
    evidence.figures = "; ".join(f for f in figures if f)
    return evidence


def key_figures(gate: str, logged: Mapping[str, float], params: Mapping[str, str], metrics: Sequence[str] = ()) -> str:
    """The few numbers a reviewer needs from a gate's run (``""`` when it logged none of them)."""
    if gate == "validation":
        return _validation(logged)
    if gate == "robustness":
        return _robustness(logged, params)
    shown = [m for m in metrics if _finite(logged.get(m))] or sorted(k for k in logged if _finite(logged[k]))[:3]
    label = "holdout " if gate == "registration" else ""
    return ", ".join(f"{label}{m} {_num(logged[m])}" for m in shown)


def _validation(logged: Mapping[str, float]) -> str:
    parts = []
    if _finite(logged.get("evaluated")) and _finite(logged.get("failed")):
        evaluated, failed = int(logged["evaluated"]), int(logged["failed"])
        parts.append(f"{evaluated - failed}/{evaluated} expectations met")
    if _finite(logged.get("rows")):
        parts.append(f"{int(logged['rows']):,} rows")
    if _finite(logged.get("quarantined_rows")):
        parts.append(f"{int(logged['quarantined_rows']):,} quarantined")
    return ", ".join(parts)


def _robustness(logged: Mapping[str, float], params: Mapping[str, str]) -> str:
    metric = params.get("metric", "metric")
    parts = []
    if _finite(logged.get("clean_metric")):
        parts.append(f"clean {metric} {_num(logged['clean_metric'])}")
    by_perturbation = {k.split(".", 1)[1]: v for k, v in logged.items() if k.startswith("audc.") and _finite(v)}
    if _finite(logged.get("audc")):
        worst = f" (worst: {min(by_perturbation, key=by_perturbation.__getitem__)} " if by_perturbation else ""
        worst += f"{_num(min(by_perturbation.values()))})" if by_perturbation else ""
        parts.append(f"AUDC {_num(logged['audc'])}{worst}")
    for key, label in (("worst_slice_ratio", "worst slice"), ("ece", "ECE"), ("flip_rate", "flip rate")):
        if _finite(logged.get(key)):
            parts.append(f"{label} {_num(logged[key])}")
    return ", ".join(parts)


def _artifact_paths(client: ModelStore, run_id: str, folders: set[str]) -> set[str]:
    paths: set[str] = set()
    for item in client.list_artifacts(run_id):
        paths.add(item.path)
        if item.is_dir and item.path in folders:
            paths.update(child.path for child in client.list_artifacts(run_id, item.path))
    return paths


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _num(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
