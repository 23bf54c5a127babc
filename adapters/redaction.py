"""Keep credentials out of messages, logs and stored URIs.

Cameras are often addressed as `rtsp://admin:secret@10.0.0.5/...`, and several vendors put
passwords in query strings or paths (`snapshot.cgi?loginuse=admin&loginpas=secret`,
`rtsp://host/user=admin&password=secret&channel=1`). Client libraries repeat such URIs in
their exception text, so every message an adapter lets out goes through `redact`.
"""

import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit, urlunsplit

MASK = "***"

# Userinfo runs from "://" to the last "@" before the path, query, fragment or whitespace;
# a raw "/" cannot be part of it in a valid URI (it must be percent-encoded).
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^\s/?#]*@")
# name=value pairs whose value is a password, in a query string or a vendor path.
_PASSWORD_PARAM = re.compile(
    r"(?P<name>\b(?:password|passwd|pass|pwd|loginpas)=)[^&;/\s\"']*", re.IGNORECASE
)


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with URI userinfo, password parameters and the given secrets masked."""
    text = _USERINFO.sub(rf"\g<scheme>{MASK}@", text)
    text = _PASSWORD_PARAM.sub(rf"\g<name>{MASK}", text)
    # Longest first, so a secret containing another is masked whole.
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def split_userinfo(uri: str) -> tuple[str, str | None, str | None]:
    """(uri without userinfo, username, password), percent-decoding the credentials."""
    parts = urlsplit(uri)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at:
        return uri, None, None
    username, colon, password = userinfo.partition(":")
    clean = urlunsplit(parts._replace(netloc=hostport))
    return clean, unquote(username) or None, unquote(password) if colon else None
