"""The fleet survey API on PostGIS: counts by every dimension, in an area, by caller."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.health.models import CameraHealth
from hub.planning.inputs import organization_area
from hub.planning.survey import survey
from hub.registry.models import Organization
from hub.registry.secrets import CredentialBox
from schemas.enums import CameraPurpose, CameraStatus, OrganizationKind, Role
from schemas.geo import Polygon
from tests.integration.test_planning_api import at, camera, square

Headers = dict[str, str]


def west_half() -> Polygon:
    ring = [at(-300, -300), at(0, -300), at(0, 300), at(-300, 300), at(-300, -300)]
    return Polygon(type="Polygon", coordinates=[[list(p) for p in ring]])


@pytest.fixture
def surveyed(
    session: Session, box: CredentialBox, make_org: Callable[..., Organization]
) -> dict[str, Any]:
    gu = make_org("test-gu", jurisdiction=Polygon.model_validate(square()))
    police = make_org("west-police", OrganizationKind.POLICE, jurisdiction=west_half())
    shop = make_org("shop", OrganizationKind.PRIVATE_BUSINESS)
    old = camera(
        session,
        box,
        gu,
        at(-100, 0),
        install_year=2010,
        units=3,
        purpose=CameraPurpose.CRIME_PREVENTION,
        status=CameraStatus.ONLINE,
    )
    camera(
        session,
        box,
        gu,
        at(100, 0),
        install_year=2020,
        ai_capable=True,
        purpose=CameraPurpose.PARKING_ENFORCEMENT,
    )
    camera(session, box, police, at(-50, 50), purpose=CameraPurpose.CRIME_PREVENTION)
    mine = camera(
        session, box, shop, at(50, -50), purpose=CameraPurpose.PRIVATE_PREMISES, install_year=2015
    )
    camera(session, box, gu, at(900, 900), install_year=2001)  # outside the area
    session.add(CameraHealth(camera_id=old.id, interval_s=60, next_check_at=datetime.now(UTC),
                             status=CameraStatus.DEGRADED))  # fmt: skip
    session.flush()
    return {"old": old, "shop": shop, "mine": mine}  # fmt: skip


def _counts(buckets: list[dict[str, Any]]) -> dict[str | None, tuple[int, int]]:
    return {b["key"]: (b["cameras"], b["units"]) for b in buckets}


def test_survey_counts_every_dimension_in_a_jurisdiction(
    client: TestClient, auth: Callable[..., Headers], surveyed: dict[str, Any]
) -> None:
    r = client.get(
        "/api/v1/survey?organization=test-gu&older_than_years=8", headers=auth(Role.PLANNER)
    )
    assert r.status_code == 200, r.text
    s = r.json()
    assert (s["cameras"], s["units"]) == (4, 6)
    assert _counts(s["by_owner"]) == {"test-gu": (2, 4), "west-police": (1, 1), "shop": (1, 1)}
    assert s["by_owner"][0]["label"] == "Test-Gu"
    assert _counts(s["by_owner_kind"]) == {
        "district": (2, 4), "police": (1, 1), "private_business": (1, 1)
    }  # fmt: skip
    assert _counts(s["by_purpose"])["crime_prevention"] == (2, 4)
    assert _counts(s["by_install_year"]) == {
        "2010": (1, 3), "2015": (1, 1), "2020": (1, 1), None: (1, 1)
    }  # fmt: skip
    year = datetime.now(UTC).year
    aging = s["older_than"]
    assert aging["years"] == 8 and aging["installed_before"] == year - 8
    assert aging["camera_ids"][0] == str(surveyed["old"].id)
    assert _counts(s["by_ai_capable"]) == {"false": (3, 5), "true": (1, 1)}
    assert _counts(s["by_status"]) == {"online": (1, 3), "unknown": (3, 3)}
    assert _counts(s["by_health"]) == {"degraded": (1, 3), "unchecked": (3, 3)}
    # test-gu's square holds all four; the police's west half holds the two west of centre.
    assert _counts(s["by_jurisdiction"]) == {"test-gu": (4, 6), "west-police": (2, 4)}


def test_survey_of_a_drawn_area_whole_node_and_a_business(
    client: TestClient, auth: Callable[..., Headers], surveyed: dict[str, Any]
) -> None:
    body = {"area": west_half().model_dump(), "older_than_years": 30}
    r = client.post("/api/v1/survey", headers=auth(Role.OPERATOR), json=body)
    assert r.status_code == 200, r.text
    assert r.json()["cameras"] == 2 and r.json()["older_than"]["cameras"] == 0
    everything = client.get("/api/v1/survey", headers=auth(Role.ADMIN)).json()
    assert everything["cameras"] == 5 and everything["area"] == "all cameras"
    own = client.get("/api/v1/survey", headers=auth(Role.BUSINESS, surveyed["shop"])).json()
    assert own["cameras"] == 1 and _counts(own["by_owner"]) == {"shop": (1, 1)}
    hidden = client.get(
        "/api/v1/survey?organization=test-gu", headers=auth(Role.BUSINESS, surveyed["shop"])
    )
    assert hidden.status_code == 404


def test_bad_survey_areas_are_problems(
    client: TestClient, auth: Callable[..., Headers], surveyed: dict[str, Any]
) -> None:
    h = auth(Role.PLANNER)
    assert client.get("/api/v1/survey?organization=nowhere", headers=h).status_code == 404
    r = client.get("/api/v1/survey?organization=shop", headers=h)  # no jurisdiction
    assert r.status_code == 422 and "no jurisdiction" in r.json()["detail"]
    line = {"type": "Polygon", "coordinates": [[[127, 37], [127.1, 37], [127, 37], [127, 37]]]}
    r = client.post("/api/v1/survey", headers=h, json={"area": line})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"


def test_an_area_with_no_cameras_counts_zero(session: Session, surveyed: dict[str, Any]) -> None:
    s = survey(session, organization_area(session, "test-gu", None), 5, surveyed["shop"].id)
    assert s.cameras == 1  # the shop's one camera in the square
    empty = survey(session, organization_area(session, "west-police", None), 5, surveyed["shop"].id)
    assert (empty.cameras, empty.units, empty.by_owner, empty.by_jurisdiction) == (0, 0, [], [])
    assert empty.older_than.cameras == 0
