"""Camera credentials at rest: encrypted with the node's Fernet key, never returned or logged."""

import json
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken


@dataclass(frozen=True)
class PlainCredentials:
    username: str
    password: str

    def __repr__(self) -> str:  # keep passwords out of logs and tracebacks
        return f"PlainCredentials(username={self.username!r}, password='***')"


class CredentialBox:
    def __init__(self, key: str | bytes) -> None:
        self._fernet = Fernet(key)

    def seal(self, creds: PlainCredentials) -> bytes:
        payload = json.dumps({"u": creds.username, "p": creds.password}).encode()
        return self._fernet.encrypt(payload)

    def open(self, token: bytes) -> PlainCredentials:
        try:
            data = json.loads(self._fernet.decrypt(token))
        except InvalidToken as exc:
            raise ValueError("credentials were sealed with another key") from exc
        return PlainCredentials(username=data["u"], password=data["p"])
