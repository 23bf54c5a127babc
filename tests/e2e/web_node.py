"""A node for the map's browser tests and benchmark: `c4hub serve` on loopback over a fresh
database, and Debian's chromium driven by Playwright (never a downloaded browser)."""

import json
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.fernet import Fernet
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, sync_playwright
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from hub.alerts.models import Alert
from hub.auth.service import create_token
from hub.imports.loader import CameraImportOptions, import_cameras
from hub.imports.organizations import OrganizationImportOptions, import_organizations
from hub.plates.store import store_read
from schemas.analytics import PlateRead
from schemas.enums import OrganizationKind, Role
from schemas.hotlists import AlertKind, Category
from tests.support import DATA, fresh_database, served_node

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TOKEN_KEY = "c4hub.token"  # where map.js keeps the token (sessionStorage)
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@dataclass
class MapNode:
    base_url: str
    database_url: str
    tokens: dict[str, str] = field(default_factory=dict)  # role -> token
    business_cameras: list[str] = field(default_factory=list)


@contextmanager
def node_over(load: Any) -> Iterator[MapNode]:
    """A served node on a fresh database that `load(database_url)` filled first; `load`
    returns the tokens to sign in with."""
    with fresh_database() as url, tempfile.TemporaryDirectory() as data_dir:
        tokens = load(url)
        with served_node(url, Path(data_dir), Fernet.generate_key().decode()) as base:
            yield MapNode(base_url=base, database_url=url, tokens=tokens)


def make_tokens(
    database_url: str, roles: dict[str, tuple[Role, uuid.UUID | None]]
) -> dict[str, str]:
    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            tokens = {name: create_token(session, role, org) for name, (role, org) in roles.items()}
            session.commit()
        return tokens
    finally:
        engine.dispose()


def load_gangnam(database_url: str) -> dict[str, str]:
    """Seoul's districts (with their areas) and Gangnam's 1,763 camera sites, as imported by
    `c4hub import organizations` and `c4hub import cameras`; admin, operator, planner tokens."""
    seoul = DATA / "seoul"
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            import_organizations(
                conn,
                seoul / "seoul_gu_2013.geojson",
                OrganizationImportOptions(kind=OrganizationKind.DISTRICT, name_property="name_eng"),
            )
            import_cameras(
                conn,
                seoul / "gangnam_cctv.csv",
                CameraImportOptions(
                    owner_column="mng_name", create_owners=OrganizationKind.DISTRICT
                ),
            )
    finally:
        engine.dispose()
    return make_tokens(
        database_url,
        {name: (Role(name), None) for name in ("admin", "operator", "planner")},
    )


# Three cameras of a shop in Gangnam, registered through the API with its own token: the
# business sees these and nothing else.
@dataclass(frozen=True)
class ShopCamera:
    name: str
    lon: float
    lat: float
    heading_deg: float


SHOP_CAMERAS = [
    ShopCamera("Shop door", 127.0276, 37.4979, 90.0),
    ShopCamera("Shop car park", 127.0281, 37.4982, 180.0),
    ShopCamera("Shop till", 127.0279, 37.4977, 270.0),
]


def add_shop(node: MapNode) -> None:
    admin = {"Authorization": f"Bearer {node.tokens['admin']}"}
    with httpx.Client(base_url=node.base_url, timeout=30) as client:
        made = client.post(
            "/api/v1/organizations",
            headers=admin,
            json={"slug": "gangnam-shop", "name": "Gangnam Shop", "kind": "private_business"},
        )
        made.raise_for_status()
        org_id = uuid.UUID(made.json()["id"])
        node.tokens["business"] = make_tokens(
            node.database_url, {"business": (Role.BUSINESS, org_id)}
        )["business"]
        business = {"Authorization": f"Bearer {node.tokens['business']}"}
        for camera in SHOP_CAMERAS:
            body = {
                "name": camera.name,
                "location": {"type": "Point", "coordinates": [camera.lon, camera.lat]},
                "heading_deg": camera.heading_deg,
                "fov_deg": 90.0,
                "range_m": 25.0,
                "purpose": "private_premises",
                "status": "online",
            }
            created = client.post("/api/v1/cameras", headers=business, json=body)
            created.raise_for_status()
            node.business_cameras.append(created.json()["id"])


def raise_alert(database_url: str, camera_id: str, plate: str) -> None:
    """A hotlist alert committed straight into the alerts table, as the plate pipeline
    commits one (the table's trigger notifies the live streams)."""
    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            session.add(
                Alert(
                    kind=AlertKind.HOTLIST_MATCH,
                    priority=1,
                    camera_id=uuid.UUID(camera_id),
                    read_id=uuid.uuid4(),
                    read_at=datetime.now(UTC),
                    plate=plate,
                    entry_plate=plate,
                    category=Category.WANTED,
                    reason="map test",
                )
            )
            session.commit()
    finally:
        engine.dispose()


def add_sightings(database_url: str, plate: str, camera_ids: list[str]) -> None:
    """Reads of one plate at each camera in turn, a minute apart, stored as the plate
    pipeline stores them."""
    start = datetime.now(UTC) - timedelta(minutes=len(camera_ids))
    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            for i, camera_id in enumerate(camera_ids):
                read = PlateRead(
                    id=uuid.uuid4(),
                    camera_id=uuid.UUID(camera_id),
                    read_at=start + timedelta(minutes=i),
                    plate=plate,
                    confidence=0.9,
                )
                assert store_read(session, read).stored
            session.commit()
    finally:
        engine.dispose()


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Visit:
    """A page and everything it did: each request's URL and the console's errors."""

    page: Page
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def foreign_requests(self) -> list[str]:
        """Requests to anywhere but 127.0.0.1 (data: URLs never reach a network)."""
        return [
            url
            for url in self.requests
            if not url.startswith("data:") and urlsplit(url).hostname != "127.0.0.1"
        ]

    def js(self, expression: str) -> Any:
        return self.page.evaluate(expression)

    def wait_true(self, expression: str, timeout_s: float = 30.0) -> None:
        """Polls the expression until it is truthy. Not page.wait_for_function: that evaluates
        its string with eval(), which the page's Content-Security-Policy refuses."""
        deadline = time.monotonic() + timeout_s
        while not self.js(expression):
            if time.monotonic() > deadline:
                raise AssertionError(f"still false after {timeout_s} s: {expression}")
            self.page.wait_for_timeout(50)


@contextmanager
def visit(browser: Browser, base_url: str, token: str | None = None) -> Iterator[Visit]:
    """A fresh browser context on the node's page, signed in with `token` through
    sessionStorage when given (as after a sign-in in the same tab)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    if token is not None:
        context.add_init_script(
            f"sessionStorage.setItem({json.dumps(TOKEN_KEY)}, {json.dumps(token)})"
        )
    page = context.new_page()
    seen = Visit(page)

    def on_request(request: Request) -> None:
        seen.requests.append(request.url)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            seen.errors.append(message.text)

    page.on("request", on_request)
    page.on("console", on_console)
    page.on("pageerror", lambda exc: seen.errors.append(f"page error: {exc}"))
    try:
        page.goto(base_url + "/")
        yield seen
    finally:
        context.close()


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path
