"""The decision run's two pictures: champion vs challenger on the gate's metrics, and the robustness curves."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


def comparison_png(
    candidate: Mapping[str, float | None],
    champion: Mapping[str, float | None] | None,
    intervals: Mapping[str, tuple[float, float]],
    labels: tuple[str, str],
    path: str,
) -> str | None:
    """Bars of each metric for both models, and the improvement with its bootstrap interval.

    ``labels`` names (candidate, champion). Returns ``path``, or ``None`` when no metric has a value.
    """
    metrics = [m for m in sorted(candidate) if _finite(candidate[m])]
    if not metrics:
        return None
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), dpi=100, gridspec_kw={"width_ratios": [3, 2]})
    bars, deltas = axes
    width = 0.38
    xs = list(range(len(metrics)))
    cand = [float(candidate[m]) for m in metrics]  # type: ignore[arg-type]
    bars.bar([x - width / 2 for x in xs], cand, width, label=labels[0], color="#1f77b4")
    champ = [_value(champion, m) for m in metrics] if champion is not None else []
    if champ:
        heights = [c if c is not None else 0.0 for c in champ]
        bars.bar([x + width / 2 for x in xs], heights, width, label=labels[1], color="#ff7f0e")
    for x, value in zip(xs, cand, strict=True):
        bars.annotate(f"{value:.3f}", (x - width / 2, value), ha="center", va="bottom", fontsize=7)
    bars.set_xticks(xs, metrics, fontsize=8)
    bars.set_title("metric on the same evaluation data", fontsize=9)
    bars.legend(fontsize=8, loc="lower right")
    compared = [
        (m, float(candidate[m]) - c)  # type: ignore[arg-type]
        for m, c in zip(metrics, champ, strict=False)
        if c is not None
    ]
    if compared:
        ys = list(range(len(compared)))
        diffs = [d for _, d in compared]
        low = [d - intervals[m][0] if m in intervals else 0.0 for m, d in compared]
        high = [intervals[m][1] - d if m in intervals else 0.0 for m, d in compared]
        colors = ["#2ca02c" if d >= 0 else "#d62728" for d in diffs]
        deltas.barh(ys, diffs, xerr=[low, high], color=colors, capsize=4)
        deltas.axvline(0.0, color="grey", linewidth=0.8)
        deltas.set_yticks(ys, [m for m, _ in compared], fontsize=8)
        deltas.set_title("candidate - champion (bootstrap interval)", fontsize=9)
    else:
        deltas.axis("off")
        deltas.text(0.5, 0.5, "no champion to compare with", ha="center", va="center", fontsize=9)
    fig.suptitle(f"{labels[0]} vs {labels[1]}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def robustness_png(
    candidate: Mapping[str, Any], champion: Mapping[str, Any] | None, labels: tuple[str, str], path: str
) -> str | None:
    """Degradation curves of the candidate (solid) and, when known, the champion (dashed), per perturbation."""
    curves = candidate.get("curves") or {}
    if not curves:
        return None
    plt = _pyplot()
    from matplotlib.lines import Line2D

    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=100)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    handles = []
    compared = False
    for index, (name, points) in enumerate(sorted(curves.items())):
        color = colors[index % len(colors)]
        ax.plot(*_xy(points), marker="o", color=color)
        handles.append(Line2D([], [], color=color, marker="o", label=name))
        other = ((champion or {}).get("curves") or {}).get(name)
        if other:
            compared = True
            ax.plot(*_xy(other), marker="x", linestyle="--", color=color, alpha=0.7)
    handles.append(Line2D([], [], color="black", label=f"solid: {labels[0]}"))
    if compared:
        handles.append(Line2D([], [], color="black", linestyle="--", label=f"dashed: {labels[1]}"))
    ax.axhline(1.0, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xlabel("severity (fraction of the largest tested)")
    ax.set_ylabel(f"robustness ratio ({candidate.get('metric', 'metric')})")
    ax.set_title("Robustness: metric under perturbation / clean metric", fontsize=10)
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _xy(points: list[dict[str, float]]) -> tuple[list[float], list[float]]:
    top = points[-1]["severity"] or 1.0
    return [0.0] + [p["severity"] / top for p in points], [1.0] + [p["rr"] for p in points]


def _value(scores: Mapping[str, float | None] | None, metric: str) -> float | None:
    value = (scores or {}).get(metric)
    return float(value) if value is not None and math.isfinite(value) else None


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
