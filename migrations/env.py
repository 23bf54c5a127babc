"""Alembic environment: online migrations only, URL from the caller or C4HUB_DATABASE_URL."""

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine

from hub.models import Base
from hub.settings import get_settings

config = context.config


def _url() -> str:
    url = config.attributes.get("url") or get_settings().database_url
    if not url:
        raise RuntimeError("set C4HUB_DATABASE_URL (or run through `c4hub db upgrade`)")
    return str(url)


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(_url())
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=Base.metadata,
        # GeoAlchemy2's helpers keep PostGIS's own tables out of autogenerate and render
        # Geometry columns; revisions use plain create_table/create_index (typed, same DDL).
        include_object=alembic_helpers.include_object,
        render_item=alembic_helpers.render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
