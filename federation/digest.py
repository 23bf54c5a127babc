"""RFC 9530 Content-Digest with sha-256: make the field value and check it against a body.

Pure: no I/O. The field is a Structured Field Dictionary, e.g. ``sha-256=:<base64>:``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import http_sf

ALGORITHM = "sha-256"


class MalformedDigest(ValueError):
    """The Content-Digest field cannot be parsed or has no sha-256 member."""


def make_content_digest(body: bytes) -> str:
    """Return the Content-Digest field value for ``body`` (sha-256)."""
    encoded = base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")
    return f"{ALGORITHM}=:{encoded}:"


def content_digest_matches(field_value: str, body: bytes) -> bool:
    """Whether the sha-256 member of ``field_value`` is the digest of ``body``.

    Other algorithms may be listed (RFC 9530 lets a recipient ignore them), but sha-256 must be
    there: it is what we sign and require. Raises MalformedDigest when it cannot be read.
    """
    try:
        # http_sf's return type is a union of every shape; the checks below narrow it.
        parsed: Any = http_sf.parse(field_value.encode("ascii"), tltype="dictionary")
    except (ValueError, UnicodeEncodeError) as exc:
        raise MalformedDigest("Content-Digest is not a structured dictionary") from exc
    if not isinstance(parsed, dict) or ALGORITHM not in parsed:
        raise MalformedDigest("Content-Digest has no sha-256 member")
    value = parsed[ALGORITHM][0]
    if not isinstance(value, bytes):
        raise MalformedDigest("Content-Digest sha-256 member is not a byte sequence")
    return hmac.compare_digest(value, hashlib.sha256(body).digest())
