"""Scalars taken as JSON declares them: no "3" for 3, no 0 for false, no NUL in stored text."""

from typing import Annotated

from pydantic import BeforeValidator, Field

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
