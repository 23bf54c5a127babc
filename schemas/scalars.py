"""Shared scalars: JSON types taken as declared (no "3" for 3, no 0 for false), no NUL in stored
text, and camera URIs without credentials."""

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema

# PostgreSQL text cannot hold NUL characters.
NO_NUL_PATTERN = r"^[^\x00]*$"


def _json_integer(value: object) -> object:
    """JSON Schema counts 1.0 as an integer; strings and booleans are not numbers."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a JSON integer")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("must be a whole number")
        return int(value)
    return value


Flag = Annotated[bool, Field(strict=True)]
# Put after the bounds: Annotated[int, Field(ge=…, le=…), JSON_INTEGER], so the schema shows them.
JSON_INTEGER = BeforeValidator(_json_integer)


# rtsp(s)/http(s) with a host name or IPv4 address; no user info: credentials travel apart.
# The path excludes spaces and control characters by explicit range: `\s` means different
# things to Python (Unicode, includes \x1c-\x1f) and to JSON Schema's ECMA regex dialect.
URI_PATTERN = r"^(rtsps?|https?)://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\x00-\x20\x7f]*)?$"


def _check_uri(value: str) -> str:
    if urlsplit(value).username is not None:
        raise ValueError("do not put credentials in the URI; send them in `credentials`")
    if not re.match(URI_PATTERN, value):
        raise ValueError("use rtsp://, rtsps://, http:// or https:// with a host name or IPv4")
    return value


# Checked in code for clear messages; the schema carries the same pattern for clients.
StreamUri = Annotated[
    str,
    Field(max_length=2000),
    AfterValidator(_check_uri),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": 2000,
            "pattern": URI_PATTERN,
            "examples": ["rtsp://10.0.0.5:554/main"],
        }
    ),
]
