"""Column lookups with errors that help: the closest existing name is suggested."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_robust.exceptions import InvalidParameterError


def require_column(
    owner: str, parameter: str, name: Any, columns: Sequence[Any], what: str = "a column of the data"
) -> None:
    """Raise unless ``name`` is one of ``columns``; suggest the closest name (spaces, case, Unicode)."""
    if name in columns:
        return
    import difflib

    names = [str(c) for c in columns]
    close = difflib.get_close_matches(str(name), names, n=1, cutoff=0.6)
    lowered = {" ".join(n.split()).casefold(): n for n in names}
    hint = lowered.get(" ".join(str(name).split()).casefold()) or (close[0] if close else None)
    detail = f"Did you mean {hint!r}?" if hint else f"The data has {len(names)} columns: {names[:12]}."
    raise InvalidParameterError(parameter, owner, what, name, detail=detail)


def infinite_counts(frame: Any, columns: Sequence[Any]) -> dict[str, int]:
    """Rows holding ``inf``/``-inf``, per float column of ``columns`` that has any."""
    import numpy as np

    counts = {}
    for column in columns:
        values = frame[column]
        if values.dtype.kind == "f":
            count = int(np.isinf(values.to_numpy()).sum())
            if count:
                counts[str(column)] = count
    return counts


def require_finite(owner: str, frame: Any, columns: Sequence[Any], parameter: str = "data") -> None:
    """Refuse infinite values in ``columns`` (models and statistics would turn them into garbage)."""
    bad = infinite_counts(frame, columns)
    if bad:
        listed = ", ".join(f"{c!r} ({n} rows)" for c, n in bad.items())
        raise InvalidParameterError(
            parameter, owner, "data without infinite values", "<data>", detail=f"Infinite values in column {listed}."
        )


def check_shape(frame: Any, where: str, raw_header: Sequence[Any] | None = None) -> None:
    """Refuse data a model or a suite cannot use as one table: duplicated or nested columns.

    ``raw_header`` is a CSV file's own header row: pandas silently renames a repeated name ``x`` to
    ``x.1``, so a duplicate is only visible there.
    """
    from airflow_robust.exceptions import DataSourceError

    names = [str(c) for c in (raw_header if raw_header is not None else frame.columns)]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DataSourceError(
            f"{where} has duplicated column names {repeated}: rename them so that each column has one name",
            source=where,
        )
    nested = []
    for column in frame.columns:
        if str(frame[column].dtype) not in ("object",):
            continue
        values = frame[column].dropna()
        if (len(values) and isinstance(values.iloc[0], (list, tuple, dict, set))) or _is_array(values):
            nested.append(str(column))
    if nested:
        raise DataSourceError(
            f"{where} has nested values (lists, structs or maps) in columns {nested}: "
            "flatten them into scalar columns first",
            source=where,
        )


def _is_array(values: Any) -> bool:
    import numpy as np

    return bool(len(values)) and isinstance(values.iloc[0], np.ndarray)


def require_numbers(owner: str, frame: Any, columns: Sequence[Any], parameter: str = "data") -> None:
    """Refuse text in ``columns`` (the model declares them numeric): one clear error, not a crash in ``predict``."""
    import pandas as pd

    bad: dict[str, Any] = {}
    for column in columns:
        if (
            column not in frame.columns
            or pd.api.types.is_numeric_dtype(frame[column])
            or pd.api.types.is_bool_dtype(frame[column])
        ):
            continue
        values = frame[column].dropna()
        converted = pd.to_numeric(values, errors="coerce")
        if converted.isna().any():
            bad[str(column)] = values[converted.isna()].iloc[0]
    if bad:
        listed = ", ".join(f"{c!r} (e.g. {v!r})" for c, v in bad.items())
        raise InvalidParameterError(
            parameter,
            owner,
            "numbers in the columns the model declares numeric",
            "<data>",
            detail=f"Text in column {listed}.",
        )
