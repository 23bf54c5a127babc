"""The coverage-planning OGC API at /ogc/planning: through the API, then through GDAL."""

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from hub.auth.service import create_token
from hub.coverage import service
from hub.coverage.models import (
    DemandKind,
    DemandPoint,
    PlanningPlan,
    PlanningProposal,
    ProposalAction,
)
from hub.registry import organizations as org_service
from hub.registry.models import Camera, Organization
from hub.settings import Settings
from schemas.enums import AdapterKind, CameraPurpose, CameraStatus, OrganizationKind, Role
from schemas.organization import OrganizationCreate
from tests.integration.test_coverage_api import offset, square
from tests.support import fresh_database, live_node

Headers = dict[str, str]


@dataclass(frozen=True)
class Seeded:
    district: Organization
    shop: Organization
    plan_id: uuid.UUID


def _point(east: float, north: float) -> str:
    lon, lat = offset(east, north)
    return f"SRID=4326;POINT({lon} {lat})"


def seed(session: Session, settings: Settings) -> Seeded:
    """A district (200 m square) with one 30 m camera at its centre, a shop, three demand
    points (one seen), node-wide and shop coverages, and a plan of two proposals."""
    district = org_service.create_organization(
        session,
        OrganizationCreate.model_validate(
            {
                "slug": "gangnam-gu",
                "name": "Gangnam",
                "kind": "district",
                "jurisdiction": square(100),
            }
        ),
    )
    shop = org_service.create_organization(
        session,
        OrganizationCreate(slug="shop", name="Shop", kind=OrganizationKind.PRIVATE_BUSINESS),
    )
    session.add(
        Camera(
            owner_id=district.id,
            purpose=CameraPurpose.CRIME_PREVENTION,
            location=_point(0, 0),
            adapter=AdapterKind.NONE,
            status=CameraStatus.ONLINE,
        )
    )
    session.add_all(
        [
            DemandPoint(
                kind=DemandKind.STATION, name="seen", weight=2, geom=_point(0, 5), source="t"
            ),
            DemandPoint(
                kind=DemandKind.SCHOOL, name="unseen", weight=5, geom=_point(80, 80), source="t"
            ),
            DemandPoint(
                kind=DemandKind.MARKET, name="far", weight=1, geom=_point(900, 0), source="t"
            ),
        ]
    )
    session.flush()
    target = service.organization_target(session, "gangnam-gu", None)
    service.coverage(session, target, obstacles=False, scope=None, settings=settings)
    shop_area = service.geojson_target(session, square(100), settings)
    service.coverage(session, shop_area, obstacles=False, scope=shop.id, settings=settings)
    plan = PlanningPlan(params={"k": 2}, totals={})
    session.add(plan)
    session.flush()
    for rank, (east, north) in enumerate([(60, 60), (-60, 60)], start=1):
        session.add(
            PlanningProposal(
                plan_id=plan.id,
                rank=rank,
                action=ProposalAction.NEW,
                site=_point(east, north),
                range_m=30,
                gain_area_m2=2800.0 / rank,
                gain_demand=5.0 if rank == 1 else 0.0,
            )
        )
    session.flush()
    return Seeded(district, shop, plan.id)


def _get(client: TestClient, path: str, h: Headers, status: int = 200) -> Any:
    r = client.get(f"/ogc/planning{path}", headers=h)
    assert r.status_code == status, r.text
    return r.json()


def test_planning_collections_through_the_api(
    client: TestClient, session: Session, settings: Settings, auth: Callable[..., Headers]
) -> None:
    seeded = seed(session, settings)
    h = auth(Role.PLANNER)
    landing = _get(client, "", h)
    assert landing["title"] == "c4hub coverage planning"
    ids = [c["id"] for c in _get(client, "/collections", h)["collections"]]
    assert ids == ["coverage-gaps", "demand-points", "planning-proposals"]

    gaps = _get(client, "/collections/coverage-gaps/items", h)
    # only the node-wide coverage's gap: the shop's own is not shown to node-wide callers
    assert gaps["numberMatched"] == 1
    gap = gaps["features"][0]
    assert gap["geometry"]["type"] == "Polygon"
    assert gap["properties"]["organization"] == "gangnam-gu"
    assert gap["properties"]["obstacles"] is False
    assert 37_000 < gap["properties"]["area_m2"] < 37_300  # 40,000 minus a 30 m circle

    demand = _get(client, "/collections/demand-points/items", h)
    seen = {f["properties"]["name"]: f["properties"] for f in demand["features"]}
    assert {n: (p["covered"], p["cameras"], p["owners"]) for n, p in seen.items()} == {
        "seen": (True, 1, 1),
        "unseen": (False, 0, 0),
        "far": (False, 0, 0),
    }
    uncovered = _get(client, "/collections/demand-points/items?covered=false", h)
    assert {f["properties"]["name"] for f in uncovered["features"]} == {"unseen", "far"}
    schools = _get(client, "/collections/demand-points/items?kind=school", h)
    assert [f["properties"]["name"] for f in schools["features"]] == ["unseen"]

    proposals = _get(client, f"/collections/planning-proposals/items?plan_id={seeded.plan_id}", h)
    assert sorted(f["properties"]["rank"] for f in proposals["features"]) == [1, 2]
    assert _get(client, "/collections/planning-proposals/items?plan_id=nope", h)["features"] == []
    one = proposals["features"][0]
    assert _get(client, f"/collections/planning-proposals/items/{one['id']}", h)["id"] == one["id"]


def test_a_business_sees_only_its_own_gaps(
    client: TestClient, session: Session, settings: Settings, auth: Callable[..., Headers]
) -> None:
    seeded = seed(session, settings)
    h = auth(Role.BUSINESS, seeded.shop)
    gaps = _get(client, "/collections/coverage-gaps/items", h)
    assert gaps["numberMatched"] == 1
    assert gaps["features"][0]["properties"]["area_m2"] == pytest.approx(40_000, rel=0.005)
    assert _get(client, "/collections/demand-points/items", h)["numberMatched"] == 0
    assert _get(client, "/collections/planning-proposals/items", h)["numberMatched"] == 0
    _get(client, "/collections/coverage-gaps/items", {}, status=401)


# --- GDAL against a live node ------------------------------------------------------------------


@pytest.fixture(scope="module")
def planning_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    key = Fernet.generate_key().decode()
    with fresh_database() as url:
        settings = Settings(
            database_url=url, data_dir=tmp_path_factory.mktemp("planning"), secret_key=key
        )
        engine = create_engine(url)
        with Session(engine) as session:
            seed(session, settings)
            token = create_token(session, Role.ADMIN, None)
            session.commit()
        engine.dispose()
        with live_node(settings) as base:
            yield base, token


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="GDAL's ogrinfo missing")
def test_gdal_reads_the_planning_layers(planning_node: tuple[str, str], tmp_path: Path) -> None:
    base, token = planning_node
    env = {
        **os.environ,
        "GDAL_HTTP_TIMEOUT": "20",
        "GDAL_HTTP_HEADERS": f"Authorization: Bearer {token}",
    }
    command = ["ogrinfo", "-ro", "-al", "-so", f"OAPIF:{base}/ogc/planning"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    layers = re.findall(r"^Layer name: (\S+)$", done.stdout, re.MULTILINE)
    counts = [int(n) for n in re.findall(r"^Feature Count: (\d+)$", done.stdout, re.MULTILINE)]
    assert dict(zip(layers, counts, strict=True)) == {
        "coverage-gaps": 1,
        "demand-points": 3,
        "planning-proposals": 2,
    }
    types = re.findall(r"^Geometry: (.+)$", done.stdout, re.MULTILINE)
    assert types == ["Polygon", "Point", "Point"]
    # and ogr2ogr copies the uncovered demand into a GeoPackage, filter pushed to the server
    out = tmp_path / "uncovered.gpkg"
    copy = [
        "ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{base}/ogc/planning", "demand-points",
        "-where", "covered = 0",
    ]  # fmt: skip
    done = subprocess.run(copy, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    listed = subprocess.run(
        ["ogrinfo", "-ro", "-al", str(out)], capture_output=True, text=True, timeout=60
    )
    assert sorted(re.findall(r"^  name \(String\) = (\S+)$", listed.stdout, re.MULTILINE)) == [
        "far",
        "unseen",
    ]
