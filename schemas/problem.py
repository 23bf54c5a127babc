"""RFC 9457 problem details."""

from pydantic import BaseModel, ConfigDict, Field


class InvalidParam(BaseModel):
    name: str
    reason: str


class Problem(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str = Field(description="URI reference that identifies the problem type")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str | None = None
    instance: str | None = None
    invalid_params: list[InvalidParam] | None = Field(
        default=None, description="Which inputs were rejected and why"
    )
