"""Fixtures: one fresh PostGIS database per test session; each test rolled back at a savepoint."""

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.orm import Session

from hub.app import create_app
from hub.auth.service import create_token
from hub.deps import get_session
from hub.registry import organizations as org_service
from hub.registry.models import Organization
from hub.registry.secrets import CredentialBox
from hub.settings import Settings
from schemas.enums import OrganizationKind, Role
from schemas.organization import OrganizationCreate
from tests.support import DATA, fresh_database

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ.setdefault("YOLO_OFFLINE", "1")

TEST_KEY = Fernet.generate_key().decode()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA.is_dir():
        pytest.fail(f"shared data not found at {DATA}; set C4HUB_SHARED_DIR")
    return DATA


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with fresh_database() as url:
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = create_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    conn = engine.connect()
    outer = conn.begin()
    yield conn
    outer.rollback()
    conn.close()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    s = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield s
    s.close()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp_path, secret_key=TEST_KEY)


@pytest.fixture
def box() -> CredentialBox:
    return CredentialBox(TEST_KEY)


@pytest.fixture
def client(settings: Settings, engine: Engine, session: Session) -> Iterator[TestClient]:
    app = create_app(settings, engine)
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def make_org(session: Session) -> Callable[..., Organization]:
    def make(
        slug: str = "gangnam-gu", kind: OrganizationKind = OrganizationKind.DISTRICT, **extra: Any
    ) -> Organization:
        data = OrganizationCreate(
            slug=slug, name=extra.pop("name", slug.title()), kind=kind, **extra
        )
        return org_service.create_organization(session, data)

    return make


@pytest.fixture
def auth(session: Session) -> Callable[..., dict[str, str]]:
    """Headers carrying a fresh token of the given role (and organization for business)."""

    def headers(role: Role = Role.ADMIN, org: Organization | None = None) -> dict[str, str]:
        token = create_token(session, role, org.id if org else None)
        return {"Authorization": f"Bearer {token}"}

    return headers
