"""Liveness and readiness: public, no token."""

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from hub.deps import SessionDep
from hub.errors import ProblemError, problem_responses

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: str


@router.get("/health", response_model=Health, responses=problem_responses(503))
def health(session: SessionDep) -> Health:
    try:
        session.execute(text("SELECT 1"))
    except Exception as exc:
        raise ProblemError(503, "unavailable", "Database unavailable", "Retry shortly.") from exc
    return Health(status="ok", database="ok")
