"""Human-readable outputs of a monitoring run: a PNG of the worst columns and a self-contained HTML report."""

from __future__ import annotations

import base64
import html
import io
import math
from typing import Any

import numpy as np

from airflow_robust.drift.current import CategoricalAccumulator, CurrentData, NumericAccumulator
from airflow_robust.drift.detect import P_VALUE_METHODS, ColumnDrift
from airflow_robust.drift.monitor import MonitorResult


def severity(col: ColumnDrift) -> float:
    """How far past (or short of) its threshold a column is: larger = worse, comparable across methods."""
    if col.note:
        return math.inf
    if col.method in P_VALUE_METHODS:
        p = col.p_value if col.p_value is not None else 1.0
        return -math.log10(max(p, 1e-300)) / -math.log10(col.threshold)
    return (col.statistic or 0.0) / col.threshold if col.threshold else 0.0


def worst(result: MonitorResult, k: int = 6) -> list[ColumnDrift]:
    return sorted(result.report.columns.values(), key=severity, reverse=True)[:k]


def worst_columns_png(result: MonitorResult, current: CurrentData, k: int = 6) -> bytes:
    """Reference vs current distributions of the ``k`` worst columns, one panel each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = [c for c in worst(result, k) if c.column in current.columns]
    n = max(len(columns), 1)
    fig, axes = plt.subplots(n, 1, figsize=(7, 2.4 * n), squeeze=False)
    for ax, col in zip(axes[:, 0], columns, strict=False):
        acc = current.columns[col.column]
        labels, ref, cur = _shares(acc)
        positions = np.arange(len(labels))
        ax.bar(positions - 0.2, ref, width=0.4, label="reference", color="#4c72b0")
        ax.bar(positions + 0.2, cur, width=0.4, label="current", color="#dd8452")
        ax.set_xticks(positions)
        ax.set_xticklabels(labels, rotation=45, ha="right", fontsize=7)
        shown = (
            f"p={col.p_value:.3g}"
            if col.method in P_VALUE_METHODS and col.p_value is not None
            else (f"{col.statistic:.3g}" if col.statistic is not None else "n/a")
        )
        flag = "DRIFT" if col.drifted else "ok"
        ax.set_title(f"{col.column}: {col.method} {shown} (threshold {col.threshold:g}) {flag}", fontsize=9)
        ax.legend(fontsize=7)
    if not columns:
        axes[0, 0].text(0.5, 0.5, "no columns monitored", ha="center")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return buffer.getvalue()


def _shares(acc: NumericAccumulator | CategoricalAccumulator) -> tuple[list[str], np.ndarray, np.ndarray]:
    if isinstance(acc, CategoricalAccumulator):
        ref_freq = acc.reference.frequencies
        keys = sorted(set(ref_freq) | set(acc.frequencies), key=lambda k: -ref_freq.get(k, 0))[:30]
        ref = np.asarray([ref_freq.get(k, 0) for k in keys], dtype=float)
        cur = np.asarray([acc.frequencies.get(k, 0) for k in keys], dtype=float)
        return keys, _normalise(ref), _normalise(cur)
    edges = acc.coarse.edges
    ref = np.asarray(acc.reference.counts, dtype=float)
    cur = acc.coarse.with_outer().astype(float) if len(edges) else np.zeros(1)
    labels = [f"{edges[i]:.3g}-{edges[i + 1]:.3g}" for i in range(len(edges) - 1)] or ["all"]
    if len(labels) == len(ref):
        labels[0], labels[-1] = f"<={edges[1]:.3g}", f">{edges[-2]:.3g}"
    return labels, _normalise(ref), _normalise(cur)


def _normalise(values: np.ndarray) -> np.ndarray:
    total = values.sum()
    return values / total if total else values


def html_report(result: MonitorResult, summary: dict[str, Any], png: bytes | None) -> str:
    """A self-contained page: verdict, model view and one row per column."""
    report = result.report
    verdict = "DRIFT" if result.drift else "OK"
    rows = []
    for col in sorted(report.columns.values(), key=severity, reverse=True):
        rows.append(
            "<tr class='{cls}'><td>{name}</td><td>{kind}</td><td>{method}</td><td>{stat}</td><td>{p}</td>"
            "<td>{threshold:g}</td><td>{drifted}</td><td>{exact}</td><td>{rows}</td><td>{note}</td></tr>".format(
                cls="drift" if col.drifted else "ok",
                name=html.escape(col.column),
                kind=col.kind,
                method=col.method,
                stat=_num(col.statistic),
                p=_num(col.p_value),
                threshold=col.threshold,
                drifted="yes" if col.drifted else "no",
                exact="exact" if col.exact else f"binned (error <= {_num(col.error_bound)})",
                rows=col.current_rows,
                note=html.escape(col.note),
            )
        )
    model_rows = []
    for label, signal in (("prediction drift", result.prediction_drift), ("target drift", result.target_drift)):
        if signal is not None:
            model_rows.append(
                f"<tr><td>{label}</td><td>{signal.method}</td><td>{_num(signal.statistic)}</td>"
                f"<td>{_num(signal.p_value)}</td><td>{'yes' if signal.drifted else 'no'}</td></tr>"
            )
    performance = result.performance
    perf_html = ""
    if performance:
        perf_html = (
            f"<p>Performance on labelled current rows: {performance['metric']} = {_num(performance['current'])} vs "
            f"{_num(performance['reference'])} at training (drop {_num(performance['drop'])}; loss when > "
            f"{performance['max_drop']:g}): <b>{'LOSS' if performance['loss'] else 'ok'}</b></p>"
        )
    estimate = result.estimated_performance
    if estimate:
        perf_html += (
            f"<p>Estimated without labels ({html.escape(estimate['method'])}): accuracy "
            f"{_num(estimate['accuracy'])}, F1 (positive class) {_num(estimate['f1_positive'])}. "
            "This is an estimate, not a measurement.</p>"
        )
    image = f"<img alt='worst columns' src='data:image/png;base64,{base64.b64encode(png).decode()}'>" if png else ""
    title = html.escape(f"Drift report: {summary.get('model_uri') or summary.get('reference', '')}")
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;font-size:13px}} tr.drift td{{background:#fde2e1}}
.verdict{{font-size:1.4em}}</style></head><body>
<h1>{title}</h1>
<p class="verdict">Verdict: <b>{verdict}</b> &mdash; {html.escape(result.reason())}</p>
<p>Reference: {html.escape(str(summary.get("reference", "")))} ({report.reference_rows} rows).
Current: {html.escape(str(summary.get("current", "")))} ({report.current_rows} rows).
Drifted share {report.share:.3f}; dataset drift when &ge; {report.drift_share_threshold:g}.</p>
{perf_html}
<h2>Model</h2><table><tr><th>signal</th><th>method</th><th>statistic</th><th>p-value</th><th>drift</th></tr>
{"".join(model_rows) or "<tr><td colspan=5>no model view</td></tr>"}</table>
<h2>Columns</h2><table><tr><th>column</th><th>kind</th><th>method</th><th>statistic</th><th>p-value</th>
<th>threshold</th><th>drift</th><th>computed</th><th>current rows</th><th>note</th></tr>
{"".join(rows)}</table>
<h2>Worst columns</h2>{image}
</body></html>
"""


def _num(value: float | None) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a" if value is None else str(value)
    return f"{value:.4g}"
