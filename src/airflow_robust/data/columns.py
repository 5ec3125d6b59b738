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
