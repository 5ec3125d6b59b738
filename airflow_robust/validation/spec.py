"""Expectation specs: what to check, parsed from a DAG list, a JSON/YAML suite file or a GX suite.

A spec is ``{"type": "expect_...", "kwargs": {...}, "severity": "critical"|"warning"|"info"}``.
GX's own suite JSON (``{"name": ..., "expectations": [{"type": ..., "kwargs": ...}, ...]}``,
also with the 0.x key ``expectation_type``) is accepted as a file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_robust.exceptions import InvalidParameterError

SEVERITIES = ("critical", "warning", "info")
COLUMN_KEYS = ("column", "column_A", "column_B")


@dataclass(frozen=True)
class ExpectationSpec:
    type: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    severity: str = "critical"
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """A short human name, e.g. ``expect_column_values_to_be_between(temp_max)``."""
        columns = [str(self.kwargs[k]) for k in COLUMN_KEYS if k in self.kwargs]
        columns += [str(c) for c in self.kwargs.get("column_list", [])]
        return f"{self.type}({', '.join(columns)})" if columns else self.type

    @property
    def columns(self) -> list[str]:
        names = [str(self.kwargs[k]) for k in COLUMN_KEYS if k in self.kwargs]
        return names + [str(c) for c in self.kwargs.get("column_list", [])]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "kwargs": self.kwargs, "severity": self.severity}
        if self.meta:
            out["meta"] = self.meta
        return out


def parse_expectations(value: Any, owner: str, parameter: str = "expectations") -> list[ExpectationSpec]:
    """Specs from a list of dicts, or from a ``.json``/``.yaml`` file path."""
    if isinstance(value, str):
        return parse_document(load_document(value, owner, parameter), owner, parameter, source=value)
    if isinstance(value, Mapping):
        return parse_document(value, owner, parameter, source="the given dict")
    if isinstance(value, Sequence):
        return parse_document(list(value), owner, parameter, source="the given list")
    raise InvalidParameterError(parameter, owner, "a list of expectation dicts or a suite file path", value)


def load_document(path: str, owner: str, parameter: str) -> Any:
    if not os.path.isfile(path):
        raise InvalidParameterError(parameter, owner, "an existing .json/.yaml suite file or a list of dicts", path)
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    try:
        if path.lower().endswith((".yaml", ".yml")):
            import yaml

            return yaml.safe_load(text)
        return json.loads(text)
    except Exception as err:
        raise InvalidParameterError(
            parameter, owner, "a well-formed JSON or YAML suite file", path, detail=f"It cannot be parsed: {err}"
        ) from err


def parse_document(document: Any, owner: str, parameter: str, source: str) -> list[ExpectationSpec]:
    items = document.get("expectations") if isinstance(document, Mapping) else document
    if not isinstance(items, list) or not items:
        raise InvalidParameterError(
            parameter, owner, "a non-empty list of expectations (or a suite with an 'expectations' list)", source
        )
    return [_one(item, owner, parameter, index) for index, item in enumerate(items)]


def _one(item: Any, owner: str, parameter: str, index: int) -> ExpectationSpec:
    where = f"{parameter}[{index}]"
    if not isinstance(item, Mapping):
        raise InvalidParameterError(where, owner, "a dict with 'type' and 'kwargs'", item)
    type_ = item.get("type") or item.get("expectation_type")
    if not isinstance(type_, str) or not type_.startswith("expect_"):
        raise InvalidParameterError(where, owner, "a dict whose 'type' names a GX expectation", item)
    kwargs = item.get("kwargs", {})
    if not isinstance(kwargs, Mapping):
        raise InvalidParameterError(f"{where}.kwargs", owner, "a dict", kwargs)
    severity = str(item.get("severity") or (item.get("meta") or {}).get("severity") or "critical").lower()
    if severity not in SEVERITIES:
        raise InvalidParameterError(f"{where}.severity", owner, f"one of {SEVERITIES}", item.get("severity"))
    return ExpectationSpec(type=type_, kwargs=dict(kwargs), severity=severity, meta=dict(item.get("meta") or {}))


def suite_document(specs: Sequence[ExpectationSpec], name: str) -> dict[str, Any]:
    """A GX-style suite JSON document for ``specs`` (logged as an artifact, accepted back as input)."""
    return {"name": name, "expectations": [spec.to_dict() for spec in specs]}
