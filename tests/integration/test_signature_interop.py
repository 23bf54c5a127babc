"""Our RFC 9421 signatures against an independent implementation (npm http-message-signatures).

Node verifies a request signed by federation.signing, and signs one federation.signing
verifies. The npm package is installed once per run into a temporary copy of
tests/fixtures/interop (pinned in its package.json).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from federation.identity import SigningKey
from federation.signing import SignatureRejected, sign_request, verify_request

FIXTURE = Path(__file__).parent.parent / "fixtures" / "interop"
URL = "https://peer.example.org/federation/v1/inbox?since=42"
BODY = b'{"kind": "alert", "id": "e-1"}'
CT = {"Content-Type": "application/json"}

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="node and npm are needed to run the independent npm verifier",
)


@pytest.fixture(scope="module")
def interop_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("interop")
    for name in ("package.json", "interop.mjs"):
        shutil.copy(FIXTURE / name, work / name)
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund"], cwd=work, check=True, capture_output=True
    )
    return work


def run_node(work: Path, job: Mapping[str, object]) -> dict[str, object]:
    done = subprocess.run(
        ["node", "interop.mjs"],
        cwd=work,
        input=json.dumps(job),
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    answer: dict[str, object] = json.loads(done.stdout)
    return answer


def pem_public(key: SigningKey) -> str:
    return key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def node_verifies(work: Path, key: SigningKey, headers: dict[str, str], body: bytes) -> object:
    job = {
        "mode": "verify",
        "request": {"method": "POST", "url": URL, "headers": headers},
        "body_b64": base64.b64encode(body).decode(),
        "public_key_pem": pem_public(key),
    }
    return run_node(work, job)


def test_node_accepts_our_signed_request(interop_dir: Path) -> None:
    key = SigningKey.generate()
    headers = {**CT, **sign_request("POST", URL, CT, BODY, key)}
    assert node_verifies(interop_dir, key, headers, BODY) == {"ok": True, "digest_ok": True}


def test_node_rejects_our_request_signed_by_another_key(interop_dir: Path) -> None:
    key, other = SigningKey.generate(), SigningKey.generate()
    headers = {**CT, **sign_request("POST", URL, CT, BODY, other)}
    assert node_verifies(interop_dir, key, headers, BODY) == {"ok": False, "digest_ok": True}


class OneKey:
    def __init__(self, key_id: str, key: Ed25519PublicKey) -> None:
        self.key_id, self.key = key_id, key

    def public_key(self, key_id: str) -> Ed25519PublicKey | None:
        return self.key if key_id == self.key_id else None


class Nonces:
    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()

    def remember(self, key_id: str, nonce: str, expires_at: dt.datetime) -> bool:
        fresh = (key_id, nonce) not in self.seen
        self.seen.add((key_id, nonce))
        return fresh


def node_signed(work: Path, key: SigningKey) -> dict[str, str]:
    private_pem = key.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    job = {
        "mode": "sign",
        "request": {"method": "POST", "url": URL, "headers": CT},
        "body_b64": base64.b64encode(BODY).decode(),
        "private_key_pem": private_pem,
        "keyid": key.key_id,
        "nonce": "node-nonce-1",
    }
    headers = run_node(work, job)["headers"]
    assert isinstance(headers, dict)
    return {str(k): str(v) for k, v in headers.items()}


def test_we_accept_a_request_node_signed(interop_dir: Path) -> None:
    key = SigningKey.generate()
    headers = node_signed(interop_dir, key)
    keys, nonces = OneKey(key.key_id, key.public_key), Nonces()
    ok = verify_request("POST", URL, headers, BODY, keys=keys, nonces=nonces)
    assert ok.key_id == key.key_id and ok.nonce == "node-nonce-1"
    with pytest.raises(SignatureRejected) as caught:
        verify_request("POST", URL, headers, BODY + b" ", keys=keys, nonces=Nonces())
    assert caught.value.code == "digest_mismatch"
