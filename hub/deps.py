"""FastAPI dependencies shared by every router: the DB session and the caller."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from hub.auth.service import Principal, PrincipalCache, hash_token, lookup_principal
from hub.errors import Forbidden, Unauthorized
from hub.registry.secrets import CredentialBox
from hub.settings import Settings
from schemas.enums import Role

bearer = HTTPBearer(auto_error=False, description="API token from `c4hub token create`")


async def get_session(request: Request) -> AsyncIterator[Session]:
    # Opening a Session does no I/O, so it happens on the event loop; closing returns the
    # connection (a ROLLBACK), so it goes to a worker thread.
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
    finally:
        await run_in_threadpool(session.close)


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_box(request: Request) -> CredentialBox:
    box: CredentialBox = request.app.state.credential_box
    return box


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
BoxDep = Annotated[CredentialBox, Depends(get_box)]


async def get_principal(
    request: Request,
    session: SessionDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller. A recently checked token is answered on the event loop; otherwise the
    database is asked from a worker thread."""
    if creds is None or creds.scheme.lower() != "bearer":
        raise Unauthorized(
            "Send `Authorization: Bearer <token>`; create one with `c4hub token create`."
        )
    cache: PrincipalCache = request.app.state.principals
    token_hash = hash_token(creds.credentials)
    principal = cache.get(token_hash)
    if principal is None:
        principal = await run_in_threadpool(lookup_principal, session, token_hash)
        if principal is not None:
            cache.put(token_hash, principal)
    if principal is None:
        raise Unauthorized("The token is unknown or revoked.")
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]

WRITERS = frozenset({Role.ADMIN, Role.OPERATOR, Role.BUSINESS})


def require(principal: Principal, roles: frozenset[Role], action: str) -> None:
    if principal.role not in roles:
        allowed = ", ".join(sorted(r.value for r in roles))
        raise Forbidden(f"Role {principal.role.value} may not {action}; needs one of: {allowed}.")
