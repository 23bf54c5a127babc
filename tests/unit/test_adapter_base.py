import pytest

from adapters.base import (
    AdapterError,
    AuthenticationFailed,
    ConnectionRefused,
    NotSupported,
    ProtocolError,
    StreamNotFound,
    Target,
    Timeout,
    Unreachable,
    is_refused,
)
from adapters.redaction import redact, split_userinfo

SECRET = "s3cr3t-Pa55"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"cannot open rtsp://admin:{SECRET}@10.0.0.5:554/Streaming/101: 401",
            "cannot open rtsp://***@10.0.0.5:554/Streaming/101: 401",
        ),
        (f"GET http://admin:p@ss{SECRET}@cam.local/onvif", "GET http://***@cam.local/onvif"),
        (f"rtsps://{SECRET}@cam.local", "rtsps://***@cam.local"),
        (
            f"http://10.0.0.7/cgi-bin/snapshot.cgi?loginuse=admin&loginpas={SECRET}",
            "http://10.0.0.7/cgi-bin/snapshot.cgi?loginuse=admin&loginpas=***",
        ),
        (
            f"rtsp://10.0.0.8:554/user=admin&password={SECRET}&channel=1&stream=0.sdp",
            "rtsp://10.0.0.8:554/user=admin&password=***&channel=1&stream=0.sdp",
        ),
        (f"http://cam/snap.jpg?PWD={SECRET}", "http://cam/snap.jpg?PWD=***"),
    ],
)
def test_redact_masks_credentials_in_uris(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    ["rtsp://10.0.0.5:554/main", "write to ops@city.example", "http://cam/a?bypass=1"],
)
def test_redact_leaves_text_without_credentials_alone(text: str) -> None:
    assert redact(text) == text


def test_redact_masks_given_secrets_longest_first() -> None:
    text = f"login refused for password {SECRET}"
    assert redact(text, [None, "", "s3cr3t", SECRET]) == "login refused for password ***"


def test_split_userinfo_moves_decoded_credentials_out_of_the_uri() -> None:
    uri = "rtsp://ad%40min:p%3Ass@cam.local:554/live?x=1"
    assert split_userinfo(uri) == ("rtsp://cam.local:554/live?x=1", "ad@min", "p:ss")
    assert split_userinfo("rtsp://viewer@cam.local/") == ("rtsp://cam.local/", "viewer", None)
    assert split_userinfo("rtsp://cam.local/") == ("rtsp://cam.local/", None, None)


def test_target_repr_shows_no_credentials() -> None:
    target = Target(host="10.0.0.5", port=80, username="operator7", password=SECRET)
    assert SECRET not in repr(target) and "operator7" not in repr(target)
    assert SECRET not in str(target)
    assert target.has_credentials


def test_target_from_uri_takes_credentials_out_of_the_uri() -> None:
    target = Target.from_uri(f"rtsp://admin:{SECRET}@10.0.0.5:8554/main")
    assert target.uri == "rtsp://10.0.0.5:8554/main"
    assert (target.host, target.port) == ("10.0.0.5", 8554)
    assert (target.username, target.password) == ("admin", SECRET)


def test_target_from_uri_prefers_explicit_credentials_and_brackets_ipv6() -> None:
    target = Target.from_uri("http://old:old@[2001:db8::5]/onvif", username="u", password="p")
    assert (target.host, target.port, target.username, target.password) == (
        "[2001:db8::5]",
        None,
        "u",
        "p",
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"host": f"admin:{SECRET}@10.0.0.5"}, "host must be"),
        ({"host": "cam.local", "port": 0}, "port must be"),
        ({"host": "cam.local", "uri": f"rtsp://admin:{SECRET}@cam.local/"}, "credentials"),
        ({"host": "cam.local", "timeout_s": 0}, "timeout_s"),
        ({"host": "cam.local", "timeout_s": float("nan")}, "timeout_s"),
    ],
)
def test_target_rejects_bad_fields_without_echoing_them(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        Target(**fields)  # type: ignore[arg-type]
    assert SECRET not in str(caught.value)


def test_target_redact_masks_its_password_anywhere() -> None:
    target = Target(host="cam.local", username="admin", password=SECRET)
    assert target.redact(f"device said: bad password {SECRET}") == "device said: bad password ***"


def test_adapter_errors_have_distinct_machine_readable_codes() -> None:
    classes = [
        Unreachable,
        ConnectionRefused,
        AuthenticationFailed,
        NotSupported,
        ProtocolError,
        StreamNotFound,
        Timeout,
    ]
    assert [cls.code for cls in classes] == [
        "unreachable",
        "connection_refused",
        "authentication_failed",
        "not_supported",
        "protocol_error",
        "stream_not_found",
        "timeout",
    ]
    assert all(issubclass(cls, AdapterError) for cls in classes)
    assert Timeout.http_status == 504 and Unreachable.http_status == 502


def test_adapter_error_without_message_uses_its_title() -> None:
    error = ConnectionRefused()
    assert error.message == str(error) == "The camera's host refused the connection on that port"


def test_adapter_error_message_is_redacted() -> None:
    error = StreamNotFound(
        f"DESCRIBE rtsp://admin:{SECRET}@10.0.0.5/bad answered 404 (user admin, {SECRET})",
        secrets=[SECRET],
    )
    assert SECRET not in error.message and SECRET not in str(error)
    assert error.message == "DESCRIBE rtsp://***@10.0.0.5/bad answered 404 (user admin, ***)"


def test_with_userinfo_percent_encodes_the_credentials_and_secrets_cover_both_forms() -> None:
    target = Target(host="cam.local", username="op@x", password="pa:ss/w%rd")
    url = target.with_userinfo("rtsp://cam.local:554/main")
    assert url == "rtsp://op%40x:pa%3Ass%2Fw%25rd@cam.local:554/main"
    assert target.secrets == ("pa:ss/w%rd", "pa%3Ass%2Fw%25rd")
    assert Target(host="cam.local").with_userinfo("rtsp://cam.local/") == "rtsp://cam.local/"


def test_is_refused_follows_the_chain_of_causes() -> None:
    try:
        try:
            raise ConnectionRefusedError(111, "refused")
        except ConnectionRefusedError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        assert is_refused(outer)
    assert not is_refused(TimeoutError("slow"))
