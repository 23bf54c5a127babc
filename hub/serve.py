"""`c4hub serve`: migrate, then run uvicorn; with no database URL, inside an embedded cluster."""

import gc

import uvicorn

from hub.app import create_app
from hub.migrate import upgrade
from hub.settings import Settings


def run(settings: Settings, host: str, port: int) -> None:
    if settings.database_url:
        _serve(settings, host, port)
        return
    from hub.embedded import EmbeddedPostgres

    with EmbeddedPostgres(settings.data_dir / "postgres") as url:
        _serve(settings.model_copy(update={"database_url": url}), host, port)


def _serve(settings: Settings, host: str, port: int) -> None:
    assert settings.database_url
    upgrade(settings.database_url)
    app = create_app(settings)
    # Start-up objects (modules, schemas, compiled SQL) live as long as the process: keep them
    # out of the garbage collector's scans, which otherwise grow with every import.
    gc.freeze()
    uvicorn.run(app, host=host, port=port, log_level="info")
