"""Content digest of a model: every file of its MLflow model directory, by relative path and bytes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

PREFIX = "sha256:"
_CHUNK = 1 << 20


def directory_digest(root: str | os.PathLike[str]) -> str:
    """``sha256:<hex>`` over the sorted (relative path, SHA-256 of content) of every file under ``root``.

    Renaming, adding, removing or changing any file changes the digest; where the directory
    lives does not.
    """
    base = Path(root)
    if base.is_file():
        entries = [(base.name, _file_sha256(base))]
    else:
        entries = sorted(
            (path.relative_to(base).as_posix(), _file_sha256(path)) for path in base.rglob("*") if path.is_file()
        )
    if not entries:
        raise FileNotFoundError(f"no model files under {base}")
    outer = hashlib.sha256()
    for relative, inner in entries:
        outer.update(relative.encode())
        outer.update(b"\x00")
        outer.update(inner.encode())
        outer.update(b"\n")
    return PREFIX + outer.hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def short(digest: str | None) -> str:
    """``sha256:1a2b3c4d5e6f`` for messages and tables."""
    if not digest:
        return "(none)"
    return digest[: len(PREFIX) + 12]
