"""`AnyAuth`: the snapshot (and VLC pre-check) login picks Digest or Basic from the camera's
challenge, never sends the password in clear when Digest is offered, and answers later
requests at once. httpx's MockTransport plays the camera; nothing leaves the process."""

import base64

import httpx
import pytest

from adapters.snapshot import AnyAuth

USER, PASSWORD = "viewer", "s3cret-Pw"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


def camera(challenges: list[str]) -> tuple[httpx.Client, list[str]]:
    """A client whose camera asks with `challenges` and accepts any Authorization header."""
    sent: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        header = request.headers.get("authorization", "")
        sent.append(header)
        if header:
            return httpx.Response(200, content=b"\xff\xd8")
        headers = [("WWW-Authenticate", c) for c in challenges]
        return httpx.Response(401, headers=headers)

    client = httpx.Client(transport=httpx.MockTransport(handle), auth=AnyAuth(USER, PASSWORD))
    return client, sent


def test_digest_is_chosen_when_the_camera_offers_both() -> None:
    client, sent = camera(['Basic realm="cam"', 'Digest realm="cam", nonce="n1", qop="auth"'])
    assert client.get("http://cam.local/snap.jpg").status_code == 200
    assert sent[-1].startswith("Digest ") and 'username="viewer"' in sent[-1]
    assert all(PASSWORD not in h and BASIC not in h for h in sent)


def test_basic_is_sent_when_it_is_the_only_scheme_and_then_at_once() -> None:
    client, sent = camera(['Basic realm="cam"'])
    client.get("http://cam.local/snap.jpg")
    assert sent == ["", BASIC]
    client.get("http://cam.local/snap.jpg")
    assert sent[2:] == [BASIC]  # the second request answers without a challenge


def test_later_digest_requests_reuse_the_challenge() -> None:
    client, sent = camera(['Digest realm="cam", nonce="n1", qop="auth"'])
    client.get("http://cam.local/snap.jpg")
    first_exchange = len(sent)
    client.get("http://cam.local/snap.jpg")
    assert len(sent) == first_exchange + 1 and sent[-1].startswith("Digest ")


@pytest.mark.parametrize("challenge", [None, 'Bearer realm="cam"'])
def test_no_credentials_go_out_without_a_known_challenge(challenge: str | None) -> None:
    client, sent = camera([challenge] if challenge else [])
    assert client.get("http://cam.local/snap.jpg").status_code == 401
    assert sent == [""]
