"""HMAC-SHA256 envelopes over canonical JSON.

A :class:`SigningKey` comes from Airflow (a connection or a secret; see
:mod:`airflow_robust.hooks.signing`), never from MLflow. ``key_id`` is a short fingerprint of
the key, so a verifier can tell "signed with another key" from "tampered with".
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_robust.exceptions import EvidenceError

ALGORITHM = "HMAC-SHA256"
MIN_KEY_BYTES = 16


@dataclass(frozen=True)
class SigningKey:
    """A secret that signs and verifies attestations; ``repr`` shows only its fingerprint."""

    secret: bytes = field(repr=False)
    source: str = "unknown"

    def __post_init__(self) -> None:
        if len(self.secret) < MIN_KEY_BYTES:
            raise ValueError(f"a signing key needs at least {MIN_KEY_BYTES} bytes (got {len(self.secret)})")

    @property
    def key_id(self) -> str:
        return hashlib.sha256(b"airflow-robust key id\x00" + self.secret).hexdigest()[:12]


def canonical(payload: Any) -> bytes:
    """The one byte string a payload signs as: sorted keys, no whitespace, ASCII, no NaN."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode()


def sha256_of(payload: Any) -> str:
    return hashlib.sha256(canonical(payload)).hexdigest()


def sign(payload: Mapping[str, Any], key: SigningKey) -> dict[str, Any]:
    """``{"payload", "alg", "key_id", "signature"}`` for ``payload``."""
    body = dict(payload)
    mac = hmac.new(key.secret, canonical(body), hashlib.sha256).hexdigest()
    return {"payload": body, "alg": ALGORITHM, "key_id": key.key_id, "signature": mac}


def verify(envelope: Any, key: SigningKey, *, where: str = "attestation") -> dict[str, Any]:
    """The payload of ``envelope`` if it was signed with ``key``; else :class:`EvidenceError` saying why."""
    if not isinstance(envelope, Mapping) or not isinstance(envelope.get("payload"), Mapping):
        raise EvidenceError(f"{where} is not a signed airflow-robust envelope")
    if envelope.get("alg") != ALGORITHM:
        raise EvidenceError(f"{where} uses algorithm {envelope.get('alg')!r}, expected {ALGORITHM}")
    signature = envelope.get("signature")
    if not isinstance(signature, str):
        raise EvidenceError(f"{where} carries no signature")
    payload = dict(envelope["payload"])
    try:
        expected = hmac.new(key.secret, canonical(payload), hashlib.sha256).hexdigest()
    except ValueError as err:  # NaN/inf smuggled into the payload
        raise EvidenceError(f"{where} payload is not canonical JSON: {err}") from err
    if not hmac.compare_digest(expected, signature):
        if envelope.get("key_id") != key.key_id:
            raise EvidenceError(
                f"{where} signature does not verify: signed with key {envelope.get('key_id')!r}, "
                f"this deployment's key is {key.key_id!r} (written by hand, or by another installation)"
            )
        raise EvidenceError(f"{where} signature does not verify: its content was changed after it was signed")
    return payload
