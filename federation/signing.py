"""RFC 9421 HTTP Message Signatures (Ed25519) for federation requests and responses.

Pure: callers pass the message parts and get headers back, or a SignatureRejected with a
machine code. Key lookup and the replay cache are Protocols the hub backs with PostgreSQL.
The signature base itself is built by the `http-message-signatures` library; this module adds
our policy: required components, a signed Content-Digest (RFC 9530), created/expires within a
clock skew, a single-use nonce per key id.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import http_sf
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    InvalidSignature,
    algorithms,
)
from http_message_signatures.resolvers import MappingKeyResolver

from federation.digest import MalformedDigest, content_digest_matches, make_content_digest
from federation.identity import SigningKey

LABEL = "c4hub"
REQUEST_COMPONENTS = ("@method", "@target-uri", "@authority", "content-type", "content-digest")
# A response binds to the request it answers through the `req` flag (RFC 9421 section 2.4).
RESPONSE_COMPONENTS = (
    "@status",
    '"@method";req',
    '"@target-uri";req',
    '"@authority";req',
    "content-type",
    "content-digest",
)
REQUIRED_PARAMS = ("created", "expires", "keyid", "nonce")
DEFAULT_LIFETIME = dt.timedelta(minutes=5)
DEFAULT_SKEW = dt.timedelta(seconds=30)

RejectCode = Literal[
    "unknown_key",
    "bad_signature",
    "expired",
    "not_yet_valid",
    "replayed",
    "digest_mismatch",
    "missing_component",
    "malformed",
]


class SignatureRejected(Exception):
    """The message's signature is not acceptable; ``code`` says why, for logs and problems."""

    def __init__(self, code: RejectCode, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code: RejectCode = code
        self.detail = detail


class KeyResolver(Protocol):
    def public_key(self, key_id: str) -> Ed25519PublicKey | None:
        """The key of an active peer with this key id, or None."""


class NonceCache(Protocol):
    def remember(self, key_id: str, nonce: str, expires_at: dt.datetime) -> bool:
        """Record the nonce until ``expires_at``; False when it was already recorded."""


@dataclass
class Request:
    """The parts of an HTTP request the signature covers (also the library's message shape)."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Response:
    status_code: int
    request: Request
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Verified:
    key_id: str
    created: dt.datetime
    expires: dt.datetime
    nonce: str


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _sign(
    message: Request | Response,
    body: bytes,
    key: SigningKey,
    components: tuple[str, ...],
    now: dt.datetime | None,
    lifetime: dt.timedelta,
) -> dict[str, str]:
    created = now or _now()
    message.headers["Content-Digest"] = make_content_digest(body)
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(private_keys={key.key_id: key.private_key}, public_keys={}),
    )
    signer.sign(
        message,
        key_id=key.key_id,
        created=created,
        expires=created + lifetime,
        nonce=secrets.token_urlsafe(16),
        label=LABEL,
        covered_component_ids=components,
        body=body,
        use_existing_digest=True,  # ours, set above; the library re-checks it against body
    )
    wanted = ("content-digest", "signature-input", "signature")
    return {k: v for k, v in message.headers.items() if k.lower() in wanted}


def sign_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    key: SigningKey,
    *,
    now: dt.datetime | None = None,
    lifetime: dt.timedelta = DEFAULT_LIFETIME,
) -> dict[str, str]:
    """Return Content-Digest, Signature-Input and Signature to add to the request.

    ``headers`` must carry Content-Type (covered); ``url`` is the absolute target URI.
    """
    message = Request(method.upper(), url, dict(headers))
    return _sign(message, body, key, REQUEST_COMPONENTS, now, lifetime)


def sign_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    key: SigningKey,
    *,
    request_method: str,
    request_url: str,
    now: dt.datetime | None = None,
    lifetime: dt.timedelta = DEFAULT_LIFETIME,
) -> dict[str, str]:
    """Like sign_request, for the response to the request given by method and URL."""
    message = Response(status, Request(request_method.upper(), request_url), dict(headers))
    return _sign(message, body, key, RESPONSE_COMPONENTS, now, lifetime)


class _Verifier(HTTPMessageVerifier):
    """The library's verifier without its wall-clock checks: we check time against ``now``."""

    def validate_created_and_expires(self, sig_input: object, max_age: object = None) -> None:
        return None


Component = tuple[str, frozenset[tuple[str, object]]]


def _parse(value: str, tltype: str) -> Any:
    # http_sf's return type is a union of every structured-field shape; callers check the shape.
    return http_sf.parse(value.encode("ascii"), tltype=tltype)


def _components(serialized: tuple[str, ...]) -> set[Component]:
    members, _ = _parse("x=(" + " ".join(_quote(c) for c in serialized) + ")", "dictionary")["x"]
    return {(str(name), frozenset(params.items())) for name, params in members}


def _quote(component: str) -> str:
    return component if component.startswith('"') else f'"{component}"'


def _signature_input(headers: Mapping[str, str]) -> tuple[set[Component], dict[str, object]]:
    """Covered components and parameters of our one signature; malformed when absent or odd."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if "signature-input" not in lowered or "signature" not in lowered:
        raise SignatureRejected("malformed", "Signature-Input and Signature are required")
    try:
        inputs = _parse(lowered["signature-input"], "dictionary")
        _parse(lowered["signature"], "dictionary")
    except (ValueError, UnicodeEncodeError) as exc:
        raise SignatureRejected("malformed", "signature fields are not structured fields") from exc
    if not isinstance(inputs, dict) or list(inputs) != [LABEL]:
        raise SignatureRejected(
            "malformed", f'exactly one signature labelled "{LABEL}" is required'
        )
    members, params = inputs[LABEL]
    if not isinstance(members, list):
        raise SignatureRejected("malformed", "Signature-Input member is not an inner list")
    covered = {(str(name), frozenset(p.items())) for name, p in members}
    return covered, dict(params)


def _check_params(params: dict[str, object], now: dt.datetime, skew: dt.timedelta) -> Verified:
    missing = [p for p in REQUIRED_PARAMS if p not in params]
    if missing:
        raise SignatureRejected("malformed", f"signature parameters missing: {', '.join(missing)}")
    created, expires, key_id, nonce = (params[p] for p in REQUIRED_PARAMS)
    if not (type(created) is int and type(expires) is int and created < expires):
        raise SignatureRejected("malformed", "created and expires must be integers, created first")
    if not (isinstance(key_id, str) and isinstance(nonce, str) and nonce):
        raise SignatureRejected("malformed", "keyid and nonce must be strings")
    verified = Verified(
        key_id=key_id,
        created=dt.datetime.fromtimestamp(created, dt.UTC),
        expires=dt.datetime.fromtimestamp(expires, dt.UTC),
        nonce=nonce,
    )
    if verified.created > now + skew:
        raise SignatureRejected("not_yet_valid", "signature created in the future")
    if verified.expires < now - skew:
        raise SignatureRejected("expired", "signature expired")
    return verified


def _verify(
    message: Request | Response,
    body: bytes,
    required: tuple[str, ...],
    keys: KeyResolver,
    nonces: NonceCache,
    now: dt.datetime | None,
    skew: dt.timedelta,
) -> Verified:
    covered, params = _signature_input(message.headers)
    absent = _components(required) - covered
    if absent:
        names = ", ".join(sorted(name for name, _ in absent))
        raise SignatureRejected("missing_component", f"signature does not cover {names}")
    verified = _check_params(params, now or _now(), skew)
    public_key = keys.public_key(verified.key_id)
    if public_key is None:
        raise SignatureRejected("unknown_key", "key id is not an active peer key")
    verifier = _Verifier(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(private_keys={}, public_keys={verified.key_id: public_key}),
    )
    try:
        verifier.verify(message, max_age=None)
    except InvalidSignature as exc:
        raise SignatureRejected("bad_signature", "signature does not verify") from exc
    digest = {k.lower(): v for k, v in message.headers.items()}.get("content-digest", "")
    try:
        if not content_digest_matches(digest, body):
            raise SignatureRejected("digest_mismatch", "body does not match Content-Digest")
    except MalformedDigest as exc:
        raise SignatureRejected("malformed", str(exc)) from exc
    # Last, so a message rejected for another reason does not burn its nonce.
    if not nonces.remember(verified.key_id, verified.nonce, verified.expires + skew):
        raise SignatureRejected("replayed", "nonce already seen for this key")
    return verified


def verify_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    keys: KeyResolver,
    nonces: NonceCache,
    now: dt.datetime | None = None,
    skew: dt.timedelta = DEFAULT_SKEW,
) -> Verified:
    """Check a signed request; return who signed it or raise SignatureRejected."""
    message = Request(method.upper(), url, dict(headers))
    return _verify(message, body, REQUEST_COMPONENTS, keys, nonces, now, skew)


def verify_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    request_method: str,
    request_url: str,
    keys: KeyResolver,
    nonces: NonceCache,
    now: dt.datetime | None = None,
    skew: dt.timedelta = DEFAULT_SKEW,
) -> Verified:
    """Check a signed response to the request given by method and URL."""
    message = Response(status, Request(request_method.upper(), request_url), dict(headers))
    return _verify(message, body, RESPONSE_COMPONENTS, keys, nonces, now, skew)
