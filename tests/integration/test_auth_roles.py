"""Tokens, roles and the business scope."""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hub.auth.models import ApiToken
from hub.auth.service import (
    authenticate,
    create_token,
    hash_token,
)
from hub.registry.models import Organization
from schemas.enums import Role

Headers = dict[str, str]


def _cam(org: Organization, lon: float = 127.0) -> dict[str, Any]:
    return {"owner_id": str(org.id), "location": {"type": "Point", "coordinates": [lon, 37.5]}}


def test_token_is_stored_hashed(session: Session) -> None:
    token = create_token(session, Role.PLANNER, None)
    rows = session.scalars(select(ApiToken)).all()
    assert [r.token_hash for r in rows] == [hash_token(token)]
    assert token not in rows[0].token_hash
    principal = authenticate(session, token)
    assert principal is not None and principal.role is Role.PLANNER
    assert authenticate(session, token + "x") is None


def test_business_token_needs_org(session: Session) -> None:
    with pytest.raises(ValueError, match="organization"):
        create_token(session, Role.BUSINESS, None)


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}]
)
def test_missing_or_bad_token_is_401(client: TestClient, headers: Headers) -> None:
    r = client.get("/api/v1/cameras", headers=headers)
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["www-authenticate"] == "Bearer"


def test_health_is_public(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok", "database": "ok"}


def test_planner_reads_but_cannot_write(
    client: TestClient, make_org: Callable[..., Organization], auth: Callable[..., Headers]
) -> None:
    org = make_org()
    planner = auth(Role.PLANNER)
    assert client.get("/api/v1/cameras", headers=planner).status_code == 200
    r = client.post("/api/v1/cameras", headers=planner, json=_cam(org))
    assert r.status_code == 403 and "planner" in r.json()["detail"]


def test_only_admin_manages_organizations(client: TestClient, auth: Callable[..., Headers]) -> None:
    body = {"slug": "acme", "name": "ACME", "kind": "private_business"}
    assert (
        client.post("/api/v1/organizations", headers=auth(Role.OPERATOR), json=body).status_code
        == 403
    )
    assert (
        client.post("/api/v1/organizations", headers=auth(Role.ADMIN), json=body).status_code == 201
    )
    r = client.post("/api/v1/organizations", headers=auth(Role.ADMIN), json=body)
    assert r.status_code == 409


def test_business_sees_and_edits_only_its_own(
    client: TestClient, make_org: Callable[..., Organization], auth: Callable[..., Headers]
) -> None:
    acme = make_org("acme", kind="private_business")
    city = make_org("city", kind="municipality")
    admin = auth(Role.ADMIN)
    theirs = client.post("/api/v1/cameras", headers=admin, json=_cam(city)).json()
    biz = auth(Role.BUSINESS, acme)

    mine = client.post("/api/v1/cameras", headers=biz, json={"location": _cam(acme)["location"]})
    assert mine.status_code == 201 and mine.json()["owner_id"] == str(acme.id)
    assert client.post("/api/v1/cameras", headers=biz, json=_cam(city)).status_code == 403

    listed = client.get("/api/v1/cameras", headers=biz).json()["items"]
    assert [c["id"] for c in listed] == [mine.json()["id"]]
    assert client.get(f"/api/v1/cameras/{theirs['id']}", headers=biz).status_code == 404
    assert (
        client.patch(f"/api/v1/cameras/{theirs['id']}", headers=biz, json={"units": 2}).status_code
        == 404
    )
    assert client.delete(f"/api/v1/cameras/{theirs['id']}", headers=biz).status_code == 404
    r = client.patch(
        f"/api/v1/cameras/{mine.json()['id']}", headers=biz, json={"owner_id": str(city.id)}
    )
    assert r.status_code == 403
    assert client.get("/api/v1/cameras/summary", headers=biz).json()["records"] == 1
    orgs = client.get("/api/v1/organizations", headers=biz).json()
    assert [o["slug"] for o in orgs] == ["acme"]
    assert client.get(f"/api/v1/organizations/{city.id}", headers=biz).status_code == 404


def test_admin_needs_owner_id(client: TestClient, auth: Callable[..., Headers]) -> None:
    r = client.post(
        "/api/v1/cameras",
        headers=auth(Role.ADMIN),
        json={"location": {"type": "Point", "coordinates": [127, 37]}},
    )
    assert r.status_code == 422 and "owner_id" in r.text


def test_a_recently_checked_token_is_answered_from_the_cache(
    client: TestClient, session: Session, auth: Callable[..., Headers]
) -> None:
    headers = auth(Role.PLANNER)
    assert client.get("/api/v1/cameras", headers=headers).status_code == 200
    session.execute(delete(ApiToken))  # gone from the database, still remembered for 30 s
    assert client.get("/api/v1/cameras", headers=headers).status_code == 200
    other = create_token(session, Role.PLANNER, None)  # a new token works at once
    assert (
        client.get("/api/v1/cameras", headers={"Authorization": f"Bearer {other}"}).status_code
        == 200
    )
    assert (
        client.get("/api/v1/cameras", headers={"Authorization": "Bearer c4h_nope"}).status_code
        == 401
    )
