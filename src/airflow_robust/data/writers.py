"""Write a DataFrame to a URI (local path, ``file://`` or object storage through an injected opener)."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import IO

import pandas as pd

from airflow_robust.data.loaders import local_path
from airflow_robust.data.sources import infer_format
from airflow_robust.exceptions import DataSourceError

WriteOpener = Callable[[str], AbstractContextManager[IO[bytes]]]


def write_frame(frame: pd.DataFrame, uri: str, *, opener: WriteOpener | None = None) -> str:
    """Write ``frame`` in the format its suffix names (csv when none); return ``uri``."""
    fmt = infer_format(uri)
    buffer = io.BytesIO()
    if fmt == "parquet":
        frame.to_parquet(buffer, index=False)
    elif fmt in ("json", "jsonl"):
        buffer.write(frame.to_json(orient="records", lines=True, date_format="iso").encode())
    else:
        buffer.write(frame.to_csv(index=False, sep="\t" if fmt == "tsv" else ",").encode())
    path = local_path(uri)
    if path is not None:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(buffer.getvalue())
        return uri
    if opener is None:
        raise DataSourceError(f"Cannot write {uri}: no object-storage opener for its scheme.", source=uri)
    with opener(uri) as handle:
        handle.write(buffer.getvalue())
    return uri
