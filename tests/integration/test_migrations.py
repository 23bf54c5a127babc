"""All migrations apply to an empty database and leave the spatial indexes in place."""

from sqlalchemy import create_engine, text

from tests.support import fresh_database


def test_upgrade_from_empty_creates_gist_indexes() -> None:
    with fresh_database(migrate=True) as url:
        engine = create_engine(url)
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
            ).all()
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        engine.dispose()
    gist = {name for name, definition in rows if "USING gist" in definition}
    assert {
        "ix_cameras_location",
        "ix_cameras_location_geog",
        "ix_cameras_fov",
        "ix_organizations_jurisdiction",
    } <= gist
    assert version is not None
