"""RFC 9421 signing and verification policy for federation messages (pure, no I/O)."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from federation.digest import content_digest_matches, make_content_digest
from federation.identity import (
    KeyFileError,
    SigningKey,
    decode_public_key,
    encode_public_key,
    key_id,
    load_or_create_node_keys,
    load_private_key,
)
from federation.signing import (
    SignatureRejected,
    sign_request,
    sign_response,
    verify_request,
    verify_response,
)

NOW = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)
URL = "https://peer.example.org/federation/v1/inbox"
BODY = b'{"kind": "alert"}'
CT = {"Content-Type": "application/json"}


class Keys:
    def __init__(self, *keys: SigningKey) -> None:
        self.keys = {k.key_id: k.public_key for k in keys}

    def public_key(self, key_id: str) -> Ed25519PublicKey | None:
        return self.keys.get(key_id)


class Nonces:
    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], dt.datetime] = {}

    def remember(self, key_id: str, nonce: str, expires_at: dt.datetime) -> bool:
        if (key_id, nonce) in self.seen:
            return False
        self.seen[(key_id, nonce)] = expires_at
        return True


@pytest.fixture
def key() -> SigningKey:
    return SigningKey.generate()


def signed(key: SigningKey) -> dict[str, str]:
    return {**CT, **sign_request("POST", URL, CT, BODY, key, now=NOW)}


def reject(
    code: str,
    headers: dict[str, str],
    key: SigningKey,
    *,
    method: str = "POST",
    url: str = URL,
    body: bytes = BODY,
    now: dt.datetime = NOW,
    skew: dt.timedelta = dt.timedelta(seconds=30),
) -> None:
    with pytest.raises(SignatureRejected) as caught:
        verify_request(
            method, url, headers, body, keys=Keys(key), nonces=Nonces(), now=now, skew=skew
        )
    assert caught.value.code == code


def test_signed_request_verifies_with_signer_identity(key: SigningKey) -> None:
    nonces = Nonces()
    ok = verify_request("POST", URL, signed(key), BODY, keys=Keys(key), nonces=nonces, now=NOW)
    assert ok.key_id == key.key_id and ok.created == NOW
    assert ok.expires == NOW + dt.timedelta(minutes=5)
    assert list(nonces.seen) == [(key.key_id, ok.nonce)]


def test_signature_input_covers_required_components_and_params(key: SigningKey) -> None:
    sig_input = signed(key)["Signature-Input"]
    assert sig_input.startswith(
        'c4hub=("@method" "@target-uri" "@authority" "content-type" "content-digest")'
    )
    for param in ("created=", "expires=", f'keyid="{key.key_id}"', "nonce=", 'alg="ed25519"'):
        assert param in sig_input


def test_tampered_body_is_digest_mismatch(key: SigningKey) -> None:
    reject("digest_mismatch", signed(key), key, body=b'{"kind": "other"}')


def test_changed_url_is_bad_signature(key: SigningKey) -> None:
    reject("bad_signature", signed(key), key, url=URL + "?x=1")


def test_changed_method_is_bad_signature(key: SigningKey) -> None:
    reject("bad_signature", signed(key), key, method="PUT")


def test_replayed_nonce_is_rejected(key: SigningKey) -> None:
    nonces, headers = Nonces(), signed(key)
    verify_request("POST", URL, headers, BODY, keys=Keys(key), nonces=nonces, now=NOW)
    with pytest.raises(SignatureRejected) as caught:
        verify_request("POST", URL, headers, BODY, keys=Keys(key), nonces=nonces, now=NOW)
    assert caught.value.code == "replayed"


def test_rejected_message_does_not_burn_its_nonce(key: SigningKey) -> None:
    nonces, headers = Nonces(), signed(key)
    with pytest.raises(SignatureRejected):
        verify_request("POST", URL, headers, b"x", keys=Keys(key), nonces=nonces, now=NOW)
    assert nonces.seen == {}


def test_unknown_key(key: SigningKey) -> None:
    with pytest.raises(SignatureRejected) as caught:
        verify_request("POST", URL, signed(key), BODY, keys=Keys(), nonces=Nonces(), now=NOW)
    assert caught.value.code == "unknown_key"


def test_other_peers_key_under_same_id_is_bad_signature(key: SigningKey) -> None:
    impostor = SigningKey.generate()
    keys = Keys()
    keys.keys[key.key_id] = impostor.public_key
    with pytest.raises(SignatureRejected) as caught:
        verify_request("POST", URL, signed(key), BODY, keys=keys, nonces=Nonces(), now=NOW)
    assert caught.value.code == "bad_signature"


def test_missing_component(key: SigningKey) -> None:
    headers = signed(key)
    headers["Signature-Input"] = headers["Signature-Input"].replace(' "content-type"', "")
    reject("missing_component", headers, key)


def test_missing_signature_and_bad_syntax_are_malformed(key: SigningKey) -> None:
    reject("malformed", dict(CT), key)
    headers = signed(key)
    headers["Signature-Input"] = "c4hub=(((("
    reject("malformed", headers, key)
    headers = signed(key)
    headers["Signature-Input"] = headers["Signature-Input"].replace("c4hub=", "sig=")
    reject("malformed", headers, key)


SKEW = dt.timedelta(seconds=30)
LIFE = dt.timedelta(minutes=5)


@pytest.mark.parametrize(
    ("offset", "code"),
    [
        (-SKEW, None),  # signed 30 s in our future: exactly at the skew, accepted
        (-SKEW - dt.timedelta(seconds=1), "not_yet_valid"),
        (LIFE + SKEW, None),  # expired 30 s ago: still within the skew
        (LIFE + SKEW + dt.timedelta(seconds=1), "expired"),
    ],
)
def test_time_window_skew_edges(key: SigningKey, offset: dt.timedelta, code: str | None) -> None:
    headers = signed(key)
    now = NOW + offset
    if code is None:
        ok = verify_request(
            "POST", URL, headers, BODY, keys=Keys(key), nonces=Nonces(), now=now, skew=SKEW
        )
        assert ok.key_id == key.key_id
    else:
        reject(code, headers, key, now=now, skew=SKEW)


def test_response_signing_binds_to_request(key: SigningKey) -> None:
    made = sign_response(200, CT, BODY, key, request_method="POST", request_url=URL, now=NOW)
    headers = {**CT, **made}
    assert '"@method";req' in headers["Signature-Input"]
    ok = verify_response(
        200,
        headers,
        BODY,
        request_method="POST",
        request_url=URL,
        keys=Keys(key),
        nonces=Nonces(),
        now=NOW,
    )
    assert ok.key_id == key.key_id
    for status, url in ((500, URL), (200, URL + "/other")):
        with pytest.raises(SignatureRejected) as caught:
            verify_response(
                status,
                headers,
                BODY,
                request_method="POST",
                request_url=url,
                keys=Keys(key),
                nonces=Nonces(),
                now=NOW,
            )
        assert caught.value.code == "bad_signature"


def test_content_digest_matches_rfc9530_example() -> None:
    # RFC 9530 appendix B.1: {"hello": "world"} and its sha-256 digest.
    body = b'{"hello": "world"}'
    assert make_content_digest(body) == "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
    assert content_digest_matches(make_content_digest(body), body)
    assert not content_digest_matches(make_content_digest(body), body + b" ")


def test_keys_saved_0600_reloaded_and_ids_stable(tmp_path: Path) -> None:
    keys = load_or_create_node_keys(tmp_path / "keys")
    for name in ("current.key", "next.key"):
        assert stat.S_IMODE(os.stat(tmp_path / "keys" / name).st_mode) == 0o600
    again = load_or_create_node_keys(tmp_path / "keys")
    assert again.current.key_id == keys.current.key_id != keys.next.key_id
    assert len(keys.current.key_id) == 22  # base64url of 16 bytes, unpadded
    published = encode_public_key(keys.current.public_key)
    assert key_id(decode_public_key(published)) == keys.current.key_id


def test_world_readable_key_file_is_refused(tmp_path: Path) -> None:
    keys = load_or_create_node_keys(tmp_path)
    os.chmod(tmp_path / "current.key", 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_private_key(tmp_path / "current.key")
    assert keys.current.key_id
