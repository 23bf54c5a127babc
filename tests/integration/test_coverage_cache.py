"""The coverage cache against committed data: the worker's recomputation, and an entry that is
replaced whole or left as it was."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from hub.coverage import service
from hub.coverage.models import CoverageCache, CoverageGap
from hub.coverage.tasks import refresh_all
from hub.registry import organizations as org_service
from hub.registry.models import Camera
from hub.settings import Settings
from schemas.enums import AdapterKind, CameraPurpose, CameraStatus, OrganizationKind
from schemas.organization import OrganizationCreate
from tests.integration.test_coverage_api import offset, square
from tests.support import fresh_database


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[tuple[sessionmaker[Session], Settings]]:
    with fresh_database() as url:
        engine = create_engine(url)
        factory = sessionmaker(engine, expire_on_commit=False)
        settings = Settings(database_url=url, data_dir=tmp_path, secret_key="x" * 44)
        with factory.begin() as session:
            org = org_service.create_organization(
                session,
                OrganizationCreate.model_validate(
                    {"slug": "gangnam-gu", "name": "Gangnam", "kind": OrganizationKind.DISTRICT}
                    | {"jurisdiction": square(100)}
                ),
            )
            lon, lat = offset(0, 0)
            session.add(
                Camera(
                    owner_id=org.id,
                    purpose=CameraPurpose.CRIME_PREVENTION,
                    location=f"SRID=4326;POINT({lon} {lat})",
                    adapter=AdapterKind.NONE,
                    status=CameraStatus.ONLINE,
                )
            )
        yield factory, settings
        engine.dispose()


def _compute(factory: sessionmaker[Session], settings: Settings) -> service.Outcome:
    with factory.begin() as session:
        target = service.organization_target(session, "gangnam-gu", None)
        return service.coverage(session, target, obstacles=False, scope=None, settings=settings)


def _covered(factory: sessionmaker[Session]) -> float:
    with factory() as session:
        result = session.scalars(select(CoverageCache.result)).one()
        return float(result["covered_m2"])


def test_the_worker_recomputes_what_changed_and_nothing_else(
    sessions: tuple[sessionmaker[Session], Settings],
) -> None:
    factory, settings = sessions
    first = _compute(factory, settings)
    assert not first.cached and _compute(factory, settings).cached
    assert refresh_all(factory) == 0  # nothing changed: nothing recomputed
    before = _covered(factory)

    with factory.begin() as session:  # the camera gets a range of 50 m instead of the default
        session.execute(update(Camera).values(range_m=50.0))
    assert refresh_all(factory) == 1
    assert _covered(factory) == pytest.approx(before * (50 / 30) ** 2, rel=1e-3)
    assert refresh_all(factory) == 0
    assert _compute(factory, settings).cached  # the request finds it current

    # a health check's status change does not make the cache stale
    with factory.begin() as session:
        session.execute(update(Camera).values(status=CameraStatus.OFFLINE))
    assert refresh_all(factory) == 0
    # decommissioning does
    with factory.begin() as session:
        session.execute(update(Camera).values(status=CameraStatus.DECOMMISSIONED))
    assert refresh_all(factory) == 1
    assert _covered(factory) == 0


WORK_TABLES = ("coverage_work_runs", "coverage_work_blocks", "coverage_work_cameras")


def _work_rows(factory: sessionmaker[Session]) -> dict[str, int]:
    """Rows left in the tables a computation shares with PostgreSQL's parallel workers."""
    with factory() as session:
        return {t: int(session.scalar(text(f"SELECT count(*) FROM {t}")) or 0) for t in WORK_TABLES}


def test_a_failed_recomputation_leaves_the_old_entry_whole(
    sessions: tuple[sessionmaker[Session], Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    factory, settings = sessions
    _compute(factory, settings)
    with factory() as session:
        old_id, old_version = session.execute(select(CoverageCache.id, CoverageCache.version)).one()
        old_gaps = session.scalar(select(func.count()).select_from(CoverageGap))
    with factory.begin() as session:
        session.execute(update(Camera).values(range_m=50.0))

    def broken(*args: object) -> None:
        raise RuntimeError("failed after the new gaps were written")

    monkeypatch.setattr(service, "summarize", broken)
    with pytest.raises(RuntimeError):
        refresh_all(factory)
    with factory() as session:
        rows = session.execute(select(CoverageCache.id, CoverageCache.version)).all()
        assert [tuple(r) for r in rows] == [(old_id, old_version)]
        assert session.scalar(select(func.count()).select_from(CoverageGap)) == old_gaps
    assert _work_rows(factory) == dict.fromkeys(WORK_TABLES, 0)
    monkeypatch.undo()
    assert refresh_all(factory) == 1
    with factory() as session:
        new_id = session.scalar(select(CoverageCache.id))
        assert isinstance(new_id, uuid.UUID) and new_id != old_id
        gap_caches = session.scalars(select(CoverageGap.cache_id).distinct()).all()
        assert gap_caches == [new_id]
    assert _work_rows(factory) == dict.fromkeys(WORK_TABLES, 0)
