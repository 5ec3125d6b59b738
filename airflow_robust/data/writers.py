"""Write a DataFrame to a URI (local path, ``file://`` or object storage through an injected opener)."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import IO, Any

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


class ChunkWriter:
    """Write DataFrames one chunk at a time to ``uri`` (Parquet row groups, or CSV/TSV/JSON lines).

    A local file is written beside its destination as ``<name>.partial`` and renamed into place
    by :meth:`close`, so a crash never leaves a half-written file under the final name; an
    aborted write (:meth:`abort`) removes the partial file and leaves any earlier file untouched.
    """

    def __init__(self, uri: str, *, opener: WriteOpener | None = None) -> None:
        self.uri = uri
        self.format = infer_format(uri)
        self.rows = 0
        self._path = local_path(uri)
        self._partial: str | None = None
        self._context: AbstractContextManager[IO[bytes]] | None = None
        self._handle: IO[bytes] | None = None
        self._parquet: Any = None
        if self._path is not None:
            os.makedirs(os.path.dirname(os.path.abspath(self._path)) or ".", exist_ok=True)
            self._partial = f"{self._path}.partial"
            self._handle = open(self._partial, "wb")  # noqa: SIM115 - closed in close()/abort()
        elif opener is None:
            raise DataSourceError(f"Cannot write {uri}: no object-storage opener for its scheme.", source=uri)
        else:
            self._context = opener(uri)
            self._handle = self._context.__enter__()

    def write(self, frame: pd.DataFrame) -> None:
        assert self._handle is not None, "ChunkWriter is closed"
        if self.format == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self._handle, table.schema)
            self._parquet.write_table(table.cast(self._parquet.schema))
        elif self.format in ("json", "jsonl"):
            self._handle.write(frame.to_json(orient="records", lines=True, date_format="iso").encode())
        else:
            sep = "\t" if self.format == "tsv" else ","
            self._handle.write(frame.to_csv(index=False, header=self.rows == 0, sep=sep).encode())
        self.rows += len(frame)

    def close(self) -> str:
        """Finish the file and move it into place; return ``uri``."""
        if self._parquet is not None:
            self._parquet.close()
        self._finish(None)
        if self._partial is not None and self._path is not None:
            os.replace(self._partial, self._path)
        return self.uri

    def abort(self, error: BaseException) -> None:
        """Drop what was written (a local partial file is removed)."""
        self._finish(error)
        if self._partial is not None and os.path.exists(self._partial):
            os.remove(self._partial)

    def _finish(self, error: BaseException | None) -> None:
        if self._context is not None:
            exc = (type(error), error, error.__traceback__) if error is not None else (None, None, None)
            self._context.__exit__(*exc)
        elif self._handle is not None:
            self._handle.close()
        self._handle = None
        self._context = None
