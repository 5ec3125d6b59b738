"""One self-contained HTML page per validation run: styled inline, so it renders inside the MLflow UI.

GX Data Docs load their styles from CDNs and relative folders, which MLflow's artifact viewer does not
serve (and an offline deployment cannot reach); this page needs nothing but itself.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from typing import Any

STYLE = (
    "body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:1.5em;color:#1f2328}"
    "h1{font-size:1.3em}table{border-collapse:collapse;width:100%}"
    "td,th{border:1px solid #d0d7de;padding:4px 8px;font-size:13px;text-align:left;vertical-align:top}"
    "th{background:#f6f8fa}tr.fail td{background:#ffebe9}tr.warn td{background:#fff8c5}"
    ".verdict{font-size:1.2em}.pass{color:#1a7f37}.bad{color:#cf222e}code{font-size:12px}"
)


def html_report(outcomes: Sequence[Any], summary: dict[str, Any], data: str) -> str:
    """Every expectation with its columns, outcome, unexpected rows and examples; failures first."""
    stats = summary.get("statistics", {})
    passed = bool(summary.get("success"))
    verdict = "<b class='pass'>PASSED</b>" if passed else "<b class='bad'>FAILED</b>"
    ordered = sorted(outcomes, key=lambda o: (o.success, o.spec.severity != "critical"))
    rows = "".join(_row(o) for o in ordered) or "<tr><td colspan=7>no expectations</td></tr>"
    digest = str(summary.get("data_digest") or "n/a")
    quarantine = summary.get("quarantine_uri")
    extra = f"<p>Failing rows were written to <code>{html.escape(str(quarantine))}</code>.</p>" if quarantine else ""
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Validation: {html.escape(data)}</title><style>{STYLE}</style></head><body>
<h1>Data validation</h1>
<p class="verdict">{verdict}: {stats.get("successful_expectations", 0)} of {stats.get("evaluated_expectations", 0)}
expectations met ({stats.get("critical_failures", 0)} critical and {stats.get("warning_failures", 0)} warning
failures) on {summary.get("rows", 0):,} rows; {summary.get("quarantined_rows", 0):,} rows quarantined.</p>
<p>Data: <code>{html.escape(data)}</code> (digest <code>{html.escape(digest)}</code>)</p>
{extra}
<table><tr><th>expectation</th><th>columns</th><th>severity</th><th>outcome</th><th>unexpected rows</th>
<th>observed</th><th>examples of unexpected values</th></tr>
{rows}</table>
</body></html>
"""


def _row(outcome: Any) -> str:
    spec = outcome.spec
    css = "" if outcome.success else ("fail" if spec.severity == "critical" else "warn")
    state = "met" if outcome.success else ("ERROR: " + outcome.error if outcome.error else "NOT MET")
    unexpected = ""
    if outcome.unexpected_count is not None:
        unexpected = f"{outcome.unexpected_count:,}"
        if outcome.unexpected_percent is not None and math.isfinite(outcome.unexpected_percent):
            unexpected += f" ({outcome.unexpected_percent:.2f}%)"
    examples = ", ".join(_short(v) for v in outcome.partial_unexpected_list[:10])
    rule = {k: v for k, v in spec.kwargs.items() if k not in ("column", "column_list", "result_format")}
    cells = [
        html.escape(spec.type) + (f"<br><code>{html.escape(_short(rule))}</code>" if rule else ""),
        html.escape(", ".join(spec.columns)),
        html.escape(spec.severity),
        html.escape(state),
        unexpected,
        html.escape(_short(outcome.observed_value)) if outcome.observed_value is not None else "",
        html.escape(examples),
    ]
    return f"<tr class='{css}'>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def _short(value: Any, limit: int = 120) -> str:
    try:
        text = value if isinstance(value, str) else json.dumps(value, default=str)
    except (TypeError, ValueError):
        text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
