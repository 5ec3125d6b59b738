"""Serving check of a model version, run in a fresh process: ``python -m airflow_robust.deployment.serving``.

Loads the model through ``mlflow.pyfunc`` (as a serving container would), predicts on its logged
input example and on a sample of the given data, checks the outputs against the model
signature, and times the sample prediction. Prints one JSON object; exit code 0 = passed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any


def check(  # noqa: PLR0912 - one report, one branch per problem it can hold
    model_uri: str, sample_path: str | None, budget_seconds: float | None, digest: str | None = None
) -> dict[str, Any]:
    import mlflow
    import numpy as np
    import pandas as pd

    from airflow_robust.trust.digest import directory_digest

    report: dict[str, Any] = {"model_uri": model_uri, "problems": []}
    started = time.perf_counter()
    local = mlflow.artifacts.download_artifacts(model_uri)  # fetched once: the model and its input example
    report["digest"] = directory_digest(local)
    if digest is not None and report["digest"] != digest:
        report["problems"].append(
            f"the files served for {model_uri} have digest {report['digest']}, not the verified {digest}: "
            "they changed during the deployment"
        )
        report["passed"] = False
        return report
    model = mlflow.pyfunc.load_model(local)
    report["load_seconds"] = time.perf_counter() - started
    signature = model.metadata.signature
    report["has_signature"] = signature is not None
    frames: dict[str, Any] = {}
    try:
        example = model.metadata.load_input_example(local)
    except Exception:  # noqa: BLE001 - a missing example is reported, not fatal
        example = None
    if example is not None:
        frames["input_example"] = pd.DataFrame(example)
    else:
        report["problems"].append("the model has no input example")
    if sample_path:
        frames["sample"] = _as_request(pd.read_parquet(sample_path), signature, report["problems"])
    for label, frame in frames.items():
        started = time.perf_counter()
        try:
            output = model.predict(frame)
        except Exception as err:  # noqa: BLE001
            report["problems"].append(f"predict on the {label} failed: {type(err).__name__}: {str(err)[:300]}")
            continue
        seconds = time.perf_counter() - started
        values = np.asarray(output)
        report[f"{label}_rows"] = len(frame)
        report[f"{label}_seconds"] = seconds
        if len(values) != len(frame):
            report["problems"].append(f"{label}: {len(values)} predictions for {len(frame)} rows")
        if values.dtype.kind == "f" and not np.isfinite(values).all():
            report["problems"].append(f"{label}: non-finite predictions")
        if signature is not None and signature.outputs is not None:
            expected = len(signature.outputs.inputs)
            columns = 1 if values.ndim == 1 else values.shape[1]
            if expected != columns:
                report["problems"].append(f"{label}: {columns} output columns, the signature declares {expected}")
        if label == "sample" and budget_seconds is not None and seconds > budget_seconds:
            report["problems"].append(f"sample prediction took {seconds:.3f} s > budget {budget_seconds:g} s")
    if signature is None:
        report["problems"].append("the model has no signature")
    report["passed"] = not report["problems"]
    return report


def _as_request(sample: Any, signature: Any, problems: list[str]) -> Any:
    """The sample as a serving request carries it: the signature's columns, JSON numbers as its types."""
    if signature is None or signature.inputs is None:
        return sample
    specs = [(getattr(c, "name", None), str(getattr(c, "type", ""))) for c in signature.inputs.inputs]
    if not specs or not all(isinstance(name, str) for name, _ in specs):
        return sample
    missing = [name for name, _ in specs if name not in sample.columns]
    if missing:
        problems.append(f"the sample lacks the signature's input columns {missing}")
    out = sample[[name for name, _ in specs if name in sample.columns]].copy()
    for name, kind in specs:  # a JSON request's integers arrive as the declared float type
        if name in out.columns and kind.lower().endswith(("double", "float")) and out[name].dtype.kind in "iu":
            out[name] = out[name].astype(float)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("model_uri")
    parser.add_argument("--sample")
    parser.add_argument("--budget", type=float)
    parser.add_argument("--digest")
    args = parser.parse_args(argv)
    try:
        report = check(args.model_uri, args.sample, args.budget, args.digest)
    except Exception as err:  # noqa: BLE001 - the parent reads the JSON
        report = {"passed": False, "problems": [f"{type(err).__name__}: {str(err)[:500]}"]}
    print(json.dumps(report, default=str))
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
