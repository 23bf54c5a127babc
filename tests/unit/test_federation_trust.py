"""Pure helpers of federation identity, peering and signed calls (no I/O)."""

import datetime as dt
import uuid

import pytest

from federation.client import _RecentNonces, join_url
from federation.identity import SigningKey, encode_public_key, fingerprint
from federation.inbound import _key_id, target_uri
from federation.peers import (
    FingerprintMismatch,
    PeerDocumentError,
    current_key,
    normalise_fingerprint,
)
from federation.signing import sign_request
from schemas.federation import KeyStatus, NodeDocument, PublishedKey

NOW = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)


def published(key: SigningKey, status: KeyStatus) -> PublishedKey:
    return PublishedKey(
        key_id=key.key_id,
        public_key=encode_public_key(key.public_key),
        status=status,
        valid_from=NOW,
    )


def document(*keys: PublishedKey) -> NodeDocument:
    return NodeDocument(
        node_id=uuid.uuid4(),
        name="C4 Saltillo",
        api_base="https://c4.example/",
        keys=list(keys),
        updated_at=NOW,
    )


def test_fingerprints_compare_ignoring_case_and_spaces() -> None:
    key = SigningKey.generate()
    shown = fingerprint(key.public_key)
    typed = shown.replace(" ", "").lower()
    assert normalise_fingerprint(typed) == shown
    assert normalise_fingerprint(" " + shown.lower().replace(" ", "  ") + "\n") == shown
    assert normalise_fingerprint(typed[:-1] + "0") != shown or typed.endswith("0")


def test_mismatch_names_both_fingerprints() -> None:
    error = FingerprintMismatch("AAAA", "BBBB")
    assert error.status == 422 and "AAAA" in (error.detail or "") and "BBBB" in (error.detail or "")


def test_target_uri_uses_published_origin_and_request_path() -> None:
    assert (
        target_uri("https://c4.example/", "/federation/v1/ping", "a=1")
        == "https://c4.example/federation/v1/ping?a=1"
    )
    assert target_uri("http://10.0.0.1:8000", "/x", "") == "http://10.0.0.1:8000/x"


def test_join_url_has_one_slash() -> None:
    assert join_url("http://h:1/", "/p") == join_url("http://h:1", "p") == "http://h:1/p"


def test_key_id_is_read_from_signature_input_for_the_log() -> None:
    key = SigningKey.generate()
    headers = sign_request("POST", "https://x/p", {"Content-Type": "a/b"}, b"", key, now=NOW)
    assert _key_id({k.lower(): v for k, v in headers.items()}) == key.key_id
    assert _key_id({"signature-input": "garbage"}) is None
    assert _key_id({}) is None


def test_response_nonces_are_single_use() -> None:
    nonces = _RecentNonces()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    assert nonces.remember("k", "n", later)
    assert not nonces.remember("k", "n", later)
    assert nonces.remember("k", "other", later)


def test_document_must_have_exactly_one_current_key() -> None:
    a, b = SigningKey.generate(), SigningKey.generate()
    good = document(published(a, KeyStatus.CURRENT), published(b, KeyStatus.NEXT))
    assert current_key(good).key_id == a.key_id
    with pytest.raises(PeerDocumentError):
        current_key(document(published(a, KeyStatus.NEXT)))
    with pytest.raises(PeerDocumentError):
        current_key(document(published(a, KeyStatus.CURRENT), published(b, KeyStatus.CURRENT)))
